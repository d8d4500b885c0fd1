"""Pipeline editor page: filter, transforms, agent endpoint and headers, batching, signals, and a playground.

Saving goes through ``PipelineSerializer`` (the API's validation, header masking and restoring)
and ``config_changed`` in the same transaction, exactly like ``PUT /api/v1/.../pipeline/``.
Expressions are checked as the user types, and the playground runs the unsaved settings
through the worker's own stages.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from glassflow_site.htmx import redirect_to, render_page
from glassflow_site.pages import field_errors, page_context, project_page
from pipelines import playground
from pipelines.api.serializers import PipelineSerializer
from pipelines.forms import OUTPUT_TYPE_CHOICES, SIGNAL_CHOICES, EditorState
from pipelines.models import Pipeline
from pipelines.signals import filter_warning
from pipelines.stages.config import PIPELINE_NUMBERS
from pipelines.validation import check_expression
from projects.configsync import config_changed
from projects.models import Membership, Role
from projects.natsbridge import NatsUnavailable, bridge
from projects.tenancy import can

RECENT_RECORDS = 20


def _row_errors(state: EditorState) -> dict[int, str]:
    """Compile errors per transform row, shown under each expression (the serializer reports them joined)."""
    errors = {}
    for index, row in enumerate(state.transforms):
        if row["expression"].strip():
            try:
                check_expression(row["expression"], expect_bool=False)
            except ValueError as exc:
                errors[index] = str(exc)
    return errors


def _render(request: HttpRequest, membership: Membership, state: EditorState, *, errors: dict | None = None,
            status: int = 200, results=None, playground_error: str = "") -> HttpResponse:
    pipeline = membership.project.pipeline
    row_errors = _row_errors(state)
    context = page_context(
        membership, "pipeline",
        pipeline=pipeline,
        state=state,
        transform_rows=[{"index": i, "row": row, "error": row_errors.get(i), "last": i == len(state.transforms) - 1}
                        for i, row in enumerate(state.transforms)],
        header_rows=list(enumerate(state.headers)),
        errors=errors or {},
        output_types=OUTPUT_TYPE_CHOICES,
        signal_choices=SIGNAL_CHOICES,
        limits=PIPELINE_NUMBERS,
        results=results,
        summary=_summary(results),
        playground_error=playground_error,
        signal_warning=filter_warning(state.filter, list(state.signals)),
    )
    return render_page(request, "pipelines/edit.html", "pipelines/partials/editor.html", context, status=status)


def _posted_state(request: HttpRequest, membership: Membership) -> EditorState:
    """The editor's state from the POST; for viewers the saved settings (their fields are disabled,
    so the browser does not send them) with only the sample records taken from the POST."""
    if can(membership, Role.ADMIN):
        return EditorState.from_post(request.POST)
    state = EditorState.from_pipeline(membership.project.pipeline)
    state.records = request.POST.get("records", "")
    return state


def _membership(request: HttpRequest, project_id, role: Role = Role.VIEWER) -> Membership:
    membership, _ = project_page(request, project_id, "pipeline", role)
    Pipeline.objects.get_or_create(project=membership.project)  # projects made before pipelines existed
    return membership


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, project_id) -> HttpResponse:
    if request.method == "GET":
        membership = _membership(request, project_id)
        return _render(request, membership, EditorState.from_pipeline(membership.project.pipeline))
    membership = _membership(request, project_id, Role.ADMIN)
    state = EditorState.from_post(request.POST)
    action = request.POST.get("action", "save")
    if action != "save":
        state.apply(action)  # rearranging rows saves nothing
        return _render(request, membership, state)
    pipeline = membership.project.pipeline
    serializer = PipelineSerializer(pipeline, data=state.to_payload(), partial=True)
    if not serializer.is_valid():
        return _render(request, membership, state, errors=field_errors(serializer.errors), status=400)
    with transaction.atomic():
        serializer.save()
        config_changed(membership.project)
    messages.success(request, "Pipeline saved. Running workers pick the change up within a second.")
    warning = filter_warning(state.filter, list(state.signals))
    if warning:
        messages.warning(request, warning)
    return redirect_to(request, reverse("pipelines:edit", args=[membership.project.pk]))


@login_required
@require_POST
def check(request: HttpRequest, project_id) -> HttpResponse:
    """Compile one expression of the form (named by ``field``) and show its first error with the position."""
    project_page(request, project_id, "pipeline")  # 404 for non-members
    field = request.POST.get("field", "")
    source = request.POST.get(field, "") if field == "filter" or field.endswith("-expression") else ""
    error = ""
    if source.strip():
        try:
            check_expression(source, expect_bool=field == "filter")
        except ValueError as exc:
            error = str(exc)
    context = {"error": error, "source": source, "field": field,
               "signal_warning": filter_warning(source, request.POST.getlist("signals"))
               if field == "filter" and not error else ""}
    return render_page(request, "pipelines/partials/expr_check.html", "pipelines/partials/expr_check.html", context)


@login_required
@require_POST
def try_records(request: HttpRequest, project_id) -> HttpResponse:
    """Run the form's unsaved filter and transforms over the pasted records (changes nothing)."""
    membership = _membership(request, project_id)
    state = _posted_state(request, membership)
    results, error = None, ""
    try:
        records = playground.parse_records(state.records or "[]")
        if not records:
            raise playground.PlaygroundError("paste a JSON array of records or load the most recent ones first")
        results = playground.run(state.filter, state.meaningful_transforms(), records)
    except playground.PlaygroundError as exc:
        error = str(exc)
    context = {"results": results, "playground_error": error, "summary": _summary(results)}
    if request.htmx:
        return render_page(request, "pipelines/edit.html", "pipelines/partials/playground_result.html", context)
    return _render(request, membership, state, results=results, playground_error=error)


def _summary(results) -> dict:
    counts: dict[str, int] = {}
    for result in results or []:
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts


@login_required
@require_POST
def recent_records(request: HttpRequest, project_id) -> HttpResponse:
    """Fill the playground with the project's most recent raw records, read from its stream."""
    membership = _membership(request, project_id)
    state = _posted_state(request, membership)
    project_id = membership.project.pk
    note = ""
    try:
        records = bridge.call(lambda js: playground.recent_raw_records(js, project_id, RECENT_RECORDS), timeout=8)
        state.records = json.dumps(records, indent=2, ensure_ascii=False)
        note = f"Loaded the {len(records)} most recent records." if records else "No records received yet."
    except NatsUnavailable:
        note = "NATS is not reachable right now; paste records instead."
    except Exception:  # noqa: BLE001  a missing stream means nothing was received yet
        note = "No records received yet."
    context = {"state": state, "records_note": note}
    if request.htmx:
        return render_page(request, "pipelines/edit.html", "pipelines/partials/records_field.html", context)
    return _render(request, membership, state, playground_error="" if state.records else note)
