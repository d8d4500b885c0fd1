"""A kept-alive TLS connection is never reused for another host name on the same address.

One loopback server presents the certificate of ``localhost`` (from a CA the client trusts)
to clients that ask for ``localhost`` by SNI, and a certificate from an unknown CA otherwise
(``127.0.0.1``: IP literals send no SNI). Both names are the same address, so a pool keyed by
address (the old ``pin_url``) would carry the second request over the first one's verified
connection; keyed by origin, the second request opens its own connection and fails verification.
"""

from __future__ import annotations

import ssl

import pytest
import trustme

from outbound import Outbound, Verdict
from pipelines.worker.agentclient import AgentClient
from sinks.kinds.base import DeliveryContext, TransportError
from sinks.kinds.webhook import WebhookKind
from tests.support.outbound_peers import KeepAliveServer


@pytest.fixture
def two_hosts_one_address():
    trusted, unknown = trustme.CA(), trustme.CA()
    for_localhost = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trusted.issue_cert("localhost").configure_cert(for_localhost)
    default = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    unknown.issue_cert("127.0.0.1").configure_cert(default)

    def choose(sock: ssl.SSLSocket, server_name: str | None, _context: ssl.SSLContext) -> None:
        if server_name == "localhost":
            sock.context = for_localhost

    default.sni_callback = choose
    server = KeepAliveServer(tls=default)
    client_context = ssl.create_default_context()
    trusted.configure_trust(client_context)
    yield server, client_context
    server.close()


async def test_the_second_host_on_a_kept_alive_address_must_pass_its_own_certificate_check(two_hosts_one_address):
    server, client_context = two_hosts_one_address
    client = Outbound(allow_private=True, ssl_context=client_context)
    try:
        first = await client.send("POST", f"https://localhost:{server.port}/a", b"{}", {}, timeout=5)
        again = await client.send("POST", f"https://localhost:{server.port}/a", b"{}", {}, timeout=5)
        assert first.ok and again.ok
        assert server.connections == 1, "the same origin reuses its kept-alive connection"
        second = await client.send("POST", f"https://127.0.0.1:{server.port}/b", b"{}", {}, timeout=5)
        assert second.verdict is Verdict.RETRYABLE and second.status is None
        assert "CERTIFICATE_VERIFY_FAILED" in second.error
        assert [host for host, _ in server.requests] == [f"localhost:{server.port}"] * 2
    finally:
        await client.close()


async def test_agents_and_sinks_share_the_per_host_check(two_hosts_one_address):
    server, client_context = two_hosts_one_address
    agent = AgentClient(allow_private=True, ssl_context=client_context)
    sink_client = Outbound(allow_private=True, ssl_context=client_context)
    try:
        assert (await agent.post(f"https://localhost:{server.port}/", b"[]", {}, 5)).ok
        refused = await agent.post(f"https://127.0.0.1:{server.port}/", b"[]", {}, 5)
        assert not refused.ok and "CERTIFICATE_VERIFY_FAILED" in refused.error

        context = DeliveryContext(sink_client, 5)
        await WebhookKind.deliver({"url": f"https://localhost:{server.port}/hook", "method": "POST"}, {}, context)
        with pytest.raises(TransportError) as caught:
            await WebhookKind.deliver({"url": f"https://127.0.0.1:{server.port}/hook", "method": "POST"}, {},
                                      context)
        assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
        assert len(server.requests) == 2
    finally:
        await agent.close()
        await sink_client.close()


async def test_a_certificate_refusal_names_the_host_and_the_reason(two_hosts_one_address):
    server, _ = two_hosts_one_address
    client = Outbound(allow_private=True, ssl_context=ssl.create_default_context())  # does not trust the test CA
    try:
        answer = await client.send("POST", f"https://localhost:{server.port}/", b"{}", {}, timeout=5,
                                   target="the webhook")
        assert answer.verdict is Verdict.RETRYABLE and answer.failure == "connect"
        assert answer.error.startswith("could not connect to the webhook: the TLS certificate of localhost was "
                                       "refused: unable to get local issuer certificate")
        assert server.requests == []
    finally:
        await client.close()


async def test_a_plain_http_server_on_an_https_url_is_a_failed_handshake():
    plain = KeepAliveServer()
    client = Outbound(allow_private=True)
    try:
        answer = await client.send("POST", f"https://127.0.0.1:{plain.port}/", b"{}", {}, timeout=5)
        assert answer.verdict is Verdict.RETRYABLE and answer.failure == "connect"
        assert "the TLS handshake with 127.0.0.1 failed" in answer.error
    finally:
        await client.close()
        plain.close()
