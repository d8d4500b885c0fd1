"""The playground validates expressions exactly like saving does and runs them in a child process
with hard CPU, memory and wall-clock limits, so a hostile sample cannot hold a web worker."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from django.urls import reverse

from pipelines import playground

pytestmark = pytest.mark.django_db

# Within the engine's per-evaluation budgets, but about half a CPU second per record.
# ~25 ms of CPU per record while staying inside the expression work budget (docs/expr.md), so
# 200 records need several CPU seconds.
HEAVY_FILTER = "len(sort(map(1..30000, string(#)))) > 0"


def try_sample(team, filter_source: str, records: list, **transforms: str):
    client = Client()
    client.force_login(team.admin)
    form = {"filter": filter_source, "t-count": "0", "h-count": "0", "agent_endpoint": "", "batch_size": "10",
            "batch_max_wait_ms": "1000", "signals": ["logs"], "records": json.dumps(records), **transforms}
    return client.post(reverse("pipelines:try", args=[team.project.pk]), form, HTTP_HX_REQUEST="true")


def test_an_expression_longer_than_saving_allows_is_refused(team):
    response = try_sample(team, 'body == "' + "a" * 5000 + '"', [{"body": "x"}])
    html = response.content.decode()
    assert "longer than 4096 characters" in html
    assert "dropped" not in html


def test_transforms_are_checked_as_on_save(team):
    rows = {"t-count": "2", "t-0-expression": "body", "t-0-output_name": "same", "t-0-output_type": "string",
            "t-1-expression": "body", "t-1-output_name": "same", "t-1-output_type": "string"}
    html = try_sample(team, "", [{"body": "x"}], **rows).content.decode()
    assert "output_name &#x27;same&#x27; is used twice" in html or "output_name 'same' is used twice" in html


def test_a_sample_runs_through_the_workers_stages(team):
    rows = {"t-count": "1", "t-0-expression": "upper(body)", "t-0-output_name": "loud", "t-0-output_type": "string"}
    html = try_sample(team, 'body != "skip"', [{"body": "hi"}, {"body": "skip"}], **rows).content.decode()
    assert "HI" in html and "dropped" in html


def test_a_cpu_hungry_sample_is_stopped_at_the_cpu_limit(team, settings):
    settings.PLAYGROUND_CPU_SECONDS = 1
    settings.PLAYGROUND_TIMEOUT_SECONDS = 20
    started = time.monotonic()
    response = try_sample(team, HEAVY_FILTER, [{}] * 200)  # ~5 CPU seconds without the limit
    elapsed = time.monotonic() - started
    assert "needed more than 1 s of CPU" in response.content.decode()
    assert elapsed < 20, elapsed


def test_the_wall_clock_limit_answers_even_when_the_child_gets_no_cpu(team, settings):
    settings.PLAYGROUND_CPU_SECONDS = 60
    settings.PLAYGROUND_TIMEOUT_SECONDS = 2
    started = time.monotonic()
    with pytest.raises(playground.PlaygroundError, match="did not finish within 2 s"):
        playground.run(HEAVY_FILTER, [], [{}] * 200)
    assert time.monotonic() - started < 10


def test_memory_beyond_the_cap_fails_inside_the_child(settings):
    sample = "len(1..400000) > 0"  # 400,000 ints, ~15 MB, inside the expression work budget
    settings.PLAYGROUND_MEMORY_BYTES = 256 * 1024**2
    assert [r.status for r in playground.run(sample, [], [{}])] == ["passed"]
    settings.PLAYGROUND_MEMORY_BYTES = 8 * 1024**2
    try:
        outcome = [r.status for r in playground.run(sample, [], [{}])]
    except playground.PlaygroundError as exc:
        outcome = [str(exc)]
    assert outcome != ["passed"], outcome


def test_the_child_gets_no_secrets_from_the_environment(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://user:hunter2@db/x")
    # The expression language cannot read the environment; what the child was given is checked directly.
    import subprocess

    seen = {}
    real_run = subprocess.run

    def spy(*args, **kwargs):
        seen.update(kwargs.get("env") or {})
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    playground.run("true", [], [{}])
    assert "DATABASE_URL" not in seen and "SECRET_KEY" not in seen
