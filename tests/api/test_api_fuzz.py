"""Schema-driven fuzzing of the REST API with schemathesis: generated requests (valid and invalid)
for every operation of /api/v1/schema/, as the project's owner, admin, viewer and an outsider.
No request may cause a server error, and every 4xx must be a JSON body that names the problem.

Requests go to the Django WSGI app in this process (same test database), against the session's
real nats-server. Examples per operation are few (2 shared cores): breadth over depth; hypothesis'
database is off so every run is independent of the last.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from glassflow_site.wsgi import application
from tests.support.openapi import names_the_problem

pytestmark = pytest.mark.django_db

EXAMPLES = {"owner": 6, "admin": 4, "viewer": 3, "outsider": 2}


@pytest.fixture
def keep_test_connection():
    """What Django's own test client does: a request must not close the database connection at
    its end, or it would take the test's transaction (and on PostgreSQL the test data) with it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def problems_of(response) -> str | None:
    """What is wrong with one response, or None."""
    if response.status_code >= 500:
        return f"server error {response.status_code}: {response.text[:300]}"
    if 400 <= response.status_code < 500:
        try:
            body = json.loads(response.content or b"")
        except ValueError:
            return f"{response.status_code} without a JSON body: {response.text[:200]!r}"
        if not names_the_problem(body):
            return f"{response.status_code} with a JSON body that names nothing: {body!r}"
    return None


@pytest.mark.parametrize("role", list(EXAMPLES))
def test_no_operation_fails_or_answers_an_unexplained_error(world, role, keep_test_connection):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    # Deletions last (the project's own at the very end), so they do not empty the project first.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path == "/api/v1/projects/{project_id}/"))

    for operation in operations:
        # The real project, and either the real objects in the path (so requests reach the code
        # behind the lookup) or generated ids (0, huge, negative...) for the same project.
        fixed = {name: value for name, value in world.path_values.items() if "{" + name + "}" in operation.path}
        project_only = {name: value for name, value in fixed.items() if name == "project_id"}
        strategy = st.one_of(*(operation.as_strategy(mode, path_parameters=path)
                               for path in (fixed, project_only)
                               for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)))

        @settings(max_examples=EXAMPLES[role], deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def exercise(case):
            response = case.call(headers=world.headers[role])
            problem = problems_of(response)
            if problem:
                failures.append(f"{case.method} {case.formatted_path} as {role}: {problem}")

        exercise()
    assert failures == [], "\n".join(sorted(set(failures)))
