"""The sink worker (``manage.py runsink``): delivers agent outputs from each project's output stream
to its webhooks and Slack channels, one durable JetStream consumer per enabled sink."""
