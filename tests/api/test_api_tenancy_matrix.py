"""For every operation of the OpenAPI schema under a project: a non-member gets 404 and a viewer
gets 403 on writes, each with a JSON body saying why, before anything is validated or changed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.support.factories import project_state
from tests.support.openapi import names_the_problem, operations

pytestmark = pytest.mark.django_db

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def request(world, role: str, method: str, template: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=world.headers[role]["Authorization"])
    return client.generic(method, template.format(**world.path_values), data="{}", content_type="application/json")


def scoped(schema: dict) -> list[tuple[str, str]]:
    found = [(method, path) for method, path in operations(schema) if "{project_id}" in path]
    assert len(found) >= 25, found  # the matrix must not silently shrink
    return found


def refusals_missing(world, role: str, operations: list[tuple[str, str]], status: int) -> list[tuple]:
    """The operations that did not answer ``role`` with ``status`` and a JSON body saying why."""
    wrong = []
    for method, path in operations:
        response = request(world, role, method, path)
        if response.status_code != status or not names_the_problem(response.json()):
            wrong.append((method, path, response.status_code, response.content[:200]))
    return wrong


def test_a_non_member_gets_404_for_every_project_operation(world, openapi):
    before = project_state(world.team.project.pk)
    assert refusals_missing(world, "outsider", scoped(openapi), 404) == []
    assert project_state(world.team.project.pk) == before


def test_a_viewer_gets_403_for_every_write_and_changes_nothing(world, openapi):
    before = project_state(world.team.project.pk)
    writes = [(method, path) for method, path in scoped(openapi) if method in WRITES]
    assert refusals_missing(world, "viewer", writes, 403) == []
    assert project_state(world.team.project.pk) == before


def test_a_viewer_may_read_every_project_operation(world, openapi):
    reads = [(method, path) for method, path in scoped(openapi) if method == "GET"]
    statuses = {path: request(world, "viewer", "GET", path).status_code for _, path in reads}
    # 404 only where the object is not there (no run was recorded); never 403 for a read.
    assert all(code in (200, 404) for code in statuses.values()), statuses
    assert [path for path, code in statuses.items() if code == 404] in ([], ["/api/v1/projects/{project_id}/runs/{request_id}/"])
