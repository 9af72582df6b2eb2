"""``sergio-kit load``: run Locust (always in child processes), pace and classify per tier, judge and report.

Nothing here imports Locust or gevent; the Locust-only scenarios ship as package data in
``scenarios/`` (``load/`` in a checkout). ``plan``, ``ledger``, ``timeline``, ``names``, ``figures``,
``steps`` and ``thresholds`` are light enough for those processes to import.
"""
