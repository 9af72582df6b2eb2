"""``sergio-kit replay-cassettes PATH...`` (offline replay against the contract, no target) and
``sergio-kit scan-cassettes PATH...`` given several paths, as a pre-commit hook calls them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from sergio_kit.cli.main import main
from sergio_kit.contract.resources import contract_path
from tests.support.environment import isolate_settings
from tests.support.reports import JWT

CASSETTES = Path(__file__).resolve().parents[2] / "fixtures" / "cassettes"


@pytest.fixture
def tapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no settings, holding ``tapes/`` with two recorded cassettes."""
    isolate_settings(monkeypatch, tmp_path, {})
    (tmp_path / "tapes").mkdir()
    for name in ("health.yaml", "auth.yaml"):
        shutil.copy(CASSETTES / name, tmp_path / "tapes" / name)
    return tmp_path / "tapes"


def test_replay_passes_recorded_cassettes(tapes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Committed cassettes replay offline and conform: exit 0 and a line saying how much was replayed."""
    assert main(["replay-cassettes", str(tapes)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("sergio-kit replay-cassettes: 2 cassette(s), ")
    assert "against the packaged contract" in out[0] and out[0].endswith(
        "every exchange replays offline and conforms"
    )


def test_replay_reports_each_problem_masked(tapes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A recorded answer the contract does not allow fails (exit 1) with a line naming the cassette and
    the interaction; a secret in the offending value is masked; a file that is no cassette is a
    problem, not a traceback; the clean cassette given with them is not blamed."""
    health = (tapes / "health.yaml").read_text(encoding="utf-8")
    (tapes / "drifted.yaml").write_text(
        health.replace('"status":"ok"', f'"status":"{JWT}"'), encoding="utf-8"
    )
    (tapes / "list.yaml").write_text("- not\n- a cassette\n", encoding="utf-8")
    paths = [tapes / "drifted.yaml", tapes / "list.yaml", tapes / "auth.yaml"]
    assert main(["replay-cassettes", *map(str, paths)]) == 1
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    where = f"{tapes}/drifted.yaml #1: GET /v1/health (getHealth) 200: "
    assert lines[0] == where + '"[jwt 9ce21d06]" is not one of "ok" at /status'
    assert lines[1].startswith(f"{tapes}/list.yaml: not a vcrpy cassette")
    assert lines[-1].startswith("sergio-kit replay-cassettes: 2 problem(s) in 2 of 3 cassette(s)")
    assert JWT not in out and "[jwt " in out and "auth.yaml" not in out


def test_replay_holds_cassettes_to_the_given_contract(
    tapes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--contract``: the recorded health answer fails a contract whose health status must be "up"."""
    document = yaml.safe_load(contract_path().read_text(encoding="utf-8"))
    document["components"]["schemas"]["Health"]["properties"]["status"]["enum"] = ["up"]
    (tmp_path / "ours.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    assert (
        main(["replay-cassettes", "--contract", str(tmp_path / "ours.yaml"), str(tapes / "health.yaml")]) == 1
    )
    out = capsys.readouterr().out
    assert 'health.yaml #1: GET /v1/health (getHealth) 200: "ok" is not one of "up" at /status' in out
    assert out.splitlines()[-1].endswith(f"against {tmp_path / 'ours.yaml'}")


def test_replay_missing_path_is_one_line(tapes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A PATH that does not exist: one line on stderr, exit 2, nothing replayed."""
    assert main(["replay-cassettes", str(tapes), "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        "sergio-kit: error: replay-cassettes: nope does not exist; give cassette files or folders, "
        "e.g. sergio-kit replay-cassettes fixtures/cassettes\n"
    )


def test_scan_takes_several_paths(tapes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """scan-cassettes scans every PATH given: clean ones pass together; a leak in one is reported
    under its file only; a missing one is one line and exit 2."""
    assert main(["scan-cassettes", str(tapes / "health.yaml"), str(tapes / "auth.yaml")]) == 0
    assert capsys.readouterr().out == "sergio-kit scan-cassettes: no secrets in 2 paths\n"
    (tapes / "leaky.yaml").write_text(f"interactions: []\ntoken: {JWT}\n", encoding="utf-8")
    assert main(["scan-cassettes", str(tapes / "health.yaml"), str(tapes / "leaky.yaml")]) == 1
    out = capsys.readouterr().out
    assert f"{tapes}/leaky.yaml:2: jwt" in out and "health.yaml" not in out and JWT not in out
    assert main(["scan-cassettes", str(tapes / "health.yaml"), "nope"]) == 2
    assert "scan-cassettes: nope does not exist" in capsys.readouterr().err
