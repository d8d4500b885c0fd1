"""What every project page shares: looking the project up for the user, the context every
project template expects, and serializer errors turned into one message per form field.

A view calls ``project_page(request, project_id, tab)`` (404 for a non-member, 403 below
``min_role``) and adds its own keys to the context it gets back; the tab bar, the role badges
and the admin-only buttons read ``project``, ``membership``, ``tab`` and ``is_admin``.
Forms post to the same serializers as the API, so their errors come back in the API's shape
and ``field_errors`` flattens them for the form's fields.
"""

from __future__ import annotations

from django.http import HttpRequest

from projects.access import can, membership_for
from projects.models import Membership, Role


def page_context(membership: Membership, tab: str, **extra) -> dict:
    return {"project": membership.project, "membership": membership, "tab": tab,
            "is_admin": can(membership, Role.ADMIN), **extra}


def project_page(request: HttpRequest, project_id, tab: str, min_role: Role = Role.VIEWER) -> tuple[Membership, dict]:
    membership = membership_for(request.user, project_id, min_role)
    return membership, page_context(membership, tab)


def _message(value: object) -> str:
    if isinstance(value, dict):
        return "; ".join(_message(item) for item in value.values())
    if isinstance(value, list):
        return " ".join(_message(item) for item in value)
    return str(value)


def field_errors(errors: dict, *, nested: tuple[str, ...] = (), rename: dict[str, str] | None = None) -> dict[str, str]:
    """Serializer errors as ``{field: message}``. The keys of a dict under one of ``nested`` (a
    JSON field edited as several form fields, like a sink's ``config``) become fields of their
    own; ``rename`` maps an error key to the form field that shows it."""
    rename = rename or {}
    flat: dict[str, str] = {}
    for key, value in errors.items():
        if key in nested and isinstance(value, dict):
            for inner, message in value.items():
                flat[rename.get(inner, inner)] = _message(message)
        else:
            flat[rename.get(key, key)] = _message(value)
    return flat
