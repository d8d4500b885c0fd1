"""API keys page: list by prefix and name with created/last-used times; admins mint and revoke.

The secret of a new key exists only in the response that creates it: it is rendered once
(with the OTLP exporter settings to paste) and never stored or shown again.
"""

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
from projects.forms import ApiKeyForm
from projects.models import ApiKey, Membership, Role
from projects.views.dashboard import otlp_endpoint


def _render(request: HttpRequest, membership: Membership, form: ApiKeyForm | None = None, status: int = 200,
            new_key: ApiKey | None = None, secret: str = "") -> HttpResponse:
    context = page_context(membership, "keys", keys=membership.project.api_keys.order_by("-created_at"),
                           form=form or ApiKeyForm(), new_key=new_key, secret=secret,
                           otlp_endpoint=otlp_endpoint(request), otlp_grpc_endpoint=otlp_endpoint(request, 4317))
    response = render_page(request, "projects/keys.html", "projects/partials/keys.html", context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"  # the page carries a secret
    return response


@login_required
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest, project_id) -> HttpResponse:
    response, membership, form = form_page(request, project_id, "keys", Role.ADMIN, _render,
                                           lambda data, membership: ApiKeyForm(data))
    if response is not None:
        return response
    key, secret = services.mint_key(membership.project, form.cleaned_data["name"], request.user)
    # Rendered, not redirected: a redirect would have to carry the secret somewhere.
    return _render(request, membership, new_key=key, secret=secret)


@login_required
@require_POST
def revoke_key(request: HttpRequest, project_id, key_id: int) -> HttpResponse:
    membership, _ = project_page(request, project_id, "keys", Role.ADMIN)
    key = get_object_or_404(ApiKey, project=membership.project, pk=key_id)
    services.revoke_key(key)
    messages.success(request, f"Key {key.prefix}… ({key.name}) was revoked; it stops working within a second.")
    return redirect_to(request, reverse("projects:keys", args=[membership.project.pk]))
