"""Dead letters of a project's pipeline and sinks: pages, API and the JetStream reads and replays behind them (no models)."""
