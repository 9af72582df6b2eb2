"""The sergio-kit pytest plugin: the ``sergio`` option group and the target fixtures.

Registered through the ``pytest11`` entry point, so any test repository that installs sergio-kit
gets these options and fixtures. Without ``--sergio-base-url`` the fixtures start the embedded
reference server (TLS on loopback, test clock on) for the session. Settings come from
:func:`sergio_kit.config.load_config` (options > ``SERGIO_*`` > config file > defaults), or from
``sergio-kit check``, which resolves them itself and puts them in ``config.stash``. Heavy imports
(schemathesis, locust) stay off this module's import path.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from sergio_kit.config import (
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_TIER_LIMITS,
    MARKERS,
    KitConfig,
    command_labels,
    command_settings,
    load_config,
)
from sergio_kit.contract.document import Contract, packaged_contract
from sergio_kit.errors import OutOfTime, SergioKitError
from sergio_kit.target.contract import contract_in_force
from sergio_kit.target.embedded import RunningServer, embedded_target, start_server
from sergio_kit.target.live import live_target, with_user_choices
from sergio_kit.target.pacing import Pacer
from sergio_kit.target.session import TokenSession
from sergio_kit.target.target import Target
from sergio_kit.target.throttling import Throttle
from sergio_kit.target.traffic import TrafficLog

EMBEDDED_SERVER_KEY = pytest.StashKey[RunningServer]()
CONFIG_KEY = pytest.StashKey[KitConfig]()  # set by `sergio-kit check`, else resolved from the options
CONTRACT_KEY = pytest.StashKey[Contract]()  # the contract in force (set by `sergio-kit check`, else resolved)
TRAFFIC_KEY = pytest.StashKey[TrafficLog]()  # the rate-limit probes' traffic, for the report's timelines
SAVED_MAX_EXAMPLES_KEY = pytest.StashKey[str | None]()  # SERGIO_MAX_EXAMPLES before this run
THROTTLE_KEY = pytest.StashKey[Throttle]()  # the run's throttle, told which check is running
DEADLINE_KEY = pytest.StashKey[float]()  # time.monotonic() past which no check starts (--max-duration)
RUN_PLAN_KEY = pytest.StashKey[tuple[float, Any]]()  # (time.monotonic() at the start, the RunPlan)
# setting -> this plugin's option (the CLI layer of load_config), from the settings table; groups come
# from markers and reports from `sergio-kit check`, so those two have no plugin option
OPTIONS = command_labels("pytest")
CHECK_MARKER = "sergio_check"
MAX_EXAMPLES_ENV = "SERGIO_MAX_EXAMPLES"
#: The group order against a live target without a test clock (see pytest_collection_modifyitems); the
#: ``cassette`` checks last, once every auth-lane check reported (replaying patches httpx for the whole
#: process: a lane request sent meanwhile would meet the cassette instead of the target)
LIVE_ORDER = ("ratelimit", "contract", "apikey", "transport", "webhook", "auth", "refresh", "cassette")


def max_examples() -> int:
    """Hypothesis examples per operation in force (``pytest_configure`` exports them), else 25.

    Read at import time by decorators, hence through the environment rather than a fixture.
    """
    value = os.environ.get(MAX_EXAMPLES_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_EXAMPLES


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``sergio`` option group: every setting the settings table offers to pytest
    (``--sergio-<name>``), plus ``--sergio-embedded-fault`` and ``--sergio-embedded-variant``; every
    option defaults to ``None`` (not given)."""
    group = parser.getgroup("sergio", "sergio-kit: the Sergio API target")
    for setting in command_settings("pytest"):
        group.addoption(OPTIONS[setting.name], dest="sergio_" + setting.name, **setting.option_arguments())
    group.addoption(
        "--sergio-embedded-fault",
        action="append",
        default=None,
        metavar="CHECK_ID",
        help="start the embedded server with this fault, to watch a check fail (repeatable).",
    )
    group.addoption(
        "--sergio-embedded-variant",
        action="append",
        default=None,
        metavar="NAME",
        help="start the embedded server taking this allowed choice (see sergio-kit serve --list-variants; "
        "repeatable).",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the check-id and group markers; count the checks that warn; pass on the example budget
    of the settings in force."""
    config.addinivalue_line("markers", f"{CHECK_MARKER}(check_id): the sergio-kit check id a test implements")
    for group in MARKERS:
        config.addinivalue_line("markers", f"{group}: a sergio-kit check of the {group} group")
    config.stash[WARNED_KEY] = warned = WarnedChecks()
    config.pluginmanager.register(warned, "sergio-kit-warned-checks")
    try:
        settings = resolve_config(config)
    except SergioKitError:
        return  # reported by the sergio_config fixture, only if a test needs the target
    if settings.max_duration is not None:
        config.stash[DEADLINE_KEY] = time.monotonic() + settings.max_duration
    config.stash[SAVED_MAX_EXAMPLES_KEY] = os.environ.get(MAX_EXAMPLES_ENV)
    os.environ[MAX_EXAMPLES_ENV] = str(settings.max_examples)
    try:
        _RUN_CONTRACT["contract"] = resolve_contract(config)
    except SergioKitError:
        return  # reported by the sergio_contract fixture, only if a test needs the contract


#: The contract in force of the run being configured, for what reads it at import time.
_RUN_CONTRACT: dict[str, Contract] = {}


def run_contract() -> Contract:
    """The contract in force of the pytest run (the packaged one when it could not be resolved: the
    ``sergio_contract`` fixture then says why). Read at import time by Schemathesis's
    ``@schema.parametrize()``, hence not through a fixture."""
    return _RUN_CONTRACT.get("contract") or packaged_contract()


def resolve_contract(config: pytest.Config) -> Contract:
    """The contract in force: the one ``sergio-kit check`` put in the stash, else the ``contract``
    setting loaded once (a file, or a URL), else the packaged contract minus the operations the
    embedded server's variants drop."""
    contract = config.stash.get(CONTRACT_KEY, None)
    if contract is None:
        variants = config.getoption("sergio_embedded_variant") or ()
        contract = config.stash[CONTRACT_KEY] = contract_in_force(resolve_config(config), variants)
    return contract


def resolve_config(config: pytest.Config) -> KitConfig:
    """The settings in force: the ones ``sergio-kit check`` put in the stash, else :func:`load_config`
    over this plugin's options, ``SERGIO_*`` and the config file of the invocation directory."""
    settings = config.stash.get(CONFIG_KEY, None)
    if settings is None:
        cli = {name: config.getoption("sergio_" + name) for name in OPTIONS}
        settings = load_config(cli, os.environ, config.invocation_params.dir, cli_labels=OPTIONS)
        if settings.check_levels:  # the registry imports every check module: only when levels are set
            from sergio_kit.checks.registry import refuse_unknown_check_levels

            refuse_unknown_check_levels(settings)
        config.stash[CONFIG_KEY] = settings
    return settings


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the check groups in catalogue order (contract first) and record each test's check id as a
    user property (it reaches reports and JUnit XML). Against a live target without a test clock the
    order follows the auth tier, the scarce one: ratelimit first (its auth probe owns a quiet minute and
    leaves spare logins), then the groups that need few logins, the auth and refresh groups (run in
    their lane, beside the others) after them, the cassette checks last (offline, once the lane is
    done); ``contract.declared`` after the contract run, whose 2xx answers
    spare it most of its calls."""
    live = _live_without_clock(config)
    groups = list(MARKERS)
    if live:
        groups = [group for group in LIVE_ORDER if group in groups] + [
            g for g in groups if g not in LIVE_ORDER
        ]
    order = {group: index for index, group in enumerate(groups)}

    def group_rank(item: pytest.Item) -> tuple[int, bool]:
        ranks = [order[marker.name] for marker in item.iter_markers() if marker.name in order]
        marker = item.get_closest_marker(CHECK_MARKER)
        last = live and marker is not None and marker.args[0] == "contract.declared"
        return min(ranks, default=len(order)), last

    items.sort(key=group_rank)  # stable: keeps file order within a group
    for item in items:
        marker = item.get_closest_marker(CHECK_MARKER)
        if marker is not None:
            item.user_properties.append(("check_id", marker.args[0]))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Tell the run's throttle which check is running (made by the first check's fixtures, it was
    not there yet when that check's setup began)."""
    _name_current_check(item)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Past the run's ``max_duration``, end the check as an error, "out of time", before it starts;
    else tell the run's throttle which check is running (its ledger counts requests per check)."""
    deadline = item.config.stash.get(DEADLINE_KEY, None)
    if deadline is not None and time.monotonic() >= deadline:
        raise OutOfTime(
            f"out of time: max_duration ({_max_duration(item.config)} s) ran out before this check ran"
        )
    _name_current_check(item)


def _name_current_check(item: pytest.Item) -> None:
    throttle = item.config.stash.get(THROTTLE_KEY, None)
    if throttle is not None:
        marker = item.get_closest_marker(CHECK_MARKER)
        throttle.current = marker.args[0] if marker is not None else item.name


def _max_duration(config: pytest.Config) -> int | None:
    try:
        return resolve_config(config).max_duration
    except SergioKitError:
        return None


def _live_without_clock(config: pytest.Config) -> bool:
    try:
        settings = resolve_config(config)
    except SergioKitError:
        return False  # reported by the sergio_config fixture
    return settings.base_url is not None and settings.clock_url is None


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show the target and the settings in force (secrets only as set / not set)."""
    try:
        lines = resolve_config(config).summary()
    except SergioKitError as error:
        return [f"sergio-kit: configuration error: {error}"]
    return [f"sergio-kit {line}" for line in lines]


class WarnedChecks:
    """Counts the tests that passed with a warning (user property ``verdict=warned``); with ``strict``
    in force such a run exits 1, as ``sergio-kit check --strict`` does."""

    def __init__(self) -> None:
        self.count = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count a passed test that carries ``verdict=warned``."""
        if report.when == "call" and report.passed and ("verdict", "warned") in report.user_properties:
            self.count += 1


WARNED_KEY = pytest.StashKey[WarnedChecks]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With ``strict`` in force (``--sergio-strict``, ``SERGIO_STRICT``, ``strict = true``), a run whose
    tests passed but where a check warned exits 1."""
    warned = session.config.stash.get(WARNED_KEY, None)
    if warned is None or not warned.count or session.exitstatus != pytest.ExitCode.OK:
        return
    if _strict(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say how many checks warned, and whether that fails the run."""
    warned = config.stash.get(WARNED_KEY, None)
    if warned is not None and warned.count:
        consequence = (
            "strict: the run fails" if _strict(config) else "warnings alone pass (strict fails them)"
        )
        terminalreporter.write_line(f"sergio-kit: {warned.count} check(s) warned; {consequence}")


def _strict(config: pytest.Config) -> bool:
    try:
        return resolve_config(config).strict
    except SergioKitError:
        return False  # reported by the sergio_config fixture


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the embedded server if this session started one; restore the example-budget variable."""
    server = config.stash.get(EMBEDDED_SERVER_KEY, None)
    if server is not None:
        server.stop()
    _RUN_CONTRACT.pop("contract", None)
    if SAVED_MAX_EXAMPLES_KEY in config.stash:
        saved = config.stash[SAVED_MAX_EXAMPLES_KEY]
        if saved is None:
            os.environ.pop(MAX_EXAMPLES_ENV, None)
        else:
            os.environ[MAX_EXAMPLES_ENV] = saved


@pytest.fixture(scope="session")
def sergio_config(request: pytest.FixtureRequest) -> KitConfig:
    """The settings in force (CLI > SERGIO_* > config file > defaults); override it to set your own."""
    return resolve_config(request.config)


@pytest.fixture(scope="session")
def sergio_contract(request: pytest.FixtureRequest, sergio_config: KitConfig) -> Contract:
    """The contract in force (:class:`sergio_kit.contract.document.Contract`): ``--sergio-contract``
    (a file or an https:// URL), else the packaged one minus what the embedded server's variants
    drop. Schemathesis, the checks and the cassette validator all read this one document."""
    return resolve_contract(request.config)


@pytest.fixture(scope="session")
def sergio_target(
    request: pytest.FixtureRequest, sergio_config: KitConfig, sergio_contract: Contract
) -> Iterator[Target]:
    """The target under test: a live deployment, or the embedded reference server; held to the
    contract in force."""
    if sergio_config.base_url is not None:
        target = live_target(sergio_config, sergio_contract)
    else:
        config = request.config
        data_dir = Path(tempfile.mkdtemp(prefix="sergio-embedded-"))
        server = start_server(
            data_dir,
            faults=config.getoption("sergio_embedded_fault") or (),
            variants=config.getoption("sergio_embedded_variant") or (),
            limits=_changed_limits(sergio_config.tier_limits),
        )
        config.stash[EMBEDDED_SERVER_KEY] = server
        target = embedded_target(server)
        target.cassette_dir = sergio_config.cassettes
        target.contract = sergio_contract
        with_user_choices(target, sergio_config)
    yield target
    target.close()


def _changed_limits(limits: Mapping[str, int]) -> dict[str, int] | None:
    """The tier limits to start the embedded server with, or ``None`` for its published defaults."""
    return None if dict(limits) == dict(DEFAULT_TIER_LIMITS) else dict(limits)


@pytest.fixture(scope="session")
def sergio_throttle(request: pytest.FixtureRequest, sergio_target: Target) -> Throttle:
    """Retry-on-429 for the kit's own traffic, with per-operation throttled counts; against a target
    without a test clock, paced to its quotas (:class:`sergio_kit.target.pacing.Pacer`)."""
    pacer = None
    if sergio_target.clock is None:
        pacer = Pacer(sergio_target.tier_limits, deadline=request.config.stash.get(DEADLINE_KEY, None))
    throttle = Throttle(sergio_target.clock, pacer=pacer, contract=sergio_target.contract)
    planned = request.config.stash.get(RUN_PLAN_KEY, None)
    if pacer is not None and planned is not None:  # `sergio-kit check` planned the run
        started, plan = planned
        estimate = float(plan.estimate_seconds)
        pacer.remaining = lambda: max(started + estimate - time.monotonic(), 0.0)
        throttle.expected = dict(plan.later)
        from sergio_kit.checks.lanes import LANE_GROUPS, paused_generating

        throttle.lane_expected = dict(plan.lane)
        throttle.lane_groups = LANE_GROUPS
        pacer.pausing = paused_generating
    request.config.stash[THROTTLE_KEY] = throttle
    return throttle


@pytest.fixture(scope="session")
def sergio_session(sergio_check_context: Any) -> TokenSession:
    """The logged-in session of the target's primary account (one login per run, then refreshes),
    shared with the kit's checks."""
    session: TokenSession = sergio_check_context.session()
    return session


@pytest.fixture(scope="session")
def sergio_client(sergio_target: Target) -> Iterator[httpx.Client]:
    """An httpx client for the target: its base URL, certificates verified with its CA bundle."""
    with httpx.Client(
        base_url=sergio_target.base_url, verify=sergio_target.ssl_context(), timeout=30.0
    ) as client:
        yield client


@pytest.fixture(scope="session")
def sergio_check_context(
    request: pytest.FixtureRequest, sergio_target: Target, sergio_throttle: Throttle, sergio_config: KitConfig
) -> Iterator[Any]:
    """The context the kit's checks run in (:class:`sergio_kit.checks.context.CheckContext`):
    both tenants, throttled requests, the target's extras; what it creates is removed at the end.
    Against a target without a test clock the auth-tier-heavy checks spend the live budget
    (:data:`sergio_kit.checks.budgets.LIVE`), unless the user set ``max_examples``."""
    from sergio_kit.checks.budgets import LIVE, live_budgets_apply
    from sergio_kit.checks.context import CheckContext

    live = live_budgets_apply(sergio_target.clock is None, sergio_config)
    context = CheckContext(
        sergio_target, sergio_throttle, max_examples=max_examples(), live_budget=LIVE if live else None
    )
    request.config.stash[TRAFFIC_KEY] = context.traffic
    yield context
    context.close()


@pytest.fixture(scope="session")
def sergio_auth_lane(sergio_check_context: Any, sergio_config: KitConfig) -> Any:
    """Against a paced (live) target, the lane that runs the selected ``auth`` and ``refresh`` checks in
    a thread beside the others (:class:`sergio_kit.checks.lanes.Lane`); ``None`` otherwise."""
    from sergio_kit.checks.lanes import LANE_GROUPS, Lane
    from sergio_kit.checks.registry import all_checks
    from sergio_kit.checks.verdict import level_of

    if sergio_check_context.throttle.pacer is None:
        return None
    specs = [
        spec
        for spec in all_checks()
        if spec.group in LANE_GROUPS
        and spec.group in sergio_config.only
        and level_of(spec.check_id, sergio_config.check_levels) != "ignore"
    ]
    return Lane(sergio_check_context, specs)


@pytest.fixture(scope="session")
def sergio_other_tenant(sergio_check_context: Any) -> TokenSession:
    """A logged-in session of a second company's admin (skips when none is configured)."""
    from sergio_kit.reports.findings import CheckSkipped

    try:
        session: TokenSession = sergio_check_context.session("other")
    except CheckSkipped as reason:
        pytest.skip(str(reason))
    return session


@pytest.fixture(scope="session")
def sergio_api_key(sergio_check_context: Any) -> Callable[..., str]:
    """Factory: ``sergio_api_key("jobs:read")`` is a key with exactly those scopes, created through
    key management and revoked at the end of the session, or, without key management, the supplied
    one (``SERGIO_API_KEY``: jobs:read + jobs:write, ``SERGIO_READ_ONLY_API_KEY``: jobs:read); skips
    when there is none."""
    from sergio_kit.reports.findings import CheckSkipped

    def make(*scopes: str, tenant: str = "primary") -> str:
        try:
            _, key = sergio_check_context.api_key(scopes, tenant)
        except CheckSkipped as reason:
            pytest.skip(str(reason))
        return str(key)

    return make


@pytest.fixture
def webhook_receiver(sergio_check_context: Any) -> Iterator[Any]:
    """A real HTTPS webhook receiver on loopback that the target trusts
    (:class:`sergio_kit.webhooks.receiver.WebhookReceiver`); skips when no trusted certificate is
    available."""
    from sergio_kit.reports.findings import CheckSkipped

    try:
        receiver = sergio_check_context.receiver()
    except CheckSkipped as reason:
        pytest.skip(str(reason))
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def sergio_schema(sergio_target: Target) -> Any:
    """The contract in force loaded with Schemathesis and aimed at the target (TLS verified)."""
    from sergio_kit.checks.contract.wiring import aim, load_contract

    schema = load_contract(sergio_target.contract)
    aim(schema, sergio_target)
    return schema
