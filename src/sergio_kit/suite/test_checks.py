"""The kit's own checks (auth, refresh, apikey, transport, webhook, ...), one test per check id.

A breach fails the test, or, when the verdict is a warning (:mod:`sergio_kit.checks.verdict`), the
test passes with ``verdict=warned``, the rule's basis and the finding as properties, which the
results collector turns into a ``warned`` result.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import CheckSpec, all_checks
from sergio_kit.checks.verdict import level_of, verdict
from sergio_kit.config import KitConfig
from sergio_kit.reports.findings import CheckFailed, CheckSkipped


def _params() -> list[object]:
    return [
        pytest.param(
            spec,
            id=spec.check_id,
            marks=[getattr(pytest.mark, spec.group), pytest.mark.sergio_check(spec.check_id)],
        )
        for spec in all_checks()
    ]


@pytest.mark.parametrize("spec", _params())
def test_check(
    spec: CheckSpec,
    sergio_config: KitConfig,
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> None:
    """Run one registered check against the target; a missing capability is a skip with its reason,
    a breach of a recommended rule (or of a check whose level is ``warn``) a warning."""
    level = level_of(spec.check_id, sergio_config.check_levels)
    record_property("basis", spec.basis)
    if level is not None:
        record_property("level", level)
    if level == "ignore":
        pytest.skip(
            f"ignored: its level is 'ignore' ({sergio_config.sources.get('check_levels', 'settings')})"
        )
    context: CheckContext = request.getfixturevalue("sergio_check_context")
    try:
        spec.run(context)
    except CheckSkipped as reason:
        pytest.skip(str(reason))
    except CheckFailed as failure:
        basis = failure.basis or spec.basis
        record_property("rule_basis", basis)
        if verdict(basis, level) == "failed":
            raise
        record_property("verdict", "warned")
        record_property("finding", json.dumps(failure.finding.as_dict()))
