"""One outbound HTTP core for agent delivery and every sink kind.

    from outbound import Outbound, Answer, Verdict, RetryPolicy

    client = Outbound(allow_private=False)          # one per process; close() on shutdown
    answer = await client.send("POST", url, body, headers, timeout=10.0, target="the webhook")
    answer.verdict      # Verdict.SUCCESS | RETRYABLE | PERMANENT
    answer.status       # HTTP status, or None when no answer came (answer.failure says why:
                        #   "timeout", "connect", "protocol", "policy", "request", "unexpected")
    answer.retry_after  # seconds the target asked for (408/429/5xx), capped; else None
    answer.rtt          # seconds the attempt took
    answer.error        # one sentence for the user ("503 Service Unavailable: <excerpt>")
    answer.excerpt, answer.location

    policy = RetryPolicy(initial_backoff=0.5, max_backoff=30.0)
    wait = policy.delay(attempts, answer.retry_after)
    policy.gives_up(failing_for, wait)   # only when dead_letter_after is set

- ``outbound.transport``: ``Outbound`` (connect-time address pinning under the SSRF policy of
  ``outbound.policy``, a pool keyed by origin with TLS verified for the requested host, a
  timeout bounding the whole exchange).
- ``outbound.answers``: ``Answer``, ``Verdict``, ``classify_status`` (2xx success whatever the
  body; 408/429/5xx retryable; other answers permanent), the one ``parse_retry_after``.
- ``outbound.retry``: ``RetryPolicy`` in seconds: capped exponential backoff with jitter,
  Retry-After honoured, optional give-up.

A caller maps only its own answers to messages: the agent delivery in
``pipelines.worker.agentclient``, each sink kind in ``sinks/kinds/`` (``raise_for_answer``).
"""

from __future__ import annotations

from outbound.answers import Answer, Verdict, classify_status, parse_retry_after, status_text
from outbound.retry import RetryPolicy, gave_up_reason
from outbound.transport import Outbound

__all__ = ["Answer", "Outbound", "RetryPolicy", "Verdict", "classify_status", "gave_up_reason",
           "parse_retry_after", "status_text"]
