"""Runs page: every batch the pipeline sent to the agent, newest first, filtered by outcome; one run
shows its records and the outputs that came back side by side, with its attempts; replay from there.

Reading and replaying are ``runs.store``'s (through the NATS bridge), so the page and
``/api/v1/projects/{id}/runs/`` behave the same.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from glassflow_site import pages
from glassflow_site.htmx import redirect_to, render_page
from projects.models import Role
from projects.natsbridge import NatsUnavailable, bridge
from runs import store

PAGE_SIZE = 50
FILTERS = [("", "All"), ("delivered", "Delivered"), ("retrying", "In retry"), ("dead-lettered", "Dead-lettered"),
           ("no-output", "No output"), ("in-flight", "In flight")]
STATUS_PILL = {"delivered": "passed", "retrying": "warn", "in-flight": "off", "dead-lettered": "error", "released": "off",
               "unknown": "off"}


def _time(ms) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if isinstance(ms, int | float) else None


def _brief(payload) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("summary"), str):
        return payload["summary"]
    return json.dumps(payload, ensure_ascii=False, default=str) if payload is not None else ""


def _row(run: dict) -> dict:
    attempts = run.get("attempts") or []
    last = attempts[-1] if attempts else {}
    return {"request_id": run.get("requestId"), "status": run["status"], "pill": STATUS_PILL.get(run["status"], ""),
            "count": run.get("count"), "attempts": len(attempts), "last_status": last.get("status"),
            "last_error": last.get("error") or "", "latency": sum(a.get("latencyMs") or 0 for a in attempts),
            "started": _time(run.get("startedAt")), "no_output": run.get("noOutput"),
            "outputs": run.get("outputCount", len(run.get("outputs") or [])),
            "output": _brief(run.get("firstOutput") if "firstOutput" in run else
                             (run["outputs"][0]["payload"] if run.get("outputs") else None))}


@login_required
@require_GET
def runs(request: HttpRequest, project_id) -> HttpResponse:
    _, context, page, status = pages.stream_list_page(
        request, project_id, "runs", filter_name="status", choices=store.FILTERS, what="the run history",
        read=lambda js, pk, status, cursor: store.list_runs(js, pk, status=status, limit=PAGE_SIZE, cursor=cursor))
    context.update(status=status or "", filters=FILTERS, rows=[_row(run) for run in page.items])
    return render_page(request, "runs/runs.html", "runs/partials/runs.html", context)


@pages.stream_item_view
def run(request: HttpRequest, project_id, request_id: str) -> HttpResponse:
    _, context, found = pages.stream_item_page(
        request, project_id, "runs", lambda js, pk: store.get_run(js, pk, request_id),
        (store.RunNotFound,), "No such run: it may have aged out of the run history.")
    attempts = [{**attempt, "time": _time(attempt.get("at"))} for attempt in found["attempts"]]
    outputs = [{**output, "json": json.dumps(output["payload"], indent=2, ensure_ascii=False, default=str)}
               for output in found["outputs"]]
    context.update(run=found, row=_row(found), attempts=attempts, outputs=outputs,
                   records=json.dumps(found.get("records"), indent=2, ensure_ascii=False, default=str),
                   finished=_time(found.get("finishedAt")))
    return render_page(request, "runs/run.html", "runs/run.html", context)


@login_required
@require_POST
def replay_run(request: HttpRequest, project_id, request_id: str) -> HttpResponse:
    membership, _ = pages.project_page(request, project_id, "runs", Role.ADMIN)
    project = membership.project
    try:
        sent = bridge.call(lambda js: store.replay_run(js, project.pk, request_id))
    except store.RunNotFound:
        raise Http404("No such run: it may have aged out of the run history.") from None
    except store.ReplayError as exc:
        messages.error(request, f"Not replayed: {exc}")
    except NatsUnavailable:
        messages.error(request, "NATS is unreachable; nothing was replayed. Try again shortly.")
    else:
        messages.success(request, f"{sent} record{'s' if sent != 1 else ''} put back into the pipeline; "
                                  "they arrive as a new run.")
    return redirect_to(request, reverse("projects:run", args=[project.pk, request_id]))
