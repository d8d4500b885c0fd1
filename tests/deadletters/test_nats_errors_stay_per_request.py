"""One tenant's bad JetStream requests are answered as that tenant's 4xx and never switch
NATS-backed reads off for everyone (the bridge's fail-fast is for real unavailability only)."""

from __future__ import annotations

import pytest

from projects.natsbridge import NatsRejected, NatsUnavailable, bridge
from projects.streams import dlq_stream
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_jetstream_api_error_is_the_callers_and_leaves_the_bridge_working(new_team):
    team = new_team()
    stream = dlq_stream(team.project.pk)
    with pytest.raises(NatsRejected) as refused:
        bridge.call(lambda js: js.get_msg(stream, 0))  # JetStream: 400 bad request
    assert refused.value.status == 400
    # The very next call of anyone goes through: no fail-fast window was opened.
    info = bridge.call(lambda js: js.stream_info(stream))
    assert info.config.name == stream


def test_bad_dead_letter_requests_are_4xx_and_other_tenants_keep_reading(new_team):
    mallory, alice = new_team(), new_team()
    attacker, victim = client_for(mallory.admin), client_for(alice.viewer)
    for _ in range(5):
        response = attacker.get(f"/api/v1/projects/{mallory.project.pk}/deadletters/0/")
        assert response.status_code == 404, response.content
        assert "dead letter 0" in response.json()["detail"]
        assert attacker.delete(f"/api/v1/projects/{mallory.project.pk}/deadletters/0/").status_code == 404
        assert victim.get(f"/api/v1/projects/{alice.project.pk}/deadletters/").status_code == 200
        assert victim.get(f"/api/v1/projects/{alice.project.pk}/stats/").status_code == 200
    beyond_uint64 = 2**70
    response = attacker.get(f"/api/v1/projects/{mallory.project.pk}/deadletters/{beyond_uint64}/")
    assert response.status_code == 404, response.content


def test_real_unavailability_still_fails_fast(settings):
    settings.NATS_SERVERS = ["nats://127.0.0.1:1"]  # nothing listens there
    bridge.reset()
    with pytest.raises(NatsUnavailable) as first:
        bridge.call(lambda js: js.account_info(), timeout=10)
    assert not isinstance(first.value, NatsRejected)
    with pytest.raises(NatsUnavailable, match="moments ago"):
        bridge.call(lambda js: js.account_info())
