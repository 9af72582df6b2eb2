"""``sergio-kit load``: run Locust (always in child processes), pace and classify per tier, judge and report.

Nothing here imports Locust or gevent; the Locust-only scenarios ship as package data in
``scenarios/`` (``load/`` in a checkout). ``plan``, ``ledger`` and ``timeline`` are light enough for
those processes to import.
"""
