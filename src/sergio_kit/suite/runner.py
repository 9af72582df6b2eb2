"""Run the conformance suite in-process with pytest and summarise it by check id (``sergio-kit check``)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sergio_kit.checks.budgets import case_budgets, live_budgets_apply
from sergio_kit.checks.plan import RunPlan, plan_run
from sergio_kit.checks.registry import all_checks, refuse_unknown_check_levels
from sergio_kit.config import KitConfig
from sergio_kit.contract.document import Contract, packaged_contract
from sergio_kit.errors import SergioKitError
from sergio_kit.plugin import CONFIG_KEY, CONTRACT_KEY, RUN_PLAN_KEY, THROTTLE_KEY, TRAFFIC_KEY
from sergio_kit.reports.results import ResultCollector, print_table, run_failed
from sergio_kit.reports.timeline import TierTraffic
from sergio_kit.reports.writer import write_reports
from sergio_kit.target.contract import contract_in_force
from sergio_kit.target.throttling import Throttle
from sergio_kit.target.traffic import TrafficLog

SUITE_DIR = Path(__file__).resolve().parent
#: The contract group's checks that are pytest tests of this suite rather than registered checks.
SUITE_CHECKS = ("contract.schemathesis", "contract.stateful", "contract.health", "contract.coverage")


class SettingsPlugin:
    """Hands the resolved settings and the contract in force (loaded once) to the in-process pytest
    run through ``config.stash``.

    Nothing of them goes on a command line, into a file or into the environment, so secrets never
    show in the process list; the sergio plugin's ``sergio_config`` and ``sergio_contract`` fixtures
    return these objects.
    """

    def __init__(
        self, settings: KitConfig, contract: Contract | None = None, plan: RunPlan | None = None
    ) -> None:
        self.settings = settings
        self.contract = contract
        self.plan = plan
        self.traffic = TrafficLog()  # replaced by the run's own log once the checks' context exists
        self.throttle: Throttle | None = None  # the run's throttle: what it sent, per check and bucket

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        """Stash the settings before the sergio plugin's own ``pytest_configure`` reads them."""
        config.stash[CONFIG_KEY] = self.settings
        if self.contract is not None:
            config.stash[CONTRACT_KEY] = self.contract
        if self.plan is not None:
            config.stash[RUN_PLAN_KEY] = (time.monotonic(), self.plan)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Keep the rate-limit traffic the checks recorded, for the report's timelines."""
        self.traffic = config.stash.get(TRAFFIC_KEY, self.traffic)
        self.throttle = config.stash.get(THROTTLE_KEY, None)


def tier_traffic(log: TrafficLog, limits: Mapping[str, int]) -> list[TierTraffic]:
    """The report's per-tier timelines from the checks' traffic (times from the first request)."""
    return [
        TierTraffic(tier=tier, limit=limits[tier], events=events)
        for tier, events in log.since_start().items()
        if tier in limits
    ]


def run_plan(settings: KitConfig, contract: Contract) -> RunPlan:
    """The plan of the run ``settings`` select against a target held to ``contract``: live (paced,
    with the live budgets) when it is a deployment without a test clock."""
    live = settings.base_url is not None and settings.clock_url is None
    ignored = {check_id for check_id, level in settings.check_levels.items() if level == "ignore"}
    check_ids = [spec.check_id for spec in all_checks() if spec.group in settings.only]
    if "contract" in settings.only:
        check_ids += SUITE_CHECKS
    budgets: dict[str, int] = {}
    if live_budgets_apply(live, settings):
        budgets = case_budgets(contract, settings.tier_limits, settings.max_examples)
    selected = [check_id for check_id in check_ids if check_id not in ignored]
    users = ["primary"]
    if live:
        logins = (("other", settings.other_email), ("member", settings.member_email))
        users += [name for name, email in logins if email]
    return plan_run(
        selected,
        contract,
        settings.tier_limits,
        budgets,
        live=live,
        max_examples=settings.max_examples,
        users=users,
    )


def early_lines(early: Counter[str]) -> list[str]:
    """What the run says about 429s the target sent although the kit's pacing had left room."""
    if not early:
        return []
    busiest = ", ".join(f"{label} {count}" for label, count in early.most_common(5))
    return [
        f"note: the target answered {sum(early.values())} paced request(s) 429 before the kit had spent "
        f"their quota ({busiest}): it throttles earlier than the tier table says"
    ]


def sent_data(throttle: Throttle | None) -> dict[str, object]:
    """What the run sent, per check, tier and principal role (from the throttle's ledger)."""
    if throttle is None:
        return {}
    sent: dict[str, dict[str, dict[str, int]]] = {}
    for (check_id, tier, role), count in sorted(throttle.ledger.items()):
        if count:
            sent.setdefault(check_id, {}).setdefault(tier, {})[role] = count
    data: dict[str, object] = {"sent": sent}
    if throttle.pacer is not None:
        data["early_429"] = dict(throttle.pacer.early)
        data["waited_seconds"] = {tier: round(seconds, 1) for tier, seconds in throttle.pacer.waited.items()}
    return data


def pytest_arguments(
    settings: KitConfig, faults: Sequence[str] = (), variants: Sequence[str] = ()
) -> list[str]:
    """The pytest command line for the suite: no settings (see :class:`SettingsPlugin`), only the
    group selection and the embedded server's faults and variants."""
    arguments = [str(SUITE_DIR), "-c", str(SUITE_DIR / "pytest.ini"), "--rootdir", str(SUITE_DIR)]
    # sys-level capture: a check's output is kept, but the pacer's wait lines (written to the process's
    # own stderr, sys.__stderr__) reach the user while the check waits
    arguments += ["-p", "no:terminal", "--capture=sys"]
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
    plan = run_plan(settings, contract)
    for line in plan.lines():
        print(line)
    collector = ResultCollector()
    started_at = datetime.now(UTC)
    plugin = SettingsPlugin(settings, contract, plan)
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
        plan={**plan.as_dict(), **sent_data(plugin.throttle)},
    )
    if plugin.throttle is not None and plugin.throttle.pacer is not None:
        for line in early_lines(plugin.throttle.pacer.early):
            print(line)
    counts = collector.counts()
    print(
        f"\n{len(collector.results)} checks: {counts['passed']} passed, {counts['warned']} warned, "
        f"{counts['failed']} failed, {counts['error']} errors, {counts['skipped']} skipped  "
        f"(reports: {', '.join(map(str, paths))})"
    )
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise SergioKitError(f"the suite could not run (pytest exit code {int(exit_code)})")
    return 1 if run_failed(counts, strict=settings.strict) else 0
