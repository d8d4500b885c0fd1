"""Dead letters page: entries newest first with stage, reason, attempts and time; payload view;
replay and discard one entry, the selected ones, or all.

Reading, replaying and discarding are ``deadletters.store``'s (through the NATS bridge): the page
and ``/api/v1/projects/{id}/deadletters/`` share the replay precondition and the bulk operations
(``replay_many``, ``discard_many``), so they behave the same.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from deadletters import store
from glassflow_site import pages
from glassflow_site.htmx import redirect_to, render_page
from glassflow_site.timestamps import parse_rfc3339
from projects.models import Role
from projects.natsbridge import NatsRejected, NatsUnavailable, bridge

PAGE_SIZE = 50
BULK_TIMEOUT = 120.0


def _time(entry: dict):
    value = entry.get("failedAt") or entry.get("storedAt")
    return parse_rfc3339(value)


def _row(entry: dict, sink_names: dict[str, str]) -> dict:
    count = len(entry.get("records") or []) if entry.get("stage") == "pipeline" else 1
    sink = entry.get("sinkName") or sink_names.get(str(entry.get("sinkId")), "")
    return {"seq": entry["seq"], "stage": entry.get("stage", "?"), "reason": entry.get("reason", ""),
            "last_error": entry.get("lastError", ""), "attempts": entry.get("attempts"), "time": _time(entry),
            "count": count, "sink": sink}


@login_required
@require_GET
def dead_letters(request: HttpRequest, project_id) -> HttpResponse:
    membership, context, page, stage = pages.stream_list_page(
        request, project_id, "deadletters", filter_name="stage", choices=("pipeline", "sink"), what="dead letters",
        read=lambda js, pk, stage, cursor: store.list_entries(js, pk, stage=stage, limit=PAGE_SIZE, cursor=cursor))
    sink_names = {str(pk): name for pk, name in membership.project.sinks.values_list("pk", "name")}
    context.update(stage=stage, rows=[_row(entry, sink_names) for entry in page.items])
    return render_page(request, "deadletters/deadletters.html", "deadletters/partials/deadletters.html", context)


@pages.stream_item_view
def dead_letter(request: HttpRequest, project_id, seq: int) -> HttpResponse:
    _, context, entry = pages.stream_item_page(
        request, project_id, "deadletters", lambda js, pk: store.get_entry(js, pk, seq),
        (store.EntryNotFound, NatsRejected), "No such dead letter: it may have been replayed or discarded.")
    context.update(entry=entry, row=_row(entry, {}),
                   payload=json.dumps(entry, indent=2, ensure_ascii=False, default=str))
    return render_page(request, "deadletters/deadletter.html", "deadletters/partials/deadletter_payload.html", context)


def _selected(request: HttpRequest) -> list[int]:
    return sorted({int(value) for value in request.POST.getlist("seq") if value.isdigit()})


@login_required
@require_POST
def dead_letter_action(request: HttpRequest, project_id) -> HttpResponse:
    """Replay or discard: ``action`` is replay/discard (selected ``seq`` values) or replay-all/discard-all."""
    membership, _ = pages.project_page(request, project_id, "deadletters", Role.ADMIN)
    project = membership.project
    action = request.POST.get("action", "")
    sequences = _selected(request)
    stage = request.POST.get("stage") if request.POST.get("stage") in ("pipeline", "sink") else None
    targets = sequences if action in ("replay", "discard") else None  # None: every entry (of the stage)
    replayable = {str(pk) for pk in project.sinks.filter(enabled=True).values_list("pk", flat=True)}

    def run(js):
        if action.startswith("replay"):
            return store.replay_many(js, project.pk, targets, stage, replayable)
        return store.discard_many(js, project.pk, targets, stage)

    if action not in ("replay", "discard", "replay-all", "discard-all"):
        messages.error(request, "Choose replay or discard.")
    elif action in ("replay", "discard") and not sequences:
        messages.error(request, "Select at least one dead letter first.")
    else:
        try:
            done, failed = bridge.call(run, timeout=BULK_TIMEOUT)
        except NatsUnavailable:
            messages.error(request, "NATS is unreachable; nothing was changed. Try again shortly.")
        else:
            verb = "replayed" if action.startswith("replay") else "discarded"
            messages.success(request, f"{done} dead letter{'s' if done != 1 else ''} {verb}.")
            for seq, problem in failed[:5]:
                messages.error(request, f"Not {verb}: #{seq}: {problem}")
    return redirect_to(request, reverse("projects:deadletters", args=[project.pk]))
