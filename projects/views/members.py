"""Members page: everyone sees who is in the project; owners invite, change roles and remove."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from glassflow_site.htmx import redirect_to, render_page
from glassflow_site.pages import form_page, page_context, project_page
from projects import services
from projects.forms import InviteForm, RoleForm
from projects.models import Membership, Role
from projects.tenancy import can


def _render(request: HttpRequest, membership: Membership, form: InviteForm | None = None, status: int = 200,
            error: str = "") -> HttpResponse:
    project = membership.project
    members = project.memberships.select_related("user").order_by("created_at")
    context = page_context(membership, "members", members=members, form=form or InviteForm(project=project),
                           roles=Role.choices, is_owner=can(membership, Role.OWNER), error=error)
    return render_page(request, "projects/members.html", "projects/partials/members.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, project_id) -> HttpResponse:
    response, membership, form = form_page(request, project_id, "members", Role.OWNER, _render,
                                           lambda data, membership: InviteForm(data, project=membership.project))
    if response is not None:
        return response
    try:
        services.add_member(membership.project, form.user, Role(form.cleaned_data["role"]))
    except services.InviteError as exc:
        form.add_error("email", str(exc))
        return _render(request, membership, form=form, status=400)
    messages.success(request, f"{form.user.email} was added as {Role(form.cleaned_data['role']).label.lower()}.")
    return redirect_to(request, reverse("projects:members", args=[membership.project.pk]))


def _target(membership: Membership, user_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user", "project"),
                             project=membership.project, user_id=user_id)


@login_required
@require_POST
def change_role(request: HttpRequest, project_id, user_id: int) -> HttpResponse:
    membership, _ = project_page(request, project_id, "members", Role.OWNER)
    target = _target(membership, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _render(request, membership, status=400, error="Choose owner, admin or viewer.")
    try:
        services.change_role(target, Role(form.cleaned_data["role"]))
    except services.LastOwnerError as exc:
        return _render(request, membership, status=400, error=str(exc))
    messages.success(request, f"{target.user.email} is now {Role(target.role).label.lower()}.")
    return redirect_to(request, reverse("projects:members", args=[membership.project.pk]))


@login_required
@require_POST
def remove_member(request: HttpRequest, project_id, user_id: int) -> HttpResponse:
    membership, _ = project_page(request, project_id, "members", Role.OWNER)
    target = _target(membership, user_id)
    try:
        services.remove_member(target)
    except services.LastOwnerError as exc:
        return _render(request, membership, status=400, error=str(exc))
    messages.success(request, f"{target.user.email} was removed from the project.")
    if target.user_id == request.user.pk:
        return redirect_to(request, reverse("projects:list"))
    return redirect_to(request, reverse("projects:members", args=[membership.project.pk]))
