"""Filters and transforms are compiled on save; a bad one is rejected with the position of the error."""

from __future__ import annotations

import pytest

from pipelines.models import Pipeline
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


def patch(team, change):
    return client_for(team.admin).patch(f"/api/v1/projects/{team.project.pk}/pipeline/", change, format="json")


def test_a_filter_with_a_syntax_error_is_rejected_with_line_and_column(team):
    response = patch(team, {"filter": "severityNumber >= "})
    assert response.status_code == 400
    message = str(response.json()["filter"])
    assert "1:" in message or "line 1" in message, message


def test_a_filter_that_is_not_boolean_is_rejected(team):
    response = patch(team, {"filter": '"just a string"'})
    assert response.status_code == 400
    assert "bool" in str(response.json()["filter"])


def test_a_transform_with_a_bad_expression_names_its_row(team):
    response = patch(team, {"transforms": [{"expression": "upper(body)", "output_name": "a"},
                                           {"expression": "len(", "output_name": "b"}]})
    assert response.status_code == 400
    assert "transform 2" in str(response.json()["transforms"])


def test_a_valid_filter_is_stored_trimmed(team):
    response = patch(team, {"filter": '  resourceAttributes["service.name"] == "checkout"  '})
    assert response.status_code == 200, response.content
    assert Pipeline.objects.get(project=team.project).filter == 'resourceAttributes["service.name"] == "checkout"'
