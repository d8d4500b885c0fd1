"""Browser UI views of a project, one module per area (keys, members, settings, activity, dead letters)."""
