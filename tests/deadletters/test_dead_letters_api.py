"""Dead letters API: list, inspect, replay and discard entries of the real DLQ stream, with tenancy."""

from __future__ import annotations

import json

import pytest

from projects.streams import dlq_subject, raw_subject
from tests.support.clients import client_for
from tests.support.deadline import wait_for
from tests.support.sink_harness import Reply, add_sink, consumer_info, publish_output

pytestmark = pytest.mark.django_db(transaction=True)


def pipeline_entry(js, project_id, records, signal="logs", reason="transform failed") -> int:
    entry = {"id": f"e-{len(records)}", "projectId": str(project_id), "stage": "pipeline", "reason": reason,
             "attempts": 1, "lastError": "cannot convert", "failedAt": "2026-01-15T10:30:00Z", "requestId": "b1",
             "records": records, "subject": raw_subject(project_id, signal)}

    async def publish(jetstream):
        return (await jetstream.publish(dlq_subject(project_id, "pipeline"), json.dumps(entry).encode())).seq

    return js.run(publish)


def raw_messages(js, project_id):
    async def read(jetstream):
        info = await jetstream.stream_info(f"gf-ai-raw-{project_id}")
        messages = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages:
                msg = await jetstream.get_msg(f"gf-ai-raw-{project_id}", seq)
                messages.append((msg.subject, json.loads(msg.data), msg.headers))
        return messages

    return js.run(read)


def url(team, suffix=""):
    return f"/api/v1/projects/{team.project.pk}/deadletters/{suffix}"


def test_entries_are_listed_newest_first_with_their_sequence_and_pages(js, new_team):
    team = new_team()
    seqs = [pipeline_entry(js, team.project.pk, [{"body": f"r{i}"}]) for i in range(5)]
    viewer = client_for(team.viewer)
    body = viewer.get(url(team, "?limit=2")).json()
    assert [item["seq"] for item in body["results"]] == [seqs[4], seqs[3]]
    assert body["results"][0]["records"] == [{"body": "r4"}] and body["results"][0]["stage"] == "pipeline"
    rest = viewer.get(url(team, f"?limit=10&cursor={body['next_cursor']}")).json()
    assert [item["seq"] for item in rest["results"]] == [seqs[2], seqs[1], seqs[0]]
    assert rest["next_cursor"] is None
    assert viewer.get(url(team, "?stage=sink")).json() == {"results": [], "next_cursor": None}
    assert viewer.get(url(team, "?stage=nope")).status_code == 400
    assert viewer.get(url(team, "?limit=0")).status_code == 400


def test_one_entry_can_be_read_and_discarded(js, new_team):
    team = new_team()
    seq = pipeline_entry(js, team.project.pk, [{"body": "x"}])
    admin = client_for(team.admin)
    assert admin.get(url(team, f"{seq}/")).json()["reason"] == "transform failed"
    assert admin.delete(url(team, f"{seq}/")).status_code == 204
    assert admin.get(url(team, f"{seq}/")).status_code == 404
    assert admin.delete(url(team, f"{seq}/")).status_code == 404
    assert admin.get(url(team)).json()["results"] == []


def test_replaying_a_pipeline_entry_puts_each_record_back_into_its_raw_subject(js, new_team):
    team = new_team()
    records = [{"body": "a", "severityNumber": 17}, {"body": "b"}]
    seq = pipeline_entry(js, team.project.pk, records, signal="spans")
    response = client_for(team.admin).post(url(team, f"{seq}/replay/"))
    assert response.status_code == 200 and response.json() == {"replayed": 1, "messages": 2}
    replayed = raw_messages(js, team.project.pk)
    assert [(subject, data) for subject, data, _ in replayed] == [
        (raw_subject(team.project.pk, "spans"), records[0]), (raw_subject(team.project.pk, "spans"), records[1])]
    assert len({headers["Nats-Msg-Id"] for _, _, headers in replayed}) == 2
    assert client_for(team.admin).get(url(team)).json()["results"] == []


def test_replaying_a_sink_entry_delivers_it_again_to_that_sink_only(js, new_team, stub_servers, sink_worker):
    team = new_team()
    failing, other = stub_servers(), stub_servers()
    failing.default = Reply(400, b"invalid_payload")
    sink = add_sink(team, "alerts", "slack", {"webhook_url": failing.url()})
    bystander = add_sink(team, "archive", "webhook", {"url": other.url()})
    for each in (sink, bystander):
        wait_for(lambda each=each: consumer_info(js, team.project.pk, each["id"]), message="consumer")
    message = publish_output(js, team.project.pk, {"summary": "disk full"})
    admin = client_for(team.admin)
    (entry,) = wait_for(lambda: admin.get(url(team, "?stage=sink")).json()["results"], message="DLQ entry")
    wait_for(lambda: len(other.received()) == 1, message="the other sink got the original")
    failing.default = Reply(200)
    assert admin.post(url(team, f"{entry['seq']}/replay/")).json() == {"replayed": 1, "messages": 1}
    wait_for(lambda: len(failing.received()) == 2, message="replayed delivery")
    wait_for(lambda: consumer_info(js, team.project.pk, bystander["id"]).num_pending == 0
             and consumer_info(js, team.project.pk, bystander["id"]).num_ack_pending == 0,
             message="the other sink skipped the replay")
    assert "disk full" in failing.received()[-1].json()["text"]
    assert [r.json() for r in other.received()] == [message]
    assert client_for(team.admin).get(url(team)).json()["results"] == []


def test_a_sink_entry_of_a_deleted_sink_cannot_be_replayed(js, new_team):
    team = new_team()
    entry = {"id": "x", "projectId": str(team.project.pk), "stage": "sink", "sinkId": "0" * 32, "sinkName": "gone",
             "reason": "r", "attempts": 1, "lastError": "e", "failedAt": "t", "output": {"payload": 1},
             "subject": f"gf-ai-output.{team.project.pk}.out"}

    async def publish(jetstream):
        return (await jetstream.publish(dlq_subject(team.project.pk, "sink"), json.dumps(entry).encode())).seq

    seq = js.run(publish)
    response = client_for(team.admin).post(url(team, f"{seq}/replay/"))
    assert response.status_code == 409 and "no longer exists" in response.json()["detail"]
    assert client_for(team.admin).get(url(team, f"{seq}/")).status_code == 200


def test_bulk_replay_and_discard(js, new_team):
    team = new_team()
    seqs = [pipeline_entry(js, team.project.pk, [{"body": str(i)}]) for i in range(4)]
    admin = client_for(team.admin)
    response = admin.post(url(team, "replay/"), {"seqs": [seqs[0], 999_999]}, format="json")
    assert response.json() == {"done": 1, "failed": [{"seq": 999_999, "error": "no dead letter 999999 in this project"}]}
    assert admin.post(url(team, "discard/"), {"seqs": [seqs[1]]}, format="json").json() == {"done": 1, "failed": []}
    assert admin.post(url(team, "replay/"), {"all": True, "stage": "pipeline"}, format="json").json()["done"] == 2
    assert [data["body"] for _, data, _ in raw_messages(js, team.project.pk)] == ["0", "2", "3"]
    pipeline_entry(js, team.project.pk, [{"body": "again"}])
    assert admin.post(url(team, "discard/"), {"all": True}, format="json").json() == {"done": 1, "failed": []}
    assert admin.get(url(team)).json()["results"] == []
    assert admin.post(url(team, "discard/"), {}, format="json").status_code == 400
    assert admin.post(url(team, "discard/"), {"seqs": [1], "all": True}, format="json").status_code == 400


def test_tenancy_viewers_read_admins_act_outsiders_see_nothing(js, new_team):
    team = new_team()
    seq = pipeline_entry(js, team.project.pk, [{"body": "x"}])
    outsider, viewer = client_for(team.outsider), client_for(team.viewer)
    assert outsider.get(url(team)).status_code == 404
    assert outsider.get(url(team, f"{seq}/")).status_code == 404
    assert outsider.post(url(team, f"{seq}/replay/")).status_code == 404
    assert viewer.get(url(team, f"{seq}/")).status_code == 200
    assert viewer.post(url(team, f"{seq}/replay/")).status_code == 403
    assert viewer.delete(url(team, f"{seq}/")).status_code == 403
    assert viewer.post(url(team, "replay/"), {"all": True}, format="json").status_code == 403
    assert viewer.post(url(team, "discard/"), {"all": True}, format="json").status_code == 403
    assert viewer.get(url(team)).json()["results"][0]["seq"] == seq


def test_nats_unavailable_is_503_with_a_clear_message(settings):
    from glassflow_site.natsserver import free_port
    from projects.natsbridge import bridge
    from tests.support.factories import make_team

    team = make_team()
    settings.NATS_SERVERS = [f"nats://127.0.0.1:{free_port()}"]
    bridge.reset()
    response = client_for(team.viewer).get(url(team))
    assert response.status_code == 503 and "NATS is unreachable" in response.json()["detail"]
    assert client_for(team.viewer).get(f"/api/v1/projects/{team.project.pk}/stats/").status_code == 503
