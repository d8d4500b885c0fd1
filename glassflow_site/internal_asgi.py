"""ASGI app of the internal listener: only ``/internal/``, meant for a loopback address.

The internal API returns configuration documents with every tenant's unmasked secrets, so in
production the public web app does not answer it (``INTERNAL_API_ON_PUBLIC`` off) and this app
serves it on its own port instead (``manage.py runinternal``, 127.0.0.1:``INTERNAL_API_PORT``).
It resolves URLs against ``glassflow_site.internal_urls`` and starts no background threads.
"""

from __future__ import annotations

import os

import django
from django.core.handlers.asgi import ASGIHandler, ASGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glassflow_site.settings")
django.setup(set_prefix=False)

INTERNAL_URLCONF = "glassflow_site.internal_urls"


class InternalRequest(ASGIRequest):
    internal_listener = True

    def get_host(self) -> str:
        # Services call it as 127.0.0.1:8001, a host the public ALLOWED_HOSTS rightly does not list.
        # Host validation guards generated URLs and cookies, neither of which this API has.
        return self._get_raw_host()


class InternalHandler(ASGIHandler):
    request_class = InternalRequest

    async def get_response_async(self, request):
        request.urlconf = INTERNAL_URLCONF
        return await super().get_response_async(request)


application = InternalHandler()
