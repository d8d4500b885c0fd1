"""WSGI entry point (the ASGI one in asgi.py is what we serve; this is for tools that expect WSGI)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glassflow_site.settings")
application = get_wsgi_application()
