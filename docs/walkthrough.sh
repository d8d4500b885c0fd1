#!/usr/bin/env bash
# Walk through the control-plane API with curl: sign up, create a project, mint an API key,
# configure the pipeline, add a webhook sink, and read the project's configuration document
# back (the same document the data plane reads from the gf-ai-config KV bucket).
#
# Start the stack first (`make run`), then: bash docs/walkthrough.sh
# Needs curl and python3 (for reading JSON). Settings:
#   GLASSFLOW_URL     web app (default http://127.0.0.1:8000)
#   INTERNAL_TOKEN    service token of /internal/v1 (make run uses dev-internal-token)
set -euo pipefail
BASE="${GLASSFLOW_URL:-http://127.0.0.1:8000}"
INTERNAL_TOKEN="${INTERNAL_TOKEN:-dev-internal-token}"
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

echo "5. Configure the pipeline: only errors, add two fields, send to a local agent"
post PUT "/api/v1/projects/$PROJECT/pipeline/" '{
  "enabled": true,
  "filter": "severityNumber >= 17",
  "transforms": [
    {"expression": "resourceAttributes[\"service.name\"] ?? \"unknown\"", "output_name": "service", "output_type": "string"},
    {"expression": "upper(severityText)", "output_name": "level", "output_type": "string"}
  ],
  "agent_endpoint": "http://127.0.0.1:9000/",
  "agent_headers": {"Authorization": "Bearer my-agent-token"},
  "batch_size": 10, "batch_max_wait_ms": 1000, "signals": ["logs"]
}' | python3 -m json.tool

echo "6. Add a webhook sink"
post POST "/api/v1/projects/$PROJECT/sinks/" '{"name": "ops-webhook", "kind": "webhook",
  "config": {"url": "http://127.0.0.1:9100/hook", "method": "POST", "headers": {"X-Token": "s3cret"}}}' \
  | python3 -m json.tool

echo "7. Read the configuration document back (what the data plane sees; keys only as hashes)"
curl -sS --fail-with-body "$BASE/internal/v1/projects/$PROJECT/config" -H "Authorization: Bearer $INTERNAL_TOKEN" \
  | python3 -m json.tool

echo
echo "Send OTLP logs with:  X-API-Key: $KEY  to http://127.0.0.1:4318/v1/logs"
