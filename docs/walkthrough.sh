#!/usr/bin/env bash
# Walk through the whole product with curl: sign up, create a project, mint an API key,
# configure the pipeline (to the example agent that `make run` starts on :9000), add a webhook
# sink (to the example agent's webhook inbox), read the project's configuration document back
# (the same document the data plane reads from the gf-ai-config KV bucket), then send a test
# log over OTLP/HTTP and wait until the agent's output arrives at the webhook.
#
# Start the stack first (`make run`), then: bash docs/walkthrough.sh
# Needs curl and python3 (for reading JSON). Settings:
#   GLASSFLOW_URL     web app (default http://127.0.0.1:8000)
#   INTERNAL_TOKEN    service token of /internal/v1 (make run uses dev-internal-token)
#   RECEIVER_URL      OTLP/HTTP receiver (default http://127.0.0.1:4318)
#   AGENT_URL         the example agent (default http://127.0.0.1:9000)
set -euo pipefail
BASE="${GLASSFLOW_URL:-http://127.0.0.1:8000}"
INTERNAL_TOKEN="${INTERNAL_TOKEN:-dev-internal-token}"
RECEIVER="${RECEIVER_URL:-http://127.0.0.1:4318}"
AGENT="${AGENT_URL:-http://127.0.0.1:9000}"
EMAIL="${EMAIL:-walkthrough-$(date +%s)@example.com}"
PASSWORD="${PASSWORD:-a-long-walkthrough-password-42}"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -sS --fail-with-body -X "$1" "$BASE$2" -H "Content-Type: application/json" ${TOKEN:+-H "Authorization: Bearer $TOKEN"} -d "$3"; }

echo "1. Sign up as $EMAIL"
post POST /api/v1/auth/signup/ "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}" > /dev/null

echo "2. Log in (access + refresh token)"
TOKEN=$(post POST /api/v1/auth/login/ "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}" | json '["access"]')

echo "3. Create a project (its three JetStream streams are created with it)"
PROJECT=$(post POST /api/v1/projects/ '{"name": "checkout"}' | json '["id"]')
echo "   project id: $PROJECT"

echo "4. Mint an API key (the secret is shown only now)"
KEY=$(post POST "/api/v1/projects/$PROJECT/keys/" '{"name": "otel-collector"}' | json '["key"]')
echo "   key: $KEY"

echo "5. Configure the pipeline: only warnings and worse, add two fields, send to the example agent"
post PUT "/api/v1/projects/$PROJECT/pipeline/" '{
  "enabled": true,
  "filter": "severityNumber >= 13",
  "transforms": [
    {"expression": "resourceAttributes[\"service.name\"] ?? \"unknown\"", "output_name": "service", "output_type": "string"},
    {"expression": "upper(severityText)", "output_name": "level", "output_type": "string"}
  ],
  "agent_endpoint": "'"$AGENT"'/",
  "agent_headers": {"X-GlassFlow-Key": "'"$KEY"'"},
  "batch_size": 10, "batch_max_wait_ms": 1000, "signals": ["logs"]
}' | python3 -m json.tool

echo "6. Add a webhook sink (the example agent's inbox stands in for your service)"
post POST "/api/v1/projects/$PROJECT/sinks/" '{"name": "ops-webhook", "kind": "webhook",
  "config": {"url": "'"$AGENT"'/webhook", "method": "POST", "headers": {"X-Token": "s3cret"}}}' \
  | python3 -m json.tool

echo "7. Read the configuration document back (what the data plane sees; keys only as hashes)"
curl -sS --fail-with-body "$BASE/internal/v1/projects/$PROJECT/config" -H "Authorization: Bearer $INTERNAL_TOKEN" \
  | python3 -m json.tool

echo "8. Send a test log (OTLP/HTTP JSON): one ERROR that passes the filter, one INFO that does not"
NOW=$(date +%s)000000000
curl -sS --fail-with-body "$RECEIVER/v1/logs" -H "Content-Type: application/json" -H "X-API-Key: $KEY" -d '{
  "resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
    "scopeLogs": [{"scope": {"name": "walkthrough"}, "logRecords": [
      {"timeUnixNano": "'"$NOW"'", "severityNumber": 17, "severityText": "ERROR",
       "body": {"stringValue": "Connection refused: database pool exhausted"}},
      {"timeUnixNano": "'"$NOW"'", "severityNumber": 9, "severityText": "INFO",
       "body": {"stringValue": "request served"}}]}]}]}'
echo

echo "9. Wait for the agent's output to reach the webhook (watch it at $AGENT/webhook)"
for _ in $(seq 60); do
  FOUND=$(curl -sS "$AGENT/webhook" | python3 -c "import json,sys; d=json.load(sys.stdin)['deliveries']; \
print(next((json.dumps(x, indent=2) for x in d if x.get('projectId') == '$PROJECT'), ''))")
  if [ -n "$FOUND" ]; then echo "$FOUND"; exit 0; fi
  sleep 1
done
echo "no output arrived within 60 s: check the make run terminal and the project's Activity page" >&2
exit 1
