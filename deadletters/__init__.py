"""Dead letters and statistics of a project's data plane, read straight from JetStream (no models)."""
