"""The OTLP/HTTP receiver: a lean ASGI app that authenticates with keys from the config KV
bucket and publishes flat records to each project's JetStream streams (docs/receiver.md).

Modules: ``app`` (routes and the OTLP handler), ``agentoutput``, ``body`` (limits, gunzip),
``asgi`` (responses), ``keyindex`` (API keys from ``gf-ai-config``, fed by projects/configwatch.py),
``publisher`` (pipelined publishing with bounded ack waits), ``keyuse_writer``, ``metrics``,
``runtime`` (NATS connection and background tasks), ``server`` (uvicorn).
"""
