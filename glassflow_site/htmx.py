"""The one htmx convention of the browser UI (after netbox's utilities/htmx.py).

A view builds its context once and calls ``render_page``: an htmx request gets only the
fragment template, a plain request the full page that ``{% include %}``s the same fragment,
so every page also works without JavaScript. Responses vary on ``HX-Request`` so a cache
never hands the fragment to a full-page load. Redirects after a successful htmx POST use
``HX-Redirect`` (htmx would otherwise follow a 302 and swap the whole next page into a target).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def htmx_partial(request: HttpRequest) -> bool:
    """True when the request comes from htmx and wants a fragment rather than a page.

    A boosted request (hx-boost) wants the whole page, like a plain navigation.
    """
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def render_page(request: HttpRequest, page: str, fragment: str, context: dict, status: int = 200) -> HttpResponse:
    """Render ``fragment`` for htmx, else ``page`` (which includes the fragment), with Vary: HX-Request."""
    response = render(request, fragment if htmx_partial(request) else page, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect a plain POST with 302 and an htmx one with HX-Redirect (a full navigation)."""
    if htmx_partial(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
    else:
        response = HttpResponseRedirect(url)
    patch_vary_headers(response, ("HX-Request",))
    return response
