"""Browser pages for projects: the list with health lines and a create form, and the activity dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from glassflow_site.htmx import redirect_to, render_page
from glassflow_site.pages import project_page
from projects import activity, services
from projects.forms import ProjectForm
from projects.models import Membership
from projects.streams import dlq_stream, output_stream, raw_stream


def otlp_endpoint(request: HttpRequest, port: int = 4318) -> str:
    """Where this deployment's receiver listens, as seen from the browser's side (OTLP/HTTP 4318, gRPC 4317)."""
    host = request.get_host().rsplit(":", 1)[0] if not request.get_host().endswith("]") else request.get_host()
    return f"http://{host}:{port}"


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                project = services.create_project(form.cleaned_data["name"], request.user)
            except services.QuotaExceeded as exc:
                form.add_error(None, str(exc))
            else:
                return redirect_to(request, reverse("projects:detail", args=[project.pk]))
        status = 400
    memberships = (Membership.objects.filter(user=request.user).select_related("project")
                   .order_by("project__name", "project__created_at"))
    memberships = list(memberships)
    health = activity.health([m.project for m in memberships])
    rows = [{"membership": m, "project": m.project, "health": health[m.project.pk]} for m in memberships]
    return render_page(request, "projects/list.html", "projects/partials/create_form.html",
                       {"rows": rows, "form": form}, status=status)


def _numbers(project) -> dict:
    """The dashboard's cards, stalls, last record error and delivery figures (the part the page polls)."""
    history = activity.sample(project.pk)
    return {"cards": activity.cards(history), "stalled": activity.stalled(project, history),
            "record_error": activity.record_error(history), "delivery": activity.delivery_panel(history),
            "sink_rows": activity.sink_rows(project, history), "has_stats": bool(history)}


@login_required
@require_GET
def project_detail(request: HttpRequest, project_id) -> HttpResponse:
    membership, context = project_page(request, project_id, "activity")
    project = membership.project
    context.update(
        _numbers(project),
        streams=[raw_stream(project.pk), output_stream(project.pk), dlq_stream(project.pk)],
        key_count=project.api_keys.filter(revoked_at__isnull=True).count(),
        sinks=list(project.sinks.order_by("created_at")),
        pipeline=getattr(project, "pipeline", None),
        otlp_endpoint=otlp_endpoint(request),
        otlp_grpc_endpoint=otlp_endpoint(request, 4317),
    )
    return render_page(request, "projects/detail.html", "projects/partials/stats.html", context)


@login_required
@require_GET
def project_stats(request: HttpRequest, project_id) -> HttpResponse:
    """The numbers and sparklines alone, polled by the dashboard every few seconds."""
    if not getattr(request, "htmx", False):
        return redirect("projects:detail", project_id=project_id)
    membership, context = project_page(request, project_id, "activity")
    context.update(_numbers(membership.project))
    return render_page(request, "projects/detail.html", "projects/partials/stats.html", context)
