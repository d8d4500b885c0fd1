"""Slack message formatting: a table of payloads and the text Slack shows, and the size limit."""

from __future__ import annotations

import json

import pytest

from sinks.kinds.slack import MAX_TEXT, build_slack_body, build_slack_text

FOOTER = "_GlassFlow · request r1 · received 2026-01-15T10:30:02.120Z_"


def message(payload):
    return {"projectId": "p", "requestId": "r1", "receivedAt": "2026-01-15T10:30:02.120Z", "payload": payload}


@pytest.mark.parametrize("payload,expected", [
    ({"summary": "db pool exhausted", "severity": "critical", "root_cause": "leak", "remediation": "restart"},
     "*Summary:* db pool exhausted\n:red_circle: *Severity:* critical\n*Root cause:* leak\n*Remediation:* restart"),
    ({"severity": "WARNING"}, ":large_yellow_circle: *Severity:* WARNING"),
    ({"severity": "info"}, ":large_blue_circle: *Severity:* info"),
    ({"severity": "meh"}, ":white_circle: *Severity:* meh"),
    ({"summary": "a <b> & c"}, "*Summary:* a &lt;b&gt; &amp; c"),
    ({"summary": "x", "service": "api"}, '*Summary:* x\n```\n{\n  "service": "api"\n}\n```'),
    ({"summary": "", "root_cause": None, "count": 3}, '```\n{\n  "count": 3\n}\n```'),
    ({"summary": {"nested": True}}, '*Summary:* {"nested": true}'),
    ("just a string", "just a string"),
    ([1, 2], "```\n[\n  1,\n  2\n]\n```"),
    (None, "_(empty output)_"),
    ({}, "_(empty output)_"),
    ({"note": "has ``` fence"}, '```\n{\n  "note": "has `\u200b`` fence"\n}\n```'),
])
def test_payloads_become_readable_slack_text(payload, expected):
    assert build_slack_text(message(payload)) == f"{expected}\n{FOOTER}"


def test_the_footer_leaves_out_what_is_missing():
    assert build_slack_text({"payload": "hi"}) == "hi\n_GlassFlow_"


def test_a_huge_payload_is_cut_below_slacks_limit_and_says_so():
    payload = {"summary": "s" * 10_000, "logs": ["line " * 50] * 2_000}
    text = build_slack_text(message(payload))
    assert len(text) <= MAX_TEXT < 40_000
    assert "*Summary:* " + "s" * 2_000 in text and "… (truncated)" in text
    assert text.count("```") == 2 and text.endswith(FOOTER)


def test_the_body_is_json_with_mrkdwn_text():
    body = build_slack_body(message({"summary": "x"}))
    assert json.loads(json.dumps(body)) == {"text": f"*Summary:* x\n{FOOTER}", "mrkdwn": True}

