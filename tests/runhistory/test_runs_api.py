"""Runs API: list, filter, detail and replay over the real run-history stream, with tenancy."""

from __future__ import annotations

import json

import pytest

from tests.support.clients import client_for
from tests.support.runs import record_runs

pytestmark = pytest.mark.django_db(transaction=True)


def url(team, suffix=""):
    return f"/api/v1/projects/{team.project.pk}/runs/{suffix}"


def test_viewers_list_runs_newest_first_with_outcomes_and_outputs(js, new_team):
    team = new_team()
    record_runs(js, team.project.pk, [
        ("r1", [{"body": "a"}], [200], "delivered", {"summary": "one"}),
        ("r2", [{"body": "b"}, {"body": "c"}], [503, 200], "delivered", None),
        ("r3", [{"body": "d"}], [400], "dead-lettered", None),
        ("r4", [{"body": "e"}], [503], None, None),
    ])
    body = client_for(team.viewer).get(url(team)).json()
    assert [run["requestId"] for run in body["results"]] == ["r4", "r3", "r2", "r1"]
    runs = {run["requestId"]: run for run in body["results"]}
    assert runs["r1"]["firstOutput"] == {"summary": "one"} and runs["r1"]["status"] == "delivered"
    assert runs["r2"]["noOutput"] is True and [a["status"] for a in runs["r2"]["attempts"]] == [503, 200]
    assert runs["r3"]["status"] == "dead-lettered" and runs["r4"]["status"] == "retrying"
    assert "records" not in runs["r1"], "the list leaves the records to the detail"
    filtered = client_for(team.viewer).get(url(team, "?status=no-output")).json()["results"]
    assert [run["requestId"] for run in filtered] == ["r2"]
    assert client_for(team.viewer).get(url(team, "?status=bogus")).status_code == 400


def test_the_detail_shows_input_and_output_of_one_run(js, new_team):
    team = new_team()
    record_runs(js, team.project.pk, [("r1", [{"body": "a"}], [200], "delivered", {"summary": "one"})])
    run = client_for(team.viewer).get(url(team, "r1/")).json()
    assert run["records"] == [{"body": "a"}] and run["outputs"][0]["payload"] == {"summary": "one"}
    assert client_for(team.viewer).get(url(team, "nope/")).status_code == 404


def test_outsiders_get_404_and_runs_never_leak_across_projects(js, new_team):
    team, other = new_team(), new_team()
    record_runs(js, team.project.pk, [("r1", [{"body": "a"}], [200], "delivered", None)])
    assert client_for(team.outsider).get(url(team)).status_code == 404
    assert client_for(team.outsider).get(url(team, "r1/")).status_code == 404
    assert client_for(other.owner).get(url(other)).json()["results"] == []
    assert client_for(other.owner).get(url(other, "r1/")).status_code == 404


def test_admins_replay_a_run_into_the_raw_stream_and_viewers_cannot(js, new_team):
    team = new_team()
    records = [{"body": "a", "n": 1}, {"body": "b", "n": 2}]
    record_runs(js, team.project.pk, [("r1", records, [400], "dead-lettered", None)])
    assert client_for(team.viewer).post(url(team, "r1/replay/")).status_code == 403
    response = client_for(team.admin).post(url(team, "r1/replay/"))
    assert response.status_code == 200 and response.json() == {"replayed": 2}
    client_for(team.admin).post(url(team, "r1/replay/"))  # a double click replays once

    async def raw(jetstream):
        stream = f"gf-ai-raw-{team.project.pk}"
        info = await jetstream.stream_info(stream)
        return [json.loads((await jetstream.get_msg(stream, seq)).data)
                for seq in range(info.state.first_seq, info.state.last_seq + 1)] if info.state.messages else []

    assert js.run(raw) == records


def test_a_request_id_with_a_slash_is_reachable(js, new_team):
    team = new_team()
    record_runs(js, team.project.pk, [("agent/7", [{"body": "a"}], [200], "delivered", None)])
    assert client_for(team.viewer).get(url(team, "agent/7/")).json()["requestId"] == "agent/7"
    assert client_for(team.admin).post(url(team, "agent/7/replay/")).json() == {"replayed": 1}
