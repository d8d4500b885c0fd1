"""Dead-letter entries of the sink stage, and what a replay of an entry publishes (pure, no I/O)."""

from __future__ import annotations

import json

import pytest

from deadletters.entries import REPLAY_SINK_HEADER, encode_dead_letter, sink_dead_letter
from deadletters.store import ReplayError, replay_messages

PID = "3f1c1f9e-0000-4000-8000-000000000001"


def entry(output):
    return sink_dead_letter(project_id=PID, sink={"id": "s1", "name": "alerts"}, reason="r", attempts=2,
                            last_error="e", output=output, subject=f"gf-ai-output.{PID}.out")


def test_an_entry_has_the_documented_shape():
    made = entry({"payload": 1})
    assert set(made) == {"id", "projectId", "stage", "sinkId", "sinkName", "reason", "attempts", "lastError",
                         "failedAt", "output", "subject"}
    assert made["stage"] == "sink" and made["failedAt"].endswith("Z")


def test_an_entry_too_large_for_nats_keeps_its_output_as_cut_text():
    output = {"payload": {"text": "x" * 200_000}}
    small = json.loads(encode_dead_letter(entry(output), 100_000))
    assert small["truncated"] is True and isinstance(small["output"], str) and len(small["output"]) < 100_000
    assert json.loads(encode_dead_letter(entry(output), 1_000_000))["output"] == output


def test_a_sink_replay_targets_its_sink_on_the_output_subject():
    ((subject, data, headers),) = replay_messages(PID, {**entry({"payload": 1}), "seq": 7})
    assert subject == f"gf-ai-output.{PID}.out" and json.loads(data) == {"payload": 1}
    assert headers == {"Nats-Msg-Id": f"replay-{PID}-7", REPLAY_SINK_HEADER: "s1"}


def test_a_pipeline_replay_puts_back_each_record_and_text_records_as_they_were():
    pipeline = {"seq": 3, "stage": "pipeline", "records": [{"a": 1}, "not json"],
                "subject": f"gf-ai-raw.{PID}.metrics"}
    messages = replay_messages(PID, pipeline)
    assert [(s, d) for s, d, _ in messages] == [(f"gf-ai-raw.{PID}.metrics", b'{"a":1}'),
                                                (f"gf-ai-raw.{PID}.metrics", b"not json")]
    assert [h["Nats-Msg-Id"] for _, _, h in messages] == [f"replay-{PID}-3-0", f"replay-{PID}-3-1"]


@pytest.mark.parametrize("bad,words", [
    ({"stage": "pipeline", "records": [{}], "subject": "gf-ai-raw.other-project.in"}, "not a raw subject"),
    ({"stage": "pipeline", "records": [], "subject": f"gf-ai-raw.{PID}.in"}, "no records"),
    ({"stage": "sink", "output": {"a": 1}, "sinkId": "s", "truncated": True}, "truncated"),
    ({"stage": "sink", "output": None, "sinkId": "s"}, "no output"),
    ({"stage": "other"}, "unknown stage"),
])
def test_entries_that_cannot_be_replayed_say_why(bad, words):
    with pytest.raises(ReplayError, match=words):
        replay_messages(PID, {**bad, "seq": 1})
