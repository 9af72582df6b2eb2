"""``sergio-kit check --list-checks``: every check with its basis and the level in force, no server."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import sergio_kit.suite.runner
from sergio_kit.checks.catalogue import HEADINGS, print_catalogue
from sergio_kit.checks.registry import all_checks
from sergio_kit.cli.main import main
from sergio_kit.reports.findings import BASES
from tests.support.environment import isolate_settings


@pytest.fixture
def no_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make running the suite (which starts the embedded server) an error for this test."""

    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("--list-checks ran the suite")

    monkeypatch.setattr(sergio_kit.suite.runner, "run_suite", refuse)


def table_rows(output: str) -> list[str]:
    """The lines of the table: from the heading to the first blank line."""
    lines = output.splitlines()
    return lines[: lines.index("")]


@pytest.mark.usefixtures("no_suite")
def test_lists_every_check_aligned_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One row per registered check, in registry order, columns aligned under their headings; exit 0."""
    isolate_settings(monkeypatch, tmp_path, {})
    assert main(["check", "--list-checks"]) == 0
    rows = table_rows(capsys.readouterr().out)
    heading, checks = rows[0], rows[1:]
    assert heading.split() == list(HEADINGS)
    assert [row.split()[0] for row in checks] == [spec.check_id for spec in all_checks()]
    starts = [heading.index(name) for name in HEADINGS]
    for row, spec in zip(checks, all_checks(), strict=True):
        assert row[starts[1] :].startswith(spec.group + " ")
        assert row[starts[2] :].startswith(spec.basis + " ") and spec.basis in BASES
        assert row[starts[4] :] == spec.summary
    enumeration = next(row for row in checks if row.startswith("auth.login.enumeration "))
    assert enumeration.split()[1:4] == ["auth", "recommended", "warn"]
    shape = next(row for row in checks if row.startswith("auth.login.shape "))
    assert shape.split()[3] == "fail"


@pytest.mark.usefixtures("no_suite")
def test_shows_the_levels_the_settings_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``[checks]`` table in sergio-kit.toml: those checks show its level, marked, and say where from;
    a live target without a login is fine (nothing is sent)."""
    (tmp_path / "sergio-kit.toml").write_text(
        '[checks]\n"auth.login.shape" = "ignore"\n"auth.login.enumeration" = "fail"\n'
    )
    isolate_settings(monkeypatch, tmp_path, {"SERGIO_BASE_URL": "https://sergio.invalid"})
    assert main(["check", "--list-checks"]) == 0
    output = capsys.readouterr().out
    levels = {row.split()[0]: row.split()[3] for row in table_rows(output)[1:]}
    assert levels["auth.login.shape"] == "ignore*" and levels["auth.login.enumeration"] == "fail*"
    assert levels["auth.login.lifetime"] == "fail"
    assert "* level changed by sergio-kit.toml" in output


def test_explains_bases_and_how_to_change_a_level() -> None:
    """Under the table: what each basis means and how to change a level; no mark without a change."""
    out = io.StringIO()
    print_catalogue({}, out)
    text = out.getvalue()
    for basis in BASES:
        assert f"\n  {basis}:" in text
    assert "--check-level ID=fail|warn|ignore" in text and "level changed" not in text


def test_a_bad_level_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A level that does not exist is a usage error (exit 2, one line naming it), not a listing."""
    (tmp_path / "sergio-kit.toml").write_text('[checks]\n"auth.login.shape" = "loud"\n')
    isolate_settings(monkeypatch, tmp_path, {})
    assert main(["check", "--list-checks"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "sergio-kit: error: sergio-kit.toml: checks has value 'auth.login.shape=loud': unknown level 'loud'; "
    )
    assert captured.err.count("\n") == 1
