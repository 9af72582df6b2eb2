"""Every kit check passes on the clean reference server and fails on the fault named after it (and
on each variant of that fault, ``<check id>@<variant>``).

A check that cannot fail is a defect: this module is where each one is shown to fail. Checks of the
kit itself (``transport.tls_verified``, ``webhook.verifier``) have no server fault; they are proven
by breaking the kit in ``test_kit_checks.py``. The cassette checks read the committed cassettes here
and are proven on broken cassettes in ``tests/cassettes/test_replay.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import all_checks, get_check
from sergio_kit.reports.findings import CheckFailed
from sergio_kit.server.faults import FAULTS, caught_by
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, embedded_target
from tests.checks.fault_symptoms import SETUP_FAILURES, SYMPTOMS, assert_symptom, symptom_of
from tests.support.clock import start_fresh_windows
from tests.support.fault_servers import FaultServers

KIT_PROPERTIES = {"transport.tls_verified", "webhook.verifier"}
#: Checks of recorded files, not of the server: proven on broken cassettes in tests/cassettes/.
CASSETTE_CHECKS = {"cassette.replay", "cassette.redaction"}
COMMITTED_CASSETTES = Path(__file__).resolve().parents[2] / "fixtures" / "cassettes"
CHECK_IDS = [spec.check_id for spec in all_checks()]
#: Faults that break a rule of another basis than their check's main one: the breach carries its
#: rule's basis, which sets the verdict (every other fault breaks its check's main rule).
OTHER_BASIS = {
    "auth.login.lifetime": "recommended",  # expires_at == exp is the kit's assumption
    "refresh.rotation": "documented",  # the published refresh's access token must work
    "auth.jwt.claim_fuzz@cid-trusted": "documented",  # another company's data: each sees only its own
    "auth.jwt.jku@fetch": "recommended",  # fetching a URL a token names: RFC 8725 §3.10 says SHOULD
    "refresh.claims@expires_at": "recommended",  # expires_at == exp is the kit's assumption
}
FAULT_IDS = sorted(fault_id for fault_id in FAULTS if caught_by(fault_id) in CHECK_IDS)


@pytest.fixture(scope="module")
def clean_context(server: RunningServer) -> Iterator[CheckContext]:
    """A check context on the session's clean server."""
    target = embedded_target(server)
    target.cassette_dir = COMMITTED_CASSETTES
    context = CheckContext(target, max_examples=10)
    yield context
    context.close()
    context.target.close()


def test_every_check_can_be_shown_to_fail() -> None:
    """Each registered check has a server fault of the same id, or is a property of the kit or of
    the recorded cassettes."""
    assert set(CHECK_IDS) - set(FAULTS) <= KIT_PROPERTIES | CASSETTE_CHECKS


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_passes_on_the_clean_server(
    check_id: str, clean_context: CheckContext, clock: TestClock
) -> None:
    """On the clean embedded server the check passes, and is never skipped."""
    start_fresh_windows(clock)
    get_check(check_id).run(clean_context)


def test_every_fault_is_caught_by_a_check() -> None:
    """Each variant fault (``<check id>@<variant>``) names a registered check that must catch it."""
    assert {caught_by(fault_id) for fault_id in FAULTS if "@" in fault_id} <= set(CHECK_IDS)


def test_every_fault_has_a_symptom() -> None:
    """Each fault a registered check must catch says how its finding reads, and no symptom names a
    fault that no longer exists."""
    missing = sorted(set(FAULT_IDS) - set(SYMPTOMS))
    assert not missing, f"add the symptom of each to tests/checks/fault_symptoms.py: {missing}"
    assert sorted(set(SYMPTOMS) - set(FAULTS)) == []


@pytest.mark.parametrize("fault_id", sorted(SYMPTOMS))
def test_no_symptom_reads_like_a_setup_failure(fault_id: str) -> None:
    """A symptom never matches what the kit says when a setup step fails (a login, a job to test
    with, an unreachable target), so a check that broke down early cannot pass as a proof."""
    assert not [text for text in SETUP_FAILURES if symptom_of(fault_id).search(text)]


@pytest.mark.parametrize("fault_id", FAULT_IDS)
def test_check_fails_on_its_fault(fault_id: str, fault_server: FaultServers) -> None:
    """With ``--fault <check id>[@variant]`` the check of that id fails for that fault (its finding
    shows the fault's symptom, :mod:`tests.checks.fault_symptoms`), naming the broken rule's basis:
    its check's main one unless :data:`OTHER_BASIS` says otherwise."""
    spec = get_check(caught_by(fault_id))
    with fault_server.use(fault_id) as server:
        context = CheckContext(embedded_target(server), max_examples=10)
        try:
            with pytest.raises(CheckFailed) as failure:
                spec.run(context)
            assert_symptom(fault_id, failure.value)
            assert (failure.value.basis or spec.basis) == OTHER_BASIS.get(fault_id, spec.basis)
        finally:
            context.close()
            context.target.close()
