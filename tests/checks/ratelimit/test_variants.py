"""The kit's judgement of the rate-limit variants: a correct deployment that chose a fixed window,
buckets per token, the older header forms, no rate-limit headers or no bulk endpoint gets no failure
from the ``ratelimit`` checks: a warning where the rule it leaves is the kit's recommendation, a skip
naming what it lacks, and a pass everywhere else; the faults stay caught with the variant on.

Each test runs the checks in-process on a server of its own variants (started once per module).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import get_check
from sergio_kit.contract.document import TIERS
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, embedded_target, start_server
from sergio_kit.target.throttling import Throttle
from tests.checks.fault_symptoms import assert_symptom
from tests.support.clock import clock_of, start_fresh_windows

PER_TIER_RULES = ("boundary", "retry_after", "retry_after_honest", "headers", "body")
CROSS = (
    "ratelimit.isolation.keys",
    "ratelimit.isolation.users",
    "ratelimit.isolation.tiers",
    "ratelimit.concurrency",
)


class CountedThrottle(Throttle):
    """A throttle that notes every wait it makes (and still makes it, on the test clock)."""

    def __init__(self, clock: TestClock | None) -> None:
        super().__init__(clock)
        self.waits: list[int] = []

    def wait(self, seconds: int, reason: str) -> None:
        """Note the wait, then wait."""
        self.waits.append(seconds)
        super().wait(seconds, reason)


class Servers:
    """Servers by (variants, faults), started on first use and stopped at the end of the module."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, template: Path) -> None:
        self._factory = tmp_path_factory
        self._template = template
        self._running: dict[tuple[tuple[str, ...], tuple[str, ...]], RunningServer] = {}

    @contextmanager
    def context(self, variants: tuple[str, ...], faults: tuple[str, ...] = ()) -> Iterator[CheckContext]:
        """A check context on the server with ``variants`` and ``faults``, at fresh windows."""
        key = (variants, faults)
        if key not in self._running:
            folder = self._factory.mktemp("variant")
            self._running[key] = start_server(
                folder, variants=variants, faults=faults, template=self._template
            )
        server = self._running[key]
        with clock_of(server) as clock:
            start_fresh_windows(clock)
        target = embedded_target(server)
        context = CheckContext(target, CountedThrottle(target.clock), max_examples=5)
        try:
            yield context
        finally:
            context.close()
            context.target.close()

    def close(self) -> None:
        """Stop every server started."""
        for server in self._running.values():
            server.stop()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, server_template: Path) -> Iterator[Servers]:
    """Variant servers for this module."""
    started = Servers(tmp_path_factory, server_template)
    yield started
    started.close()


def _passes(context: CheckContext, *check_ids: str) -> None:
    for check_id in check_ids:
        get_check(check_id).run(context)


def _warns(context: CheckContext, check_id: str) -> CheckFailed:
    """The check breaks a recommended rule: its verdict is ``warned``."""
    spec = get_check(check_id)
    with pytest.raises(CheckFailed) as breach:
        spec.run(context)
    assert (breach.value.basis or spec.basis) == "recommended", breach.value.finding.message
    return breach.value


def _fails(context: CheckContext, fault_id: str) -> CheckFailed:
    """The check of ``fault_id`` fails for that fault: its finding shows the fault's symptom."""
    with pytest.raises(CheckFailed) as failure:
        get_check(fault_id).run(context)
    assert_symptom(fault_id, failure.value)
    return failure.value


def test_a_fixed_window_passes_the_documented_rules_and_warns_of_its_burst(servers: Servers) -> None:
    """A fixed window (at whatever second it opens) keeps the quotas and an honest Retry-After; only
    ``ratelimit.window`` warns, of the 2N a window's turn admits."""
    with servers.context(("fixed-window",)) as context:
        _passes(context, *(f"ratelimit.{tier}.{rule}" for tier in TIERS for rule in PER_TIER_RULES))
        _passes(context, *CROSS, "ratelimit.relogin_bypass")
        breach = _warns(context, "ratelimit.window")
        assert "span admitted" in breach.finding.message


@pytest.mark.parametrize("fault", ["ratelimit.bulk.boundary", "ratelimit.bulk.retry_after_honest"])
def test_a_fixed_window_still_catches_the_documented_faults(servers: Servers, fault: str) -> None:
    """With the fixed window on, the quota's and Retry-After's faults still fail their checks."""
    with servers.context(("fixed-window",), (fault,)) as context:
        _fails(context, fault)


def test_buckets_per_token_warn_of_the_relogin_bypass_only(servers: Servers) -> None:
    """Per-token buckets keep every per-tier rule and the isolation; a fresh login's fresh quota is a
    warning (the docs say "per API key / token")."""
    with servers.context(("token-buckets",)) as context:
        _passes(context, *(f"ratelimit.{tier}.{rule}" for tier in TIERS for rule in PER_TIER_RULES))
        _passes(context, *CROSS, "ratelimit.window")
        breach = _warns(context, "ratelimit.relogin_bypass")
        assert "with a fresh login's token" in breach.finding.message


@pytest.mark.parametrize("tier", TIERS)
def test_no_rate_limit_headers_warn_saying_so(servers: Servers, tier: str) -> None:
    """Without any rate-limit field the headers rule warns that none was sent; the documented rules
    (quota, Retry-After) and the 429's body pass on Retry-After alone."""
    with servers.context(("no-ratelimit-headers",)) as context:
        breach = _warns(context, f"ratelimit.{tier}.headers")
        assert "no rate-limit headers were sent" in breach.finding.message
        _passes(context, *(f"ratelimit.{tier}.{rule}" for rule in PER_TIER_RULES if rule != "headers"))


def test_the_kit_paces_itself_without_rate_limit_headers(servers: Servers) -> None:
    """``refresh.race`` waits for a full auth window on Retry-After and its own count alone."""
    with servers.context(("no-ratelimit-headers",)) as context:
        _passes(context, "refresh.race", *CROSS)


def _auth_waits(context: CheckContext) -> list[list[int]]:
    """The waits of ``wait_for_quota("auth", n)`` for n = 9, then 10, after one login each."""
    assert isinstance(context.throttle, CountedThrottle)
    seen = []
    for needed in (9, 10):
        context.login()
        context.throttle.waits.clear()
        context.wait_for_quota("auth", needed, "a test")
        seen.append(list(context.throttle.waits))
    return seen


def test_the_kit_paces_the_auth_tier_on_the_older_header_forms(servers: Servers) -> None:
    """The kit's pacing reads what remains from draft 03's fields (the tier from the operation, as
    they name none): no wait while enough remains, the reset's seconds when not."""
    with servers.context(("legacy-ratelimit-headers",)) as context:
        enough, short = _auth_waits(context)
        assert enough == []
        assert len(short) == 1 and 1 <= short[0] <= FRESH_WINDOW_SECONDS


def test_the_kit_paces_the_auth_tier_without_headers(servers: Servers) -> None:
    """Without rate-limit headers the kit cannot know what remains: it waits a fresh window."""
    with servers.context(("no-ratelimit-headers",)) as context:
        assert _auth_waits(context) == [[FRESH_WINDOW_SECONDS], [FRESH_WINDOW_SECONDS]]


@pytest.mark.parametrize("tier", TIERS)
def test_the_older_header_forms_are_read_and_judged(servers: Servers, tier: str) -> None:
    """Draft 03's fields and X-RateLimit-* are read like the structured ones: they pass when they
    count down with the kit ..."""
    with servers.context(("legacy-ratelimit-headers",)) as context:
        _passes(context, f"ratelimit.{tier}.headers")


@pytest.mark.parametrize("tier", TIERS)
def test_only_the_policy_field_passes(servers: Servers, tier: str) -> None:
    """A deployment that sends only ``RateLimit-Policy`` (the quota, nothing of what remains) passes the
    headers rule: what it sends agrees with the tier, and what it leaves out is not asked for."""
    with servers.context(("ratelimit-policy-only",)) as context:
        _passes(context, f"ratelimit.{tier}.headers")


def test_only_the_policy_field_still_shows_a_wrong_quota(servers: Servers) -> None:
    """With only ``RateLimit-Policy`` sent, a quota it gets wrong is still a warning."""
    with servers.context(("ratelimit-policy-only",), ("ratelimit.read.headers@quota-only",)) as context:
        assert "says a quota of 240" in _warns(context, "ratelimit.read.headers").finding.message


def test_the_older_header_forms_still_show_the_headers_fault(servers: Servers) -> None:
    """... and warn when what remains does not count down (the headers fault)."""
    with servers.context(("legacy-ratelimit-headers",), ("ratelimit.read.headers",)) as context:
        breach = _warns(context, "ratelimit.read.headers")
        assert "draft-03 form" in breach.finding.message


@pytest.mark.parametrize("rule", PER_TIER_RULES)
def test_without_bulk_the_bulk_rules_skip_naming_the_operation(servers: Servers, rule: str) -> None:
    """The bulk tier's rules skip, naming the operation the contract lacks."""
    with servers.context(("no-bulk",)) as context, pytest.raises(CheckSkipped, match="POST /v1/jobs/bulk"):
        get_check(f"ratelimit.bulk.{rule}").run(context)


def test_without_bulk_the_cross_tier_checks_spend_webhook_registration(servers: Servers) -> None:
    """Isolation, re-login and the window spend the scarcest tier left (webhook registration)."""
    with servers.context(("no-bulk",)) as context:
        _passes(context, *CROSS, "ratelimit.relogin_bypass", "ratelimit.window")
        assert "webhook" in context.traffic.events and "bulk" not in context.traffic.events


@pytest.mark.parametrize("fault", ["ratelimit.isolation.keys", "ratelimit.isolation.tiers"])
def test_without_bulk_the_isolation_faults_are_still_caught(servers: Servers, fault: str) -> None:
    """Shared buckets (across users, across tiers) still fail the isolation checks."""
    with servers.context(("no-bulk",), (fault,)) as context:
        _fails(context, fault)
