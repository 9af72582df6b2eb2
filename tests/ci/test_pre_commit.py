"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, used from another repository as a team would:
the README's ``repos:`` entry (``examples/ci/pre-commit-config.yaml``) in a temporary git repository,
pointing at a snapshot of this working tree. pre-commit installs the hooks' environment once
(``language: python``: sergio-kit and its dependencies, about 20-30 s here) into a temporary
``PRE_COMMIT_HOME``; every run after that takes a second or two.

A snapshot rather than ``pre-commit try-repo``: try-repo installs a fresh environment on every call
(its store is a temporary folder: 20-30 s each), and of the uncommitted work it takes only changes to
tracked files and staged files (``git add -u``), so a new, not yet added module or hooks file would be
missing. A snapshot (every file git would commit, tracked or new, in a repository of its own) is the
working tree as it is, installed once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sergio_kit.target.embedded import clean_environment

REPO = Path(__file__).resolve().parents[2]
CASSETTES = REPO / "fixtures" / "cassettes"
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
#: Stand-ins for what the redactor replaced: a JWT and a password, as a careless recording holds them.
LEAKED_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfMSIsImV4cCI6MTc5OTk5OTk5OX0.c2lnbmF0dXJlLXBhcnQ"
)
LEAKED_PASSWORD = "Correct-Horse-Battery-9"
GIT_IDENTITY = ["-c", "user.name=sergio-kit tests", "-c", "user.email=tests@sergio.example"]


@dataclass
class Consumer:
    """A git repository whose .pre-commit-config.yaml uses the hooks, and the environment to run in."""

    path: Path
    env: dict[str, str]

    def run(self, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
        """``pre-commit run HOOK --files FILES`` in the repository."""
        return subprocess.run(
            [PRE_COMMIT, "run", hook, "--color", "never", "--files", *files],
            capture_output=True,
            text=True,
            timeout=600,
            env=self.env,
            cwd=self.path,
            check=False,
        )


def git(cwd: Path, *arguments: str) -> str:
    """Run git in ``cwd`` (a temporary repository) and return its output."""
    return subprocess.run(
        ["git", *GIT_IDENTITY, *arguments], capture_output=True, text=True, cwd=cwd, check=True, timeout=120
    ).stdout.strip()


def snapshot(destination: Path) -> str:
    """Copy the files of this working tree that git would commit (tracked and new, not ignored) into
    ``destination``, commit them there, and return the commit."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        cwd=REPO,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # a deleted, not yet committed file is listed but gone
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git(destination, "init", "--quiet")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", "snapshot")
    return git(destination, "rev-parse", "HEAD")


def leaky(cassette: str) -> str:
    """``cassette`` with its redaction placeholders back to secrets of their kind."""
    cassette = re.sub(r"<redacted:jwt:\d+>", LEAKED_JWT, cassette)
    return re.sub(r"<redacted:password:\d+>", LEAKED_PASSWORD, cassette)


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consumer]:
    """A team's repository with the README's ``repos:`` entry aimed at a snapshot of this working tree,
    a clean, a leaky and a drifted cassette; the hooks' environment installed by a first run."""
    root = tmp_path_factory.mktemp("pre-commit")
    hooks_repo, home, path = root / "sergio-kit", root / "home", root / "team-tests"
    hooks_repo.mkdir()
    path.mkdir()
    rev = snapshot(hooks_repo)
    config = yaml.safe_load((REPO / "examples" / "ci" / "pre-commit-config.yaml").read_text())
    config["repos"][0].update(repo=str(hooks_repo), rev=rev)
    (path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    cassettes = path / "tests" / "cassettes"
    cassettes.mkdir(parents=True)
    auth = (CASSETTES / "auth.yaml").read_text(encoding="utf-8")
    (cassettes / "clean.yaml").write_text(auth, encoding="utf-8")
    (cassettes / "leaky.yaml").write_text(leaky(auth), encoding="utf-8")
    health = (CASSETTES / "health.yaml").read_text(encoding="utf-8")
    assert health.count("code: 200") == 1
    (cassettes / "drifted.yaml").write_text(health.replace("code: 200", "code: 418"), encoding="utf-8")
    (path / "notes.yaml").write_text(f"token: {LEAKED_JWT}\n")  # not a cassette: outside the hooks' files
    git(path, "init", "--quiet")
    git(path, "add", "--all")
    env = {**clean_environment(), "PRE_COMMIT_HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
    env.pop("VIRTUAL_ENV", None)
    team = Consumer(path, env)
    first = team.run("scan-cassettes", "tests/cassettes/clean.yaml")  # installs the environment
    assert first.returncode == 0, first.stdout + first.stderr
    yield team
    shutil.rmtree(root, ignore_errors=True)


def test_scan_hook_passes_a_clean_cassette(consumer: Consumer) -> None:
    """A redacted cassette passes scan-cassettes."""
    result = consumer.run("scan-cassettes", "tests/cassettes/clean.yaml")
    assert result.returncode == 0, result.stdout
    assert re.search(r"sergio-kit scan-cassettes .*\.+Passed", result.stdout), result.stdout


def test_scan_hook_fails_a_leaky_cassette_without_printing_its_secrets(consumer: Consumer) -> None:
    """A cassette holding a JWT and a password fails scan-cassettes, which names the file, the lines
    and the kinds, and never prints the secrets; the clean file given with it is not blamed."""
    result = consumer.run("scan-cassettes", "tests/cassettes/leaky.yaml", "tests/cassettes/clean.yaml")
    assert result.returncode == 1, result.stdout
    assert re.search(r"sergio-kit scan-cassettes .*\.+Failed", result.stdout), result.stdout
    assert "leaky.yaml:" in result.stdout and "clean.yaml:" not in result.stdout
    assert "jwt" in result.stdout and "password" in result.stdout
    assert LEAKED_JWT not in result.stdout and LEAKED_PASSWORD not in result.stdout
    assert LEAKED_JWT[:40] not in result.stdout


def test_hooks_skip_files_that_are_not_cassettes(consumer: Consumer) -> None:
    """A file outside a cassettes folder is not the hooks' business: both skip it."""
    for hook in ("scan-cassettes", "replay-cassettes"):
        result = consumer.run(hook, "notes.yaml")
        assert result.returncode == 0 and "(no files to check)Skipped" in result.stdout, result.stdout


def test_replay_hook_passes_a_conforming_cassette(consumer: Consumer) -> None:
    """A recorded cassette that replays offline and matches the packaged contract passes."""
    result = consumer.run("replay-cassettes", "tests/cassettes/clean.yaml")
    assert result.returncode == 0, result.stdout
    assert re.search(r"sergio-kit replay-cassettes .*\.+Passed", result.stdout), result.stdout


def test_replay_hook_fails_a_cassette_that_breaks_the_contract(consumer: Consumer) -> None:
    """A cassette whose recorded status the contract does not document fails replay-cassettes, which
    says where and why."""
    result = consumer.run("replay-cassettes", "tests/cassettes/drifted.yaml", "tests/cassettes/clean.yaml")
    assert result.returncode == 1, result.stdout
    assert "drifted.yaml #1: GET /v1/health (getHealth): status 418 is not documented" in result.stdout
    assert "clean.yaml #" not in result.stdout
