"""Browser pages of a project, one module per page family: the project list and activity dashboard
(``dashboard``), settings, members, API keys and the live tail. Dead letters and run history are
pages of their own apps (``deadletters.views``, ``runs.views``)."""
