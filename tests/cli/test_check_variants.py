"""``sergio-kit check --variant``: the contract group, as a user runs it, on a reference server that
takes the other choices the published docs allow, reports no failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sergio_kit.server.variants import VARIANTS
from tests.support.kit_process import run_kit
from tests.support.variant_outcomes import EVERY_VARIANT

#: The variants that keep every operation of the packaged contract (Schemathesis meets each of them).
KEEP_EVERY_OPERATION = tuple(name for name, variant in VARIANTS.items() if not variant.removes)


def _variant_options(variants: tuple[str, ...]) -> list[str]:
    return [option for name in variants for option in ("--variant", name)]


def _report(folder: Path) -> list[dict[str, str]]:
    checks: list[dict[str, str]] = json.loads((folder / "report.json").read_text())["checks"]
    return checks


@pytest.mark.parametrize(
    "variants",
    [
        # every variant: the embedded server held to the packaged contract minus what they drop
        pytest.param(EVERY_VARIANT, id="every-variant"),
        # every variant that drops no operation: Schemathesis over the whole packaged contract
        # (rotation answering 201, refresh without rotation, 403 across tenants, ...)
        pytest.param(KEEP_EVERY_OPERATION, id="keeping-every-operation"),
    ],
)
def test_contract_group_with_the_variants_reports_no_failure(
    tmp_path: Path, variants: tuple[str, ...]
) -> None:
    """Schemathesis and the contract's links with ``variants`` on: exit 0, no failed or errored case.
    The other groups with every variant are proven in-process (tests/checks/test_variant_proofs.py)
    and live (tests/cli/test_check_live_variants.py)."""
    arguments = ["--only", "contract", "--max-examples", "5", "--report", str(tmp_path)]
    result = run_kit("check", *_variant_options(variants), *arguments, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert not [check for check in _report(tmp_path) if check["status"] in ("failed", "error")]
    assert f"variants: {', '.join(variants)}" in result.stdout
