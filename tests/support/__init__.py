"""Helpers shared by the test suite: servers on loopback, process runners, clients, waits.

Nothing here is a test module; fixtures that use these helpers live in the ``conftest.py``
of the directory whose tests share them.
"""
