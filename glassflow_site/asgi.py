"""ASGI entry point of the control plane and web UI (uvicorn; gunicorn with uvicorn workers).

Besides Django it starts the configuration reconciler thread, which publishes
project configuration documents that could not be published when NATS was
unreachable (see projects/configsync.py).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glassflow_site.settings")
application = get_asgi_application()

from projects.configsync import start_reconciler  # noqa: E402  (needs Django set up)

start_reconciler()
