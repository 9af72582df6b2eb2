"""The kit's own checks (auth, refresh, apikey, transport, webhook, ...), one test per check id."""

from __future__ import annotations

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import CheckSpec, all_checks
from sergio_kit.reports.findings import CheckSkipped


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
def test_check(spec: CheckSpec, sergio_check_context: CheckContext) -> None:
    """Run one registered check against the target; a missing capability is a skip with its reason."""
    try:
        spec.run(sergio_check_context)
    except CheckSkipped as reason:
        pytest.skip(str(reason))
