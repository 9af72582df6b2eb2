"""Helpers shared by the tests: plain functions and classes, imported by name (never from conftest).

``api``: logins, bearer headers, the seeded accounts and a sample job; ``clock``: the test-clock jump
that starts every rate-limit window afresh; ``fault_servers``: reference servers with faults, one per
fault id, shared by the tests that name it; ``kit_process``: the ``sergio-kit`` command as a process.
"""
