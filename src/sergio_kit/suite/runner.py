"""Run the conformance suite in-process with pytest and summarise it by check id (``sergio-kit check``)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sergio_kit.checks.registry import refuse_unknown_check_levels
from sergio_kit.config import KitConfig
from sergio_kit.contract.document import Contract, packaged_contract
from sergio_kit.errors import SergioKitError
from sergio_kit.plugin import CONFIG_KEY, CONTRACT_KEY, TRAFFIC_KEY
from sergio_kit.reports.results import ResultCollector, print_table, run_failed
from sergio_kit.reports.timeline import TierTraffic
from sergio_kit.reports.writer import write_reports
from sergio_kit.target.contract import contract_in_force
from sergio_kit.target.traffic import TrafficLog

SUITE_DIR = Path(__file__).resolve().parent


class SettingsPlugin:
    """Hands the resolved settings and the contract in force (loaded once) to the in-process pytest
    run through ``config.stash``.

    Nothing of them goes on a command line, into a file or into the environment, so secrets never
    show in the process list; the sergio plugin's ``sergio_config`` and ``sergio_contract`` fixtures
    return these objects.
    """

    def __init__(self, settings: KitConfig, contract: Contract | None = None) -> None:
        self.settings = settings
        self.contract = contract
        self.traffic = TrafficLog()  # replaced by the run's own log once the checks' context exists

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        """Stash the settings before the sergio plugin's own ``pytest_configure`` reads them."""
        config.stash[CONFIG_KEY] = self.settings
        if self.contract is not None:
            config.stash[CONTRACT_KEY] = self.contract

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Keep the rate-limit traffic the checks recorded, for the report's timelines."""
        self.traffic = config.stash.get(TRAFFIC_KEY, self.traffic)


def tier_traffic(log: TrafficLog, limits: Mapping[str, int]) -> list[TierTraffic]:
    """The report's per-tier timelines from the checks' traffic (times from the first request)."""
    return [
        TierTraffic(tier=tier, limit=limits[tier], events=events)
        for tier, events in log.since_start().items()
        if tier in limits
    ]


def pytest_arguments(
    settings: KitConfig, faults: Sequence[str] = (), variants: Sequence[str] = ()
) -> list[str]:
    """The pytest command line for the suite: no settings (see :class:`SettingsPlugin`), only the
    group selection and the embedded server's faults and variants."""
    arguments = [str(SUITE_DIR), "-c", str(SUITE_DIR / "pytest.ini"), "--rootdir", str(SUITE_DIR)]
    arguments += ["-p", "no:terminal"]
    expression = settings.marker_expression()
    if expression is not None:
        arguments += ["-m", expression]
    for fault in faults:
        arguments += ["--sergio-embedded-fault", fault]
    for variant in variants:
        arguments += ["--sergio-embedded-variant", variant]
    return arguments


def run_suite(settings: KitConfig, faults: Sequence[str] = (), variants: Sequence[str] = ()) -> int:
    """Run the suite with ``settings`` (the embedded server with ``faults`` and ``variants``); print
    the table and the counts, write the reports; 0 when every check passed (skips allowed), 1 on a
    failure (or, strict, a warning). A check level naming no check stops it before it starts."""
    refuse_unknown_check_levels(settings)
    contract = contract_in_force(settings, variants)  # a bad contract stops the run here, in one line
    report_dir = settings.report_dir
    report_dir.mkdir(parents=True, exist_ok=True)
    target = settings.base_url or "the embedded reference server"
    started = [f"faults: {', '.join(faults)}"] if faults else []
    started += [f"variants: {', '.join(variants)}"] if variants else []
    print(f"sergio-kit check: target {target}" + (f" ({'; '.join(started)})" if started else ""))
    for line in settings.summary()[1:]:
        print(f"  {line}")
    if settings.contract is None and contract is not packaged_contract():
        print(f"  contract: {contract.source}")
    collector = ResultCollector()
    started_at = datetime.now(UTC)
    plugin = SettingsPlugin(settings, contract)
    exit_code = pytest.main(pytest_arguments(settings, faults, variants), plugins=[collector, plugin])
    if collector.usage_error is not None:
        raise collector.usage_error
    print_table(collector.results, sys.stdout)
    traffic = tier_traffic(plugin.traffic, settings.tier_limits)
    paths = write_reports(
        report_dir,
        target,
        collector.results,
        started_at,
        datetime.now(UTC),
        traffic=traffic,
        strict=settings.strict,
    )
    counts = collector.counts()
    print(
        f"\n{len(collector.results)} checks: {counts['passed']} passed, {counts['warned']} warned, "
        f"{counts['failed']} failed, {counts['error']} errors, {counts['skipped']} skipped  "
        f"(reports: {', '.join(map(str, paths))})"
    )
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise SergioKitError(f"the suite could not run (pytest exit code {int(exit_code)})")
    return 1 if run_failed(counts, strict=settings.strict) else 0
