"""Tenancy: every lookup of a project goes through here.

A user who is not a member gets 404 (the project's existence is not revealed); a member
whose role is too low for the action gets 403 with a message saying which role is needed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from projects.models import ROLE_RANK, Membership, Project, Role


def projects_of(user) -> QuerySet[Project]:
    return Project.objects.filter(memberships__user=user)


def membership_for(user, project_id, min_role: Role = Role.VIEWER) -> Membership:
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such project.")
    membership = (Membership.objects.select_related("project")
                  .filter(project_id=project_id, user=user).first())
    if membership is None:
        raise Http404("No such project.")
    if ROLE_RANK[Role(membership.role)] < ROLE_RANK[min_role]:
        raise PermissionDenied(f"This needs the {min_role.label.lower()} role or higher; "
                               f"you are {Role(membership.role).label.lower()} of this project.")
    return membership


def can(membership: Membership, role: Role) -> bool:
    return ROLE_RANK[Role(membership.role)] >= ROLE_RANK[role]
