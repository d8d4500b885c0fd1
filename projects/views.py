"""Browser pages for projects: the list with a create form, and a project's overview."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from projects import services
from projects.access import membership_for
from projects.forms import ProjectForm
from projects.models import Membership
from projects.streams import dlq_stream, output_stream, raw_stream


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request):
    form = ProjectForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            project = services.create_project(form.cleaned_data["name"], request.user)
            return redirect("projects:detail", project_id=project.pk)
        status = 400
    memberships = (Membership.objects.filter(user=request.user).select_related("project")
                   .order_by("project__name", "project__created_at"))
    return render(request, "projects/list.html", {"memberships": memberships, "form": form}, status=status)


@login_required
def project_detail(request, project_id):
    membership = membership_for(request.user, project_id)
    project = membership.project
    context = {
        "project": project,
        "membership": membership,
        "streams": [raw_stream(project.pk), output_stream(project.pk), dlq_stream(project.pk)],
        "key_count": project.api_keys.filter(revoked_at__isnull=True).count(),
        "sink_count": project.sinks.count(),
    }
    return render(request, "projects/detail.html", context)
