"""Project settings page: rename, and delete after typing the project's name (owners only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from glassflow_site.htmx import redirect_to, render_page
from glassflow_site.pages import page_context, project_page
from projects import services
from projects.forms import DeleteProjectForm, ProjectForm
from projects.models import Membership, Role
from projects.tenancy import can


def _render(request: HttpRequest, membership: Membership, rename: ProjectForm | None = None,
            delete: DeleteProjectForm | None = None, status: int = 200, fragment: str = "") -> HttpResponse:
    project = membership.project
    context = page_context(membership, "settings", rename_form=rename or ProjectForm(initial={"name": project.name}),
                           delete_form=delete or DeleteProjectForm(project=project),
                           is_owner=can(membership, Role.OWNER))
    return render_page(request, "projects/settings.html", fragment or "projects/partials/rename_form.html",
                       context, status=status)


@login_required
@require_GET
def project_settings(request: HttpRequest, project_id) -> HttpResponse:
    return _render(request, project_page(request, project_id, "settings")[0])


@login_required
@require_POST
def rename_project(request: HttpRequest, project_id) -> HttpResponse:
    membership, _ = project_page(request, project_id, "settings", Role.ADMIN)
    form = ProjectForm(request.POST)
    if not form.is_valid():
        return _render(request, membership, rename=form, status=400, fragment="projects/partials/rename_form.html")
    services.rename_project(membership.project, form.cleaned_data["name"])
    messages.success(request, "Project renamed.")
    return redirect_to(request, reverse("projects:settings", args=[membership.project.pk]))


@login_required
@require_POST
def delete_project(request: HttpRequest, project_id) -> HttpResponse:
    membership, _ = project_page(request, project_id, "settings", Role.OWNER)
    form = DeleteProjectForm(request.POST, project=membership.project)
    if not form.is_valid():
        return _render(request, membership, delete=form, status=400, fragment="projects/partials/delete_form.html")
    name = membership.project.name
    services.delete_project(membership.project)
    messages.success(request, f"Project {name} and its streams were deleted.")
    return redirect_to(request, reverse("projects:list"))
