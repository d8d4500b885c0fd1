"""Run history: every batch sent to an agent, its attempts, its outcome and the outputs that came back.

``runs.recorder`` writes (pipeline worker and receiver, no Django); ``runs.store`` reads and
replays (control plane, through the NATS bridge); ``runs.api`` serves it under
``/api/v1/projects/{id}/runs/``. Storage: the per-project stream ``gf-ai-runs-{id}``.
"""
