"""``sergio-kit load`` against an embedded server that made an allowed choice (``--variant``), and its
``--strict``: a correct deployment passes, warnings fail only when asked to.

Windows are shortened (``--window``) as in ``test_run.py``; locust is never imported here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sergio_kit.cli.load import load_settings, refuse_variants_without_scenario_operations
from sergio_kit.cli.main import build_parser, main
from tests.support.environment import isolate_settings


def test_fixed_window_variant_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fixed 60-s window (the docs' "N per minute" allows it): the conformance run exits 0, with no
    failure; each tier admitted its limit and was throttled."""
    report = tmp_path / "report"
    code = main(
        ["load", "--variant", "fixed-window", "--window", "8", "--duration", "12", "--report", str(report)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads((report / "summary.json").read_text())
    assert summary["findings"] == [] and summary["verdict"].startswith("passed")
    tiers = {tier["tier"]: tier for tier in summary["tiers"]}
    assert (tiers["read"]["admitted"], tiers["write"]["admitted"]) == (120, 60)
    assert all(tier["throttled"] > 0 and tier["failed"] == 0 for tier in tiers.values()), tiers


def test_strict_is_a_load_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--strict`` and ``SERGIO_STRICT`` reach ``load``'s settings (a warning then exits 1)."""
    isolate_settings(monkeypatch, tmp_path, {})
    assert load_settings(build_parser().parse_args(["load", "--strict"])).strict is True
    assert load_settings(build_parser().parse_args(["load"])).strict is False
    isolate_settings(monkeypatch, tmp_path, {"SERGIO_STRICT": "1"})
    assert load_settings(build_parser().parse_args(["load"])).strict is True


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--variant", "fixed-windw"], "unknown variant 'fixed-windw'; did you mean 'fixed-window'?"),
        (["--fault", "ratelimit.read.boundry"], "unknown fault 'ratelimit.read.boundry'; did you mean"),
    ],
)
def test_unknown_variant_or_fault_is_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: list[str],
    message: str,
) -> None:
    """A misspelt ``--variant`` or ``--fault`` stops ``load`` before any server starts: exit 2, one line."""
    isolate_settings(monkeypatch, tmp_path, {})
    assert main(["load", *option, "--report", str(tmp_path / "r")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"sergio-kit: error: {message}") and captured.err.count("\n") == 1
    assert captured.out == "" and not (tmp_path / "r").exists()


def test_variant_removing_a_scenario_operation_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--variant no-bulk`` drops ``POST /v1/jobs/bulk``, which the packaged scenarios send (each 404
    would fail a correct deployment): ``load`` stops before any server starts, exit 2, one line."""
    isolate_settings(monkeypatch, tmp_path, {})
    assert main(["load", "--variant", "no-bulk", "--report", str(tmp_path / "r")]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "sergio-kit: error: --variant no-bulk removes POST /v1/jobs/bulk, which the load scenarios use: "
        "drop the variant, or run scenarios of your own without it (--locustfile FILE)\n"
    )
    assert captured.out == "" and not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["no-logout", "no-key-management"])
def test_variant_removing_only_other_operations_is_accepted(name: str) -> None:
    """A variant whose removed operations the scenarios never send passes the check."""
    refuse_variants_without_scenario_operations([name])
