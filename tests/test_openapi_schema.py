"""The OpenAPI schema is generated without warnings and documents every API route."""

from __future__ import annotations

import re

import pytest


@pytest.mark.django_db
def test_schema_lists_the_api(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/v1/auth/signup/", "/api/v1/auth/login/", "/api/v1/auth/refresh/", "/api/v1/auth/logout/",
                 "/api/v1/auth/me/", "/api/v1/projects/", "/api/v1/projects/{project_id}/members/",
                 "/api/v1/projects/{project_id}/keys/", "/api/v1/projects/{project_id}/pipeline/",
                 "/api/v1/projects/{project_id}/sinks/"]:
        assert path in paths, path


@pytest.mark.django_db
def test_browsable_docs_are_served(client):
    assert client.get("/api/v1/docs/").status_code == 200


@pytest.mark.django_db
def test_schema_generation_has_no_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_swagger_ui_and_redoc_load_their_scripts_from_our_static_files_not_a_cdn(client, page):
    from django.contrib.staticfiles import finders

    html = client.get(page).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
    assert sources, html[:500]
    for source in sources:
        assert source.startswith("/static/"), source  # never https://cdn…
        assert finders.find(source.removeprefix("/static/")), f"{source} is not among the static files"
