"""Top-level URL map: browser UI, REST API under /api/v1/, internal service API, admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.views import admin_login
from projects.views.live import live_tail

urlpatterns = [
    path("", include("projects.urls")),
    path("projects/<uuid:project_id>/pipeline/", include("pipelines.urls")),
    path("projects/<uuid:project_id>/sinks/", include("sinks.urls")),
    path("projects/<uuid:project_id>/live/", live_tail, name="live-tail"),
    path("accounts/", include("accounts.urls")),
    path("admin/login/", admin_login),  # before admin's own route: rate-limited
    path("admin/", admin.site.urls),
    path("api/v1/", include("glassflow_site.api_urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("internal/v1/", include("projects.internal.urls")),
]

handler400 = "glassflow_site.error_pages.bad_request"
handler404 = "glassflow_site.error_pages.not_found"
handler500 = "glassflow_site.error_pages.server_error"
