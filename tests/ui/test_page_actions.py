"""What the browser pages do, through Django's test client: projects, members, keys, pipeline, sinks."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from projects.masking import MASK
from projects.models import Membership, Project, Role
from sinks.models import Sink
from tests.support.clients import client_as
from tests.support.factories import PASSWORD, UserFactory
from tests.support.forms import pipeline_form

pytestmark = pytest.mark.django_db


def test_signup_shows_errors_next_to_the_fields_then_logs_in():
    client = Client()
    response = client.post(reverse("accounts:signup"), {"email": "new@example.com", "password": "short"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="id_password_helptext id_password_error"' in html and 'id="id_password_error"' in html
    response = client.post(reverse("accounts:signup"), {"email": "not-an-email", "password": PASSWORD})
    assert 'id="id_email_error"' in response.content.decode()
    response = client.post(reverse("accounts:signup"), {"email": "new@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("projects:list")).status_code == 200


def test_password_change_needs_the_old_password():
    user = UserFactory()
    client = client_as(user)
    url = reverse("accounts:password_change")
    response = client.post(url, {"old_password": "wrong", "new_password1": "an0ther-long-passphrase",
                                 "new_password2": "an0ther-long-passphrase"})
    assert response.status_code == 400 and 'id="id_old_password_error"' in response.content.decode()
    response = client.post(url, {"old_password": PASSWORD, "new_password1": "an0ther-long-passphrase",
                                 "new_password2": "an0ther-long-passphrase"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("an0ther-long-passphrase")


def test_create_project_with_htmx_redirects_with_hx_redirect():
    user = UserFactory()
    client = client_as(user)
    response = client.post(reverse("projects:list"), {"name": "  "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert "<html" not in response.content.decode()  # the fragment only
    assert "HX-Request" in response["Vary"]
    response = client.post(reverse("projects:list"), {"name": "checkout"}, HTTP_HX_REQUEST="true")
    project = Project.objects.get(name="checkout")
    assert response["HX-Redirect"] == reverse("projects:detail", args=[project.pk])


def test_delete_needs_the_exact_project_name(team):
    client = client_as(team.owner)
    url = reverse("projects:delete", args=[team.project.pk])
    response = client.post(url, {"confirm": "nope"})
    assert response.status_code == 400 and f"Type {team.project.name} exactly" in response.content.decode()
    assert client.post(url, {"confirm": team.project.name}).status_code == 302
    assert not Project.objects.filter(pk=team.project.pk).exists()


def test_members_invite_change_role_and_last_owner_protection(team):
    client = client_as(team.owner)
    pid = team.project.pk
    response = client.post(reverse("projects:members", args=[pid]), {"email": "nobody@example.com", "role": "viewer"})
    assert response.status_code == 400 and "ask them to sign up first" in response.content.decode()
    assert client.post(reverse("projects:members", args=[pid]),
                       {"email": team.outsider.email.upper(), "role": "admin"}).status_code == 302
    assert Membership.objects.get(project=team.project, user=team.outsider).role == Role.ADMIN
    response = client.post(reverse("projects:member_role", args=[pid, team.owner.pk]), {"role": "viewer"})
    assert response.status_code == 400 and "at least one owner" in response.content.decode()
    assert client.post(reverse("projects:member_remove", args=[pid, team.viewer.pk])).status_code == 302
    assert not Membership.objects.filter(project=team.project, user=team.viewer).exists()


def test_new_key_secret_is_shown_once_with_the_otlp_snippet(team):
    client = client_as(team.admin)
    url = reverse("projects:keys", args=[team.project.pk])
    response = client.post(url, {"name": "checkout prod"})
    html = response.content.decode()
    key = team.project.api_keys.get()
    assert response["Cache-Control"] == "no-store"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://testserver:4318" in html
    # Both protocols, each with its port and the protocol variable that selects it.
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in html and "OTEL_EXPORTER_OTLP_PROTOCOL=grpc" in html
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://testserver:4317" in html
    secret = html.split("x-api-key=", 1)[1].split("\n", 1)[0]
    assert secret.startswith(key.prefix)
    assert secret not in client.get(url).content.decode()
    assert client.post(reverse("projects:key_revoke", args=[team.project.pk, key.pk])).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_pipeline_save_reports_the_filter_error_with_its_position_and_keeps_input(team):
    client = client_as(team.admin)
    url = reverse("pipelines:edit", args=[team.project.pk])
    response = client.post(url, pipeline_form(filter="severityNumber >= "))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="expr-error"' in html and "(1:" in html and "severityNumber &gt;= " in html
    team.project.pipeline.refresh_from_db()
    assert team.project.pipeline.filter == ""


def test_pipeline_rows_can_be_added_moved_and_removed_without_saving(team):
    client = client_as(team.admin)
    url = reverse("pipelines:edit", args=[team.project.pk])
    rows = {"t-count": "2", "t-0-expression": "1", "t-0-output_name": "a", "t-0-output_type": "int",
            "t-1-expression": "2", "t-1-output_name": "b", "t-1-output_type": "int"}
    html = client.post(url, pipeline_form(action="up:1", **rows)).content.decode()
    assert html.index('value="b"') < html.index('value="a"')
    html = client.post(url, pipeline_form(action="add-transform", **rows)).content.decode()
    assert 'name="t-2-expression"' in html
    html = client.post(url, pipeline_form(action="remove-transform:0", **rows)).content.decode()
    assert 'value="a"' not in html and 'value="b"' in html
    assert team.project.pipeline.transforms == []


def test_pipeline_saves_and_masks_agent_headers_keeping_them_on_resave(team):
    client = client_as(team.admin)
    url = reverse("pipelines:edit", args=[team.project.pk])
    data = pipeline_form(filter="severityNumber >= 17", enabled="on", agent_endpoint="http://127.0.0.1:9/agent",
                         **{"t-count": "1", "t-0-expression": "upper(severityText)", "t-0-output_name": "level",
                            "t-0-output_type": "string", "h-count": "1", "h-0-name": "Authorization",
                            "h-0-value": "Bearer agent-secret"})
    assert client.post(url, data).status_code == 302
    pipeline = team.project.pipeline
    pipeline.refresh_from_db()
    assert pipeline.enabled and pipeline.agent_headers == {"Authorization": "Bearer agent-secret"}
    assert pipeline.transforms == [{"expression": "upper(severityText)", "output_name": "level",
                                    "output_type": "string"}]
    html = client.get(url).content.decode()
    assert "agent-secret" not in html and MASK in html
    assert client.post(url, {**data, "h-0-value": MASK, "filter": "true"}).status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.agent_headers == {"Authorization": "Bearer agent-secret"} and pipeline.filter == "true"


def test_expression_check_shows_the_error_position_or_ok(team):
    client = client_as(team.viewer)
    url = reverse("pipelines:check", args=[team.project.pk])
    bad = client.post(url, {"field": "filter", "filter": "body contains"}, HTTP_HX_REQUEST="true").content.decode()
    assert "expr-error" in bad and "^" in bad
    not_bool = client.post(url, {"field": "filter", "filter": '"a" + "b"'}).content.decode()
    assert "expr-error" in not_bool
    good = client.post(url, {"field": "t-0-expression", "t-0-expression": "severityNumber + 1"}).content.decode()
    assert "compiles" in good


def test_playground_shows_passed_dropped_and_transformed_output(team):
    client = client_as(team.admin)
    records = [{"severityNumber": 17, "severityText": "error", "body": "db down"},
               {"severityNumber": 9, "severityText": "info", "body": "ok"}]
    data = pipeline_form(filter="severityNumber >= 17", records=json.dumps(records),
                         **{"t-count": "1", "t-0-expression": "upper(severityText)", "t-0-output_name": "level",
                            "t-0-output_type": "string"})
    html = client.post(reverse("pipelines:try", args=[team.project.pk]), data, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="passed"' in html and 'data-status="dropped"' in html
    assert "&quot;level&quot;: &quot;ERROR&quot;" in html
    bad = client.post(reverse("pipelines:try", args=[team.project.pk]), {**data, "records": "[1,"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert "not valid JSON" in bad


def test_sinks_create_mask_toggle_and_delete(team):
    client = client_as(team.admin)
    pid = team.project.pk
    response = client.post(reverse("sinks:create", args=[pid, "webhook"]),
                           {"action": "save", "name": "hook", "url": "ftp://x", "method": "POST", "h-count": "0"})
    assert response.status_code == 400 and "http" in response.content.decode()
    assert client.post(reverse("sinks:create", args=[pid, "slack"]),
                       {"action": "save", "name": "alerts", "enabled": "on",
                        "webhook_url": "http://127.0.0.1:9/services/T000/B000/XXXX"}).status_code == 302
    sink = Sink.objects.get(project=team.project, name="alerts")
    html = client.get(reverse("sinks:list", args=[pid])).content.decode()
    assert "XXXX" not in html and "alerts" in html
    edit = client.get(reverse("sinks:edit", args=[pid, sink.pk])).content.decode()
    assert "XXXX" not in edit and MASK in edit
    masked = f"http://127.0.0.1:9/{MASK}"
    assert client.post(reverse("sinks:edit", args=[pid, sink.pk]),
                       {"action": "save", "name": "alerts-2", "enabled": "on", "webhook_url": masked}).status_code == 302
    sink.refresh_from_db()
    assert sink.name == "alerts-2" and sink.config["webhook_url"].endswith("/XXXX")
    client.post(reverse("sinks:toggle", args=[pid, sink.pk]))
    sink.refresh_from_db()
    assert not sink.enabled
    client.post(reverse("sinks:delete", args=[pid, sink.pk]))
    assert not Sink.objects.filter(pk=sink.pk).exists()


def test_send_test_message_shows_the_failure_inline(team):
    sink = Sink.objects.create(project=team.project, name="closed", kind="webhook",
                               config={"url": "http://127.0.0.1:9/hook", "method": "POST", "headers": {}})
    html = client_as(team.admin).post(reverse("sinks:test", args=[team.project.pk, sink.pk]),
                                      HTTP_HX_REQUEST="true").content.decode()
    assert "Test failed" in html


def test_viewers_playground_runs_the_saved_pipeline(team):
    pipeline = team.project.pipeline
    pipeline.filter = "severityNumber >= 17"
    pipeline.save()
    records = json.dumps([{"severityNumber": 17}, {"severityNumber": 1}])
    html = client_as(team.viewer).post(reverse("pipelines:try", args=[team.project.pk]),
                                       pipeline_form(filter="true", records=records),
                                       HTTP_HX_REQUEST="true").content.decode()
    assert html.count('data-status="passed"') == 1 and html.count('data-status="dropped"') == 1


def test_recent_records_fill_the_playground_and_count_in_the_health_line(team, js):
    from projects.configsync import stream_limits
    from projects.natsops import ensure_streams
    from projects.streams import raw_subject

    async def publish(jetstream):
        await ensure_streams(jetstream, team.project.pk, stream_limits())
        for index in range(25):
            await jetstream.publish(raw_subject(team.project.pk, "logs"), json.dumps({"body": f"r{index}"}).encode())

    js.run(publish)
    client = client_as(team.viewer)
    html = client.post(reverse("pipelines:recent", args=[team.project.pk]), pipeline_form(),
                       HTTP_HX_REQUEST="true").content.decode()
    assert "Loaded the 20 most recent records" in html
    assert "r24" in html and "r5" in html and "r4&quot;" not in html
    listing = client.get(reverse("projects:list")).content.decode()
    assert "25 records in the last hour" in listing


def put_dead_letters(js, pid, entries: list[dict]):
    """The project's streams with ``entries`` in its DLQ; returns a reader of (raw, DLQ) message counts."""
    from projects.configsync import stream_limits
    from projects.natsops import ensure_streams
    from projects.streams import dlq_stream, dlq_subject, raw_stream

    async def setup(jetstream):
        await ensure_streams(jetstream, pid, stream_limits())
        for entry in entries:
            await jetstream.publish(dlq_subject(pid, entry["stage"]), json.dumps(entry).encode())

    async def counts(jetstream):
        return ((await jetstream.stream_info(raw_stream(pid))).state.messages,
                (await jetstream.stream_info(dlq_stream(pid))).state.messages)

    js.run(setup)
    return lambda: js.run(counts)


def pipeline_dead_letter(pid) -> dict:
    from projects.streams import raw_subject

    return {"stage": "pipeline", "reason": "agent answered 400 Bad Request", "attempts": 1,
            "lastError": "400 Bad Request", "failedAt": "2026-01-01T00:00:00Z",
            "records": [{"body": "lost"}], "subject": raw_subject(pid, "logs")}


def test_dead_letters_are_listed_replayed_and_discarded(team, js):
    pid = team.project.pk
    counts = put_dead_letters(js, pid, [pipeline_dead_letter(pid)] * 2)
    client = client_as(team.admin)
    html = client.get(reverse("projects:deadletters", args=[pid])).content.decode()
    assert "agent answered 400 Bad Request" in html and html.count('name="seq"') == 2
    payload = client.get(reverse("projects:deadletter", args=[pid, 1])).content.decode()
    assert "&quot;lost&quot;" in payload
    action = reverse("projects:deadletters_action", args=[pid])
    assert client.post(action, {"action": "replay", "seq": ["1"]}).status_code == 302
    assert counts() == (1, 1)
    client.post(action, {"action": "discard", "seq": ["2"]})
    assert counts() == (1, 0)
    assert client.get(reverse("projects:deadletter", args=[pid, 2])).status_code == 404


def test_replay_all_and_discard_all_act_on_every_dead_letter_of_the_stage(team, js):
    pid = team.project.pk
    gone_sink = {"stage": "sink", "sinkId": "0" * 32, "sinkName": "gone", "reason": "r", "attempts": 1,
                 "output": {"payload": 1}}
    counts = put_dead_letters(js, pid, [pipeline_dead_letter(pid)] * 3 + [gone_sink])
    client = client_as(team.admin)
    action = reverse("projects:deadletters_action", args=[pid])
    page = client.post(action, {"action": "replay-all", "stage": "pipeline"}, follow=True).content.decode()
    assert "3 dead letters replayed." in page and counts() == (3, 1)
    page = client.post(action, {"action": "replay-all"}, follow=True).content.decode()
    assert "0 dead letters replayed." in page and "Not replayed: #4: the sink of this entry no longer exists" in page
    assert counts() == (3, 1)
    page = client.post(action, {"action": "discard-all"}, follow=True).content.decode()
    assert "1 dead letter discarded." in page and counts() == (3, 0)
