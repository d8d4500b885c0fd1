"""Clients for tests: an authenticated API client, a logged-in browser client, and JetStream look-ups
from synchronous code."""

from __future__ import annotations

import asyncio

import nats
from django.test import Client
from rest_framework.test import APIClient


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def client_as(user) -> Client:
    """A browser (session) client logged in as ``user``."""
    client = Client()
    client.force_login(user)
    return client


class Js:
    """Run JetStream look-ups from synchronous tests against the session's server."""

    def __init__(self, url: str):
        self.url = url

    def run(self, operation):
        async def main():
            nc = await nats.connect(self.url, connect_timeout=2, max_reconnect_attempts=0)
            try:
                return await operation(nc.jetstream())
            finally:
                await nc.close()

        return asyncio.run(main())
