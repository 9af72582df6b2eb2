"""Every fault is still caught with every variant on.

The variants make the reference server take the other allowed choices (refresh without rotation,
fixed windows, buckets per token, no RateLimit headers, no key management, ...). A kit that learned to
accept those choices must not have gone blind: with all variants on, each check still fails (or
warns, for a recommended rule) on its own fault, with the fault's symptom
(:mod:`tests.checks.fault_symptoms`), except the checks the variants take away what they need from,
which skip with the reason :mod:`tests.support.variant_outcomes` names. A fault that lives in what a
variant takes away (``UNREACHABLE_FAULTS``) is proven with every other variant on.
"""

from __future__ import annotations

import re

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import all_checks, get_check
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.server.faults import FAULTS, caught_by
from sergio_kit.target.embedded import embedded_target
from tests.checks.fault_symptoms import assert_symptom
from tests.support.fault_servers import FaultServers, server_key, server_options
from tests.support.variant_outcomes import EVERY_VARIANT, UNREACHABLE_FAULTS, expected_outcome

CHECK_IDS = {spec.check_id for spec in all_checks()}


def variants_for(fault_id: str) -> tuple[str, ...]:
    """Every variant, but the one that takes away what ``fault_id`` breaks."""
    return tuple(variant for variant in EVERY_VARIANT if variant != UNREACHABLE_FAULTS.get(fault_id))


FAULT_KEYS = [
    pytest.param(server_key((fault_id,), variants_for(fault_id)), fault_id, id=fault_id)
    for fault_id in sorted(FAULTS)
    if caught_by(fault_id) in CHECK_IDS
]


@pytest.mark.parametrize(("server_key", "fault_id"), FAULT_KEYS)
def test_fault_is_caught_with_every_variant_on(
    server_key: str, fault_id: str, variant_server: FaultServers
) -> None:
    """The fault's check raises a finding showing the fault's symptom (:mod:`tests.checks.fault_symptoms`);
    a check the variants disable skips with the expected reason."""
    check_id = caught_by(fault_id)
    expected_status, word = expected_outcome(check_id, server_options(server_key)[1])
    with variant_server.use(server_key) as server:
        context = CheckContext(embedded_target(server), max_examples=10)
        try:
            if expected_status == "skipped":
                with pytest.raises(CheckSkipped, match=f"(?i){re.escape(word)}"):
                    get_check(check_id).run(context)
            else:
                with pytest.raises(CheckFailed) as failure:
                    get_check(check_id).run(context)
                assert_symptom(fault_id, failure.value)
        finally:
            context.close()
            context.target.close()
