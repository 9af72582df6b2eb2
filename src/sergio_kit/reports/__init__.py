"""Findings, results and reports: what a run found, masked, and written as JSON, JUnit XML and HTML.

``findings`` and ``redaction`` are the bottom of the kit (checks raise findings; everything printed is
masked); ``results`` collects a pytest run's check results; ``writer`` writes ``report.json``,
``junit.xml``, ``report.html`` and ``summary.md`` (``markdown``: for a CI job page); ``timeline`` draws
the per-tier rate-limit charts.
"""
