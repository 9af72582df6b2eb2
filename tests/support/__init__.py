"""Helpers shared by the tests: plain functions and classes, imported by name (never from conftest).

``api``: logins, bearer headers, HTTPS clients, the seeded accounts and a sample job; ``clock``: the
test-clock client of a server and the jump that starts every rate-limit window afresh;
``environment``: a test's exact ``SERGIO_*`` environment and working folder; ``fault_servers``:
reference servers with faults, one per fault id, shared by the tests that name it; ``kit_process``:
the ``sergio-kit`` command as a process; ``reports``: the secrets and names the report tests share;
``scheduling``: how ``make test`` spreads the test files over pytest-xdist workers.
"""
