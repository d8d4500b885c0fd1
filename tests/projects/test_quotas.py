"""Quotas: projects per account, concurrent live tails per user, and stream sizes from settings
whose per-project total is what the documentation says an operator should plan for."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient, Client

from projects.configsync import remove_project, sync_project
from projects.models import Membership, Project, Role
from projects.streams import StreamLimits, dlq_stream, output_stream, raw_stream, runs_stream, stream_configs
from projects.views import live
from tests.support.clients import client_for
from tests.support.factories import UserFactory, make_team


@pytest.mark.django_db
def test_the_api_refuses_a_project_beyond_the_accounts_quota(settings):
    settings.PROJECTS_PER_ACCOUNT = 2
    team = make_team()  # the user below is the admin of someone else's project: that does not count
    api = client_for(team.admin)
    assert [api.post("/api/v1/projects/", {"name": f"p{i}"}, format="json").status_code for i in range(2)] == [201] * 2
    response = api.post("/api/v1/projects/", {"name": "one too many"}, format="json")
    assert response.status_code == 403
    assert "PROJECTS_PER_ACCOUNT=2" in response.json()["detail"]
    assert Membership.objects.filter(user=team.admin, role=Role.OWNER).count() == 2
    assert not Project.objects.filter(name="one too many").exists()


@pytest.mark.django_db
def test_the_page_refuses_a_project_beyond_the_quota_with_the_reason(settings):
    settings.PROJECTS_PER_ACCOUNT = 1
    user = UserFactory()
    browser = Client()
    browser.force_login(user)
    assert browser.post("/", {"name": "first"}).status_code == 302
    response = browser.post("/", {"name": "second"})
    assert response.status_code == 400
    assert "PROJECTS_PER_ACCOUNT=1" in response.content.decode()
    assert Project.objects.filter(memberships__user=user).count() == 1


@pytest.mark.django_db(transaction=True)
async def test_a_user_holds_at_most_the_configured_live_tails(settings):
    settings.LIVE_TAILS_PER_USER = 2
    team = await sync_to_async(make_team)()
    first, second = await live.take_slot(team.viewer.pk), await live.take_slot(team.viewer.pk)
    assert first and second and first != second
    assert await live.take_slot(team.viewer.pk) is None
    assert await live.take_slot(team.owner.pk) is not None  # another user has their own

    client = AsyncClient()
    await sync_to_async(client.force_login)(team.viewer)
    response = await client.get(f"/projects/{team.project.pk}/live/")
    assert response.status_code == 200 and response["X-Live-Tail-Refused"] == "limit"
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    assert "event: end" in body and "LIVE_TAILS_PER_USER=2" in body

    async def finite():
        yield "one"

    assert [event async for event in live.limited(finite(), first)] == ["one"]
    assert await live.take_slot(team.viewer.pk) == first  # the ended stream gave its slot back
    # The database connection lives in asgiref's worker thread; close it there, or PostgreSQL
    # refuses to drop the test database at the end of the session.
    await sync_to_async(connections.close_all)()


def test_each_stream_takes_its_size_from_settings_and_the_project_total_adds_them_up():
    limits = StreamLimits(max_bytes=64 * 1024**2, output_max_bytes=16 * 1024**2, dlq_max_bytes=8 * 1024**2,
                          runs_max_bytes=4 * 1024**2)
    sizes = {config.name: config.max_bytes for config in stream_configs("p", limits)}
    assert sizes == {raw_stream("p"): 64 * 1024**2, output_stream("p"): 16 * 1024**2, dlq_stream("p"): 8 * 1024**2,
                     runs_stream("p"): 4 * 1024**2}
    assert limits.per_project_bytes() == (64 + 16 + 8 + 4) * 1024**2


@pytest.mark.django_db(transaction=True)
def test_created_streams_use_the_configured_sizes(settings, js):
    settings.STREAM_MAX_BYTES = 8 * 1024**2
    settings.STREAM_OUTPUT_MAX_BYTES = 2 * 1024**2
    settings.STREAM_DLQ_MAX_BYTES = 1024**2
    settings.RUN_HISTORY_MAX_BYTES = 1024**2
    project = make_team().project
    assert sync_project(project.pk)
    try:
        async def sizes(jetstream):
            return [(await jetstream.stream_info(name)).config.max_bytes
                    for name in (raw_stream(project.pk), output_stream(project.pk), dlq_stream(project.pk))]

        assert js.run(sizes) == [8 * 1024**2, 2 * 1024**2, 1024**2]
    finally:
        remove_project(project.pk)
