"""The package a user installs: the wheel built from this checkout, installed into a fresh virtual
environment outside it, every command run from another folder.

This is the test that catches package data left out of the wheel (``sergio-kit load`` from a pip
install once could not find its locustfile), and a pytest plugin its entry point does not register.
The new environment gets no pip of its own: the pip running these tests installs into it
(``pip --python``) without compiling bytecode, about 10 s instead of 30 s; the commands then take
about 25 s. Deselect it locally with ``-m "not wheel"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from sergio_kit import __version__
from sergio_kit.cassettes.tour import FLOWS
from sergio_kit.checks.registry import all_checks
from sergio_kit.server.faults import FAULTS
from sergio_kit.target.embedded import clean_environment

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
#: Files the commands need at run time, beside the modules: each must be in the wheel.
PACKAGE_DATA = (
    "sergio_kit/py.typed",
    "sergio_kit/contracts/sergio.openapi.yaml",
    "sergio_kit/contracts/examples/documented-only.openapi.yaml",
    "sergio_kit/server/accounts.toml",
    "sergio_kit/suite/pytest.ini",
    "sergio_kit/load/scenarios/locustfile.py",
    "sergio_kit/load/scenarios/token_pool.py",
    "sergio_kit/load/scenarios/measure.py",
)


@dataclass(frozen=True)
class InstalledKit:
    """The kit installed from its wheel into a fresh virtual environment, and a folder to work in."""

    wheel: Path
    venv: Path
    workdir: Path

    @property
    def site_packages(self) -> Path:
        """The environment's site-packages folder, where the wheel was unpacked."""
        return (
            self.venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        )

    def run(self, program: str, *arguments: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run ``program`` from the environment's ``bin/`` in :attr:`workdir`, as a user would: no
        ``SERGIO_*`` settings and no ``PYTHONPATH`` leading back to this checkout."""
        env = {k: v for k, v in clean_environment().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        started = time.monotonic()
        result = subprocess.run(
            [str(self.venv / "bin" / program), *arguments],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        print(
            f"{program} {' '.join(arguments)}: exit {result.returncode}, {time.monotonic() - started:.1f} s"
        )
        return result


def _step(command: list[str], what: str, timeout: float) -> None:
    """Run one build or install step; fail with its output when it does not succeed."""
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    print(f"{what}: {time.monotonic() - started:.1f} s")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout by ``python -m build`` (hatchling, isolated build)."""
    out = tmp_path_factory.mktemp("dist")
    _step([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)], "build", 300)
    (built,) = out.glob("sergio_kit-*.whl")
    return built


@pytest.fixture(scope="module")
def installed_kit(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> InstalledKit:
    """``wheel`` installed with its dependencies into a new virtual environment outside the checkout."""
    venv = tmp_path_factory.mktemp("venv")
    _step([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], "venv", 120)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    _step([*pip, "--quiet", "--no-compile", "--no-input", str(wheel)], "pip install", 600)
    kit = InstalledKit(wheel, venv, tmp_path_factory.mktemp("workdir"))
    assert not kit.workdir.resolve().is_relative_to(REPO)
    return kit


def test_wheel_holds_the_package_data(wheel: Path) -> None:
    """Every module of ``src/sergio_kit``, the contract, seeded accounts, suite settings, Locust
    scenarios and py.typed are in the wheel, and no bytecode or test of the checkout's own came along."""
    names = zipfile.ZipFile(wheel).namelist()
    assert [name for name in PACKAGE_DATA if name not in names] == []
    modules = sorted(path.relative_to(SRC).as_posix() for path in (SRC / "sergio_kit").rglob("*.py"))
    assert [name for name in modules if name not in names] == []
    assert [name for name in names if "__pycache__" in name or name.startswith("tests/")] == []


def test_installed_kit_is_the_wheel(installed_kit: InstalledKit) -> None:
    """The environment runs the wheel's code, finds the packaged files in it, and says its version."""
    script = (
        "import sergio_kit.contract.resources as r; "
        "print(r.__file__); print(r.contract_path()); print(r.accounts_path()); print(r.locustfile_path())"
    )
    result = installed_kit.run("python", "-c", script)
    assert result.returncode == 0, result.stderr
    for path in result.stdout.split():
        assert Path(path).is_relative_to(installed_kit.site_packages), result.stdout
    version = installed_kit.run("sergio-kit", "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"sergio-kit {__version__}"


def test_wheel_registers_the_pytest_plugin(installed_kit: InstalledKit) -> None:
    """pytest in the new environment loads the plugin from its entry point: ``--sergio-*`` options."""
    result = installed_kit.run("python", "-m", "pytest", "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--sergio-base-url" in result.stdout and "--sergio-strict" in result.stdout, result.stdout[-3000:]


def test_serve_lists_every_fault(installed_kit: InstalledKit) -> None:
    """``sergio-kit serve --list-faults`` prints the whole fault catalogue, one fault per line."""
    result = installed_kit.run("sergio-kit", "serve", "--list-faults", timeout=60)
    assert result.returncode == 0, result.stderr
    assert {line.split()[0] for line in result.stdout.splitlines() if line.strip()} == set(FAULTS)


def test_check_runs_the_auth_group(installed_kit: InstalledKit) -> None:
    """A short ``sergio-kit check --only auth`` runs every auth check against the embedded server, each
    passes, and the reports are written into the working folder."""
    result = installed_kit.run(
        "sergio-kit", "check", "--only", "auth", "--max-examples", "2", "--report", "R"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 failed, 0 errors" in result.stdout
    report = installed_kit.workdir / "R"
    assert {"report.json", "junit.xml", "report.html"} <= {p.name for p in report.iterdir()}
    data = json.loads((report / "report.json").read_text())
    auth_checks = {spec.check_id for spec in all_checks() if spec.group == "auth"}
    assert {check["id"] for check in data["checks"]} == auth_checks
    assert data["summary"]["passed"] == len(data["checks"]), data["summary"]


def test_load_runs_the_packaged_scenarios(installed_kit: InstalledKit) -> None:
    """A short ``sergio-kit load`` (4-s windows, 6 s) runs the wheel's Locust scenarios, passes and
    writes its summary."""
    result = installed_kit.run(
        "sergio-kit", "load", "--window", "4", "--duration", "6", "--report", "L", timeout=240
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "load: passed" in result.stdout
    summary = json.loads((installed_kit.workdir / "L" / "summary.json").read_text())
    assert summary["findings"] == [] and summary["locust_exit_code"] == 0
    assert all(tier["admitted"] > 0 for tier in summary["tiers"]), summary["tiers"]
    assert summary["figures"]["run"]["total"]["requests"] > 0  # the packaged measure.py wrote figures.json


def test_record_writes_cassettes(installed_kit: InstalledKit) -> None:
    """``sergio-kit record --out FOLDER`` records every flow of the tour into a cassette in that folder,
    ``sergio-kit scan-cassettes FOLDER`` finds no secret left in them and ``sergio-kit replay-cassettes
    FOLDER`` replays them offline against the packaged contract."""
    result = installed_kit.run("sergio-kit", "record", "--out", "cassettes")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    cassettes = {c.stem: c.stat().st_size for c in (installed_kit.workdir / "cassettes").glob("*.yaml")}
    assert set(cassettes) == {name for name, _ in FLOWS} and all(cassettes.values()), cassettes
    scan = installed_kit.run("sergio-kit", "scan-cassettes", "cassettes", timeout=60)
    assert scan.returncode == 0 and "no secrets" in scan.stdout, scan.stdout[-3000:] + scan.stderr[-2000:]
    replay = installed_kit.run("sergio-kit", "replay-cassettes", "cassettes", timeout=60)
    assert replay.returncode == 0 and "conforms" in replay.stdout, (
        replay.stdout[-3000:] + replay.stderr[-2000:]
    )
