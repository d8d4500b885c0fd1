"""What every project page shares: looking the project up for the user, the context every
project template expects, and serializer errors turned into one message per form field.

A view calls ``project_page(request, project_id, tab)`` (404 for a non-member, 403 below
``min_role``) and adds its own keys to the context it gets back; the tab bar, the role badges
and the admin-only buttons read ``project``, ``membership``, ``tab`` and ``is_admin``.
Forms post to the same serializers as the API, so their errors come back in the API's shape
and ``field_errors`` flattens them for the form's fields.

Pages that read a project's streams (dead letters, run history) take their ``cursor`` and
filter with ``cursor_param`` and ``choice_param``, read a page with ``read_list`` (an empty list and
a message while NATS is unreachable) and one item with ``read_or_404`` (503 through
``stream_item_view``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from projects.models import Membership, Role
from projects.natsbridge import NatsUnavailable, bridge
from projects.streamscan import Page
from projects.tenancy import can, membership_for


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


def cursor_param(request: HttpRequest) -> int | None:
    """The ``cursor`` of a paged list (a stream sequence); None when absent or not a number."""
    value = request.GET.get("cursor")
    return int(value) if value and value.isdigit() else None


def choice_param(request: HttpRequest, name: str, choices) -> str | None:
    """The query parameter ``name`` when it is one of ``choices``, else None."""
    value = request.GET.get(name)
    return value if value in choices else None


def read_list(operation, what: str) -> tuple[Page, str]:
    """A page of a stream through the NATS bridge, and "" — or an empty page and a message saying
    ``what`` cannot be read while NATS is unreachable."""
    try:
        return bridge.call(operation), ""
    except NatsUnavailable:
        return Page(), f"NATS is unreachable, so {what} cannot be read right now; try again shortly."


def read_or_404(operation, missing: tuple[type[Exception], ...], gone: str):
    """Run one read through the NATS bridge; ``Http404(gone)`` when it raises one of ``missing``."""
    try:
        return bridge.call(operation)
    except missing:
        raise Http404(gone) from None


def form_page(request: HttpRequest, project_id, tab: str, min_role: Role, render, make_form):
    """A project page that shows a list with a form under it (keys, members). GET renders it for
    any member; a POST needs ``min_role`` and a valid ``make_form(data, membership)``. Returns
    ``(response, None, None)`` when the view is done (the page, or the form again with 400),
    else ``(None, membership, form)`` for the view to act on the valid form."""
    if request.method == "GET":
        return render(request, project_page(request, project_id, tab)[0]), None, None
    membership, _ = project_page(request, project_id, tab, min_role)
    form = make_form(request.POST, membership)
    if not form.is_valid():
        return render(request, membership, form=form, status=400), None, None
    return None, membership, form


def stream_list_page(request: HttpRequest, project_id, tab: str, *, filter_name: str, choices, read,
                     what: str) -> tuple[Membership, dict, Page, str | None]:
    """The common half of a paged list read from a project's stream (dead letters, runs): the
    membership and page context, the ``cursor`` and the ``filter_name`` parameters, and one page
    from ``read(js, project_id, chosen, cursor)`` (empty, with ``error`` set, while NATS is down)."""
    membership, context = project_page(request, project_id, tab)
    cursor = cursor_param(request)
    chosen = choice_param(request, filter_name, choices)
    page, error = read_list(lambda js: read(js, membership.project.pk, chosen, cursor), what)
    context.update(cursor=cursor, next_cursor=page.next_cursor, error=error)
    return membership, context, page, chosen


def stream_item_page(request: HttpRequest, project_id, tab: str, read, missing: tuple[type[Exception], ...],
                     gone: str) -> tuple[Membership, dict, object]:
    """One item of a project's stream for a detail page: ``read(js, project_id)``, 404 with ``gone``
    when it raises one of ``missing``."""
    membership, context = project_page(request, project_id, tab)
    return membership, context, read_or_404(lambda js: read(js, membership.project.pk), missing, gone)


def stream_item_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A logged-in GET page of one stream item: it cannot be shown without NATS, so it answers 503
    with a short message while NATS is unreachable."""
    @login_required
    @require_GET
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NatsUnavailable:
            return HttpResponse("NATS is unreachable; try again shortly.", status=503)

    return wrapper
