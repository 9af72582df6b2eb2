"""``sergio-kit load`` in distributed mode: a master and two worker processes, as a user runs them.

The master (which starts the embedded server) and both workers are real ``sergio-kit`` processes.
Workers get the target's settings the documented way, through their environment: here the
``worker.env`` file the master writes for workers on its machine. Locust's master port is a free
loopback port, set through Locust's own ``LOCUST_MASTER_BIND_*`` / ``LOCUST_MASTER_NODE_PORT``
variables. Locust is never imported here (gevent monkey-patches on import).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from sergio_kit.load.workers import WORKER_ENV_FILE, read_worker_env, write_worker_env
from sergio_kit.target.embedded import clean_environment

MASTER_TIMEOUT = 150.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(arguments: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """``python -m sergio_kit ARGS`` in its own process group (so its server and Locust go with it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sergio_kit", *arguments],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Interrupt the process group (the master stops its server on SIGINT), then kill what is left."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(15)


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(processes):
        _stop(process)


def _wait_for(path: Path, master: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert master.poll() is None, "the master exited before writing worker.env"
        assert time.monotonic() < deadline, f"the master wrote no {path.name} within {timeout:.0f} s"
        time.sleep(0.1)


def _sent(log: str) -> int:
    """What a worker said it sent when it quit (``sergio-kit load worker N: sent X requests``)."""
    found = re.findall(r"sergio-kit load worker \d+: sent (\d+) requests", log)
    assert len(found) == 1, log[-3000:]
    return int(found[0])


def test_master_with_two_worker_processes(tmp_path: Path) -> None:
    """Two ``--worker`` processes configured from the master's worker.env both send load; the run passes,
    and the master's summary counts every request each worker says it sent."""
    report = tmp_path / "report"
    port = str(_free_port())
    base = clean_environment()
    master_env = {**base, "LOCUST_MASTER_BIND_HOST": "127.0.0.1", "LOCUST_MASTER_BIND_PORT": port}
    options = ["--window", "8", "--duration", "10", "--report", str(report)]
    processes: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(open(tmp_path / f"{name}.log", "wb")) for name in ("master", "w0", "w1")]
        stack.callback(_stop_all, processes)
        master = _start(["load", "--master", "--expect-workers", "2", *options], master_env, logs[0])
        processes.append(master)
        _wait_for(report / WORKER_ENV_FILE, master, timeout=30)
        assert (report / WORKER_ENV_FILE).stat().st_mode & 0o777 == 0o600
        shared = read_worker_env(report / WORKER_ENV_FILE)
        assert {"SERGIO_CA_BUNDLE", "SERGIO_LOAD_ACCOUNTS", "SERGIO_LOAD_WINDOW"} <= set(shared)
        worker_env = {**base, **shared, "LOCUST_MASTER_NODE_PORT": port}
        worker_arguments = ["load", "--worker", "--master-host", "127.0.0.1"]
        workers = [_start(worker_arguments, worker_env, log) for log in logs[1:]]
        processes += workers
        master.wait(MASTER_TIMEOUT)
        worker_codes = [worker.wait(30) for worker in workers]
    output = (tmp_path / "master.log").read_text(errors="replace")
    assert master.returncode == 0, output
    assert worker_codes == [0, 0], (tmp_path / "w0.log").read_text(errors="replace")[-3000:]
    assert "load: passed" in output
    summary = json.loads((report / "summary.json").read_text())
    stats = json.loads((report / "stats.json").read_text())
    pool_logins = {e["name"]: e["num_requests"] for e in stats if e["name"].startswith("token pool login")}
    assert pool_logins == {"token pool login [worker 0]": 1, "token pool login [worker 1]": 1}
    tiers = {tier["tier"]: tier for tier in summary["tiers"]}
    assert tiers["read"]["admitted"] == 120 and tiers["read"]["throttled"] > 0
    assert summary["findings"] == []
    assert not (report / WORKER_ENV_FILE).exists(), "worker.env (passwords) outlived the run"
    sent = [_sent((tmp_path / f"{name}.log").read_text(errors="replace")) for name in ("w0", "w1")]
    assert all(count > 0 for count in sent), sent
    counted = summary["figures"]["run"]["total"]["requests"]
    assert counted == sum(sent) == sum(entry["num_requests"] for entry in stats), (sent, counted)
    per_tier = sum(tier["admitted"] + tier["throttled"] + tier["failed"] for tier in summary["tiers"])
    assert per_tier == counted


def test_worker_env_round_trip(tmp_path: Path) -> None:
    """worker.env keeps only what workers need, owner-only, and reads back byte for byte (JSON quotes too)."""
    accounts = json.dumps([{"email": "a@x.test", "password": 'it\'s "quoted" $HOME'}])
    env = {"SERGIO_LOAD_ACCOUNTS": accounts, "SERGIO_CA_BUNDLE": "/ca dir/ca.pem", "SERGIO_LOAD_WINDOW": "8"}
    path = write_worker_env(tmp_path / WORKER_ENV_FILE, {**env, "PATH": "/bin", "SERGIO_REPORT_DIR": "r"})
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_worker_env(path) == env


def test_worker_options_that_would_be_ignored_are_refused(tmp_path: Path) -> None:
    """``--worker --window 8``: one line saying workers read SERGIO_LOAD_* from their environment, exit 2."""
    result = subprocess.run(
        [sys.executable, "-m", "sergio_kit", "load", "--worker", "--window", "8", "--users", "2"],
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "a --worker takes its settings from its environment, not from --users, --window" in result.stderr
    assert "Traceback" not in result.stderr


def test_judging_options_belong_to_the_master() -> None:
    """``--worker --threshold ...``: thresholds, aborts and baselines are the master's; one line, exit 2."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sergio_kit",
            "load",
            "--worker",
            "--threshold",
            "read:p95<1s",
            "--abort-on-fail",
        ],
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "sergio-kit: error: --threshold, --abort-on-fail: the master judges the run, not a --worker: give "
        "them to the sergio-kit load --master command\n"
    )
