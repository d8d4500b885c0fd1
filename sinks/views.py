"""Sinks pages: list with state and last error, add/edit/delete sinks of every kind, enable/disable,
and "send test message" with the result shown inline.

Create and update go through ``SinkSerializer`` and ``config_changed`` in one transaction,
as the REST API does; the test message is delivered by the kind's own ``deliver``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from glassflow_site.htmx import redirect_to, render_page
from glassflow_site.pages import field_errors, page_context, project_page
from glassflow_site.timestamps import parse_rfc3339
from projects.configsync import config_changed
from projects.models import Membership, Role
from sinks.api.serializers import SinkSerializer
from sinks.forms import SinkFormState
from sinks.kinds import KINDS
from sinks.models import Sink
from sinks.sendtest import send_test_message
from sinks.status import live_status, merge_status


def _list_context(membership: Membership, **extra) -> dict:
    sinks = []
    worker_status = live_status(membership.project.pk)  # what the sink workers saw, newer than the database
    for sink in membership.project.sinks.order_by("created_at"):
        kind = KINDS[sink.kind]
        status = merge_status({"last_error": sink.last_error, "last_error_at": sink.last_error_at and
                               sink.last_error_at.isoformat()}, worker_status.get(str(sink.pk)))
        sinks.append({"sink": sink, "kind": kind, "target": kind.describe_target(kind.mask_config(sink.config)),
                      "last_error": status["last_error"], "last_error_at": parse_rfc3339(status["last_error_at"])})
    return page_context(membership, "sinks", sinks=sinks, kinds=KINDS, **extra)


def _render_list(request: HttpRequest, membership: Membership, fragment: str, **extra) -> HttpResponse:
    return render_page(request, "sinks/list.html", fragment, _list_context(membership, **extra))


@login_required
@require_GET
def sink_list(request: HttpRequest, project_id) -> HttpResponse:
    membership, _ = project_page(request, project_id, "sinks")
    return _render_list(request, membership, "sinks/partials/table.html")


def _render_form(request: HttpRequest, membership: Membership, state: SinkFormState, sink: Sink | None,
                 errors: dict | None = None, status: int = 200) -> HttpResponse:
    errors = errors or {}
    context = page_context(membership, "sinks", state=state, sink=sink, errors=errors, kind=state.sink_kind,
                           rows=state.bound_rows(errors))
    return render_page(request, "sinks/form.html", "sinks/partials/form.html", context, status=status)


def _save(request: HttpRequest, membership: Membership, state: SinkFormState, sink: Sink | None) -> HttpResponse:
    action = request.POST.get("action", "save")
    if action != "save":
        state.apply(action)
        return _render_form(request, membership, state, sink)
    serializer = SinkSerializer(sink, data=state.to_payload(), context={"project": membership.project})
    if not serializer.is_valid():
        errors = field_errors(serializer.errors, nested=("config",))
        return _render_form(request, membership, state, sink, errors=errors, status=400)
    with transaction.atomic():
        saved = serializer.save(project=membership.project) if sink is None else serializer.save()
        config_changed(membership.project)
    messages.success(request, f"Sink {saved.name} saved.")
    return redirect_to(request, reverse("sinks:list", args=[membership.project.pk]))


def _admin_page(request: HttpRequest, project_id, sink_id) -> tuple[Membership, Sink]:
    """The admin's membership and the project's sink (404 for a sink of another project)."""
    membership, _ = project_page(request, project_id, "sinks", Role.ADMIN)
    return membership, get_object_or_404(Sink, project=membership.project, pk=sink_id)


@login_required
@require_http_methods(["GET", "POST"])
def sink_create(request: HttpRequest, project_id, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404("No such sink kind.")
    membership, _ = project_page(request, project_id, "sinks", Role.ADMIN)
    if request.method == "GET":
        return _render_form(request, membership, SinkFormState(kind=kind), None)
    return _save(request, membership, SinkFormState.from_post(kind, request.POST), None)


@login_required
@require_http_methods(["GET", "POST"])
def sink_edit(request: HttpRequest, project_id, sink_id) -> HttpResponse:
    membership, sink = _admin_page(request, project_id, sink_id)
    if request.method == "GET":
        return _render_form(request, membership, SinkFormState.from_sink(sink), sink)
    return _save(request, membership, SinkFormState.from_post(sink.kind, request.POST), sink)


@login_required
@require_POST
def sink_delete(request: HttpRequest, project_id, sink_id) -> HttpResponse:
    membership, sink = _admin_page(request, project_id, sink_id)
    with transaction.atomic():
        sink.delete()
        config_changed(membership.project)
    messages.success(request, f"Sink {sink.name} deleted.")
    return redirect_to(request, reverse("sinks:list", args=[membership.project.pk]))


@login_required
@require_POST
def sink_toggle(request: HttpRequest, project_id, sink_id) -> HttpResponse:
    membership, sink = _admin_page(request, project_id, sink_id)
    with transaction.atomic():
        sink.enabled = not sink.enabled
        sink.save(update_fields=["enabled", "updated_at"])
        config_changed(membership.project)
    if not request.htmx:
        return redirect_to(request, reverse("sinks:list", args=[membership.project.pk]))
    return _render_list(request, membership, "sinks/partials/table.html")


@login_required
@require_POST
def sink_test(request: HttpRequest, project_id, sink_id) -> HttpResponse:
    """Deliver one test message now and show the outcome next to the sink (admins: it calls out)."""
    membership, sink = _admin_page(request, project_id, sink_id)
    error = send_test_message(sink)
    fragment = "sinks/partials/test_result.html" if request.htmx else "sinks/partials/table.html"
    return _render_list(request, membership, fragment, tested=sink, test_error=error)
