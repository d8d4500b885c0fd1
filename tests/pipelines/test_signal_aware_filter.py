"""The editor makes the signal explicit: a filter that fails on an enabled signal's records is
flagged while typing and on save, with the signal-aware rewrite; a signal-aware filter is not."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pipelines import expr
from pipelines.signals import SAMPLES, filter_warning
from tests.support.clients import client_as
from tests.support.forms import pipeline_form

ALL = ["logs", "spans", "metrics"]


@pytest.mark.parametrize("source, signals, fails_on", [
    ("severityNumber >= 13", ALL, "spans and metrics"),
    ("severityNumber >= 13", ["logs", "spans"], "spans"),
    ('status.code == "ERROR"', ["logs", "spans"], "logs"),
    ("severityNumber >= 13", ["logs"], None),  # one signal: the plain log filter is right
    ('signal != "log" || severityNumber >= 13', ALL, None),
    ('signal == "span" && durationMs > 100 || signal == "log" && severityNumber >= 17', ALL, None),
    ("value > 10", ["spans", "metrics"], "spans"),
    ("", ALL, None),
])
def test_a_filter_that_fails_on_an_enabled_signal_gets_a_warning_with_the_fix(source, signals, fails_on):
    warning = filter_warning(source, signals)
    if fails_on is None:
        assert warning == ""
    else:
        assert f"fails on {fails_on} (" in warning
        assert "Make the signal explicit" in warning


def test_the_suggested_rewrites_compile_and_never_fail_on_any_signal():
    warning = filter_warning("severityNumber >= 13", ALL)
    suggestions = [part.split(" also keeps")[0].split(" keeps none")[0].strip()
                   for part in warning.split("explicit: ", 1)[1].split("; ")]
    assert suggestions == ['signal != "log" || (severityNumber >= 13)', 'signal == "log" && (severityNumber >= 13)']
    for suggestion in suggestions:
        program = expr.compile(suggestion)
        assert [program.run(dict(sample)) for sample in SAMPLES.values()] in ([True, True, True], [True, False, False])


def test_the_samples_are_shaped_like_the_receivers_records():
    assert [sample["signal"] for sample in SAMPLES.values()] == ["log", "span", "metric"]


@pytest.mark.django_db
def test_the_editor_warns_while_typing_and_on_save(team):
    client = client_as(team.admin)
    check = reverse("pipelines:check", args=[team.project.pk])
    typed = client.post(check, {"field": "filter", "filter": "severityNumber >= 13", "signals": ["logs", "spans"]},
                        HTTP_HX_REQUEST="true").content.decode()
    assert "compiles" in typed and "data-signal-warning" in typed and "fails on spans" in typed
    aware = client.post(check, {"field": "filter", "filter": 'signal != "log" || severityNumber >= 13',
                                "signals": ["logs", "spans"]}, HTTP_HX_REQUEST="true").content.decode()
    assert "compiles" in aware and "data-signal-warning" not in aware

    edit = reverse("pipelines:edit", args=[team.project.pk])
    saved = client.post(edit, pipeline_form(filter="severityNumber >= 13", signals=["logs", "metrics"]), follow=True)
    page = saved.content.decode()
    assert "Pipeline saved" in page and "fails on metrics" in page
