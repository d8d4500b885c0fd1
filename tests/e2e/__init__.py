"""End-to-end tests against real receiver, pipeline and sink processes.

A package (this file) so that the ``data_plane`` fixture of ``conftest.py`` really has package
scope: in a plain directory pytest treats scope="package" as the whole session, and the e2e
runsink would stay up and consume the sinks of every test that runs after these.
"""
