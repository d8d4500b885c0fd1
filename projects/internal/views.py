"""Internal service API: the configuration document of a project, for debugging and for
consumers outside NATS. Authenticated by ``INTERNAL_SERVICE_TOKEN`` as a bearer token.

Its answers hold every tenant's unmasked secrets: it answers only on the internal listener
(``glassflow_site/internal_asgi.py``), or on the public app when ``INTERNAL_API_ON_PUBLIC`` is on."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from projects.configdoc import build_config_document
from projects.models import Project


def _authorized(request: HttpRequest) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                             settings.INTERNAL_SERVICE_TOKEN.encode())


@require_GET
def project_config(request: HttpRequest, project_id) -> JsonResponse:
    if not (getattr(request, "internal_listener", False) or settings.INTERNAL_API_ON_PUBLIC):
        return JsonResponse({"detail": "Not found."}, status=404)
    if not settings.INTERNAL_SERVICE_TOKEN:
        return JsonResponse({"detail": "The internal API is disabled: set INTERNAL_SERVICE_TOKEN to enable it."},
                            status=503)
    if not _authorized(request):
        return JsonResponse({"detail": "Send the service token as 'Authorization: Bearer <token>'."}, status=401)
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return JsonResponse({"detail": "No such project."}, status=404)
    return JsonResponse(build_config_document(project))
