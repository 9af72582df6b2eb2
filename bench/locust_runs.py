"""Shared by the Locust benchmarks: an embedded server with limits lifted, one measured Locust run.

A run is one headless Locust process (``bench/locust_users.py``, one user class, no wait time)
with ``--json-file``; its rate is the requests in the stats over the span from the first to the
last response. While it runs, a sampler reads the CPU time of the server process and of the
Locust process tree (master and forked workers) with psutil, so a result says who used the cores.
Settings and the token reach Locust through its environment, never argv.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sergio_kit.config import tier_limits_environment
from sergio_kit.load.run import LIFTED_LIMITS
from sergio_kit.target.embedded import RunningServer, clean_environment, start_server
from server import free_port, seed_jobs

USERS_FILE = Path(__file__).resolve().parent / "locust_users.py"
SAMPLE_EVERY = 0.2


@dataclass
class Measurement:
    """One Locust run: requests per second, and the cores the server and Locust used meanwhile."""

    requests: int
    seconds: float
    server_cores: float
    locust_cores: float
    other_cores: float
    failures: int

    @property
    def rate(self) -> float:
        """Requests per second over the measured span."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def locust_us_per_request(self) -> float:
        """Locust CPU time per request, in microseconds (less noisy than the rate on a busy machine)."""
        return self.locust_cores / self.rate * 1e6 if self.rate > 0 else 0.0


def bench_server(work: Path) -> tuple[RunningServer, dict[str, str]]:
    """A reference server with every tier lifted, 5 jobs for Acme, and the Locust environment for it.

    Both the kit's users and the bare user act as the Acme admin, so they read the same 5 jobs.
    """
    server = start_server(work / "server", limits=LIFTED_LIMITS, test_clock=False, plain_http=False)
    admin = server.credentials()["companies"][0]["users"][0]
    with httpx.Client(base_url=server.base_url, verify=server.ssl_context()) as client:
        response = client.post(
            "/v1/auth/login", json={"email": admin["email"], "password": admin["password"]}
        )
        response.raise_for_status()
        token = str(response.json()["token"])
    seed_jobs(server, token, 5)
    env = clean_environment()
    env.update(
        {
            "SERGIO_CA_BUNDLE": str(server.ca_cert),
            "SERGIO_LOAD_ACCOUNTS": json.dumps([{"email": admin["email"], "password": admin["password"]}]),
            **tier_limits_environment(LIFTED_LIMITS),
            "SERGIO_LOAD_PROFILE": "capacity",
            "SERGIO_BENCH_TOKEN": token,
        }
    )
    return server, env


class _CpuSampler(threading.Thread):
    """Every ``SAMPLE_EVERY`` s: (time, server, Locust tree, whole machine busy) CPU seconds."""

    def __init__(self, server_pid: int, locust_pid: int) -> None:
        super().__init__(daemon=True)
        self.server = psutil.Process(server_pid)
        self.locust_pid = locust_pid
        self.samples: list[tuple[float, float, float, float]] = []
        self.stopped = threading.Event()
        self._seen: dict[int, float] = {}

    def _locust_cpu(self) -> float:
        try:
            root = psutil.Process(self.locust_pid)
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                self._seen[proc.pid] = times.user + times.system
        except psutil.Error:
            pass
        return sum(self._seen.values())

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stopped.wait(SAMPLE_EVERY):
            server = self.server.cpu_times()
            machine = psutil.cpu_times()
            busy = machine.user + machine.system + machine.nice + machine.irq + machine.softirq
            self.samples.append((time.time(), server.user + server.system, self._locust_cpu(), busy))

    def cores(self, start: float, end: float) -> tuple[float, float, float]:
        """Cores used by the server, by Locust and by anything else between two epoch times."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return 0.0, 0.0, 0.0
        (t0, s0, l0, b0), (t1, s1, l1, b1) = inside[0], inside[-1]
        server, locust, busy = ((s1 - s0) / (t1 - t0), (l1 - l0) / (t1 - t0), (b1 - b0) / (t1 - t0))
        return server, locust, max(busy - server - locust, 0.0)


def run_locust(
    server: RunningServer,
    env: dict[str, str],
    user_class: str,
    *,
    users: int,
    seconds: float,
    processes: int | None = None,
) -> Measurement:
    """One headless Locust run of ``user_class`` against ``server``; ``processes`` forks that many workers."""
    with tempfile.TemporaryDirectory(prefix="sergio-locust-bench-") as out:
        command = [sys.executable, "-m", "locust", "-f", str(USERS_FILE), user_class, "--headless"]
        command += ["--host", server.base_url, "-u", str(users), "-r", str(users), "-t", f"{round(seconds)}s"]
        command += ["--only-summary", "--skip-log", "--json-file", str(Path(out) / "stats")]
        if processes:
            port = str(free_port())
            command += ["--processes", str(processes), "--master-bind-host", "127.0.0.1"]
            command += ["--master-bind-port", port, "--master-port", port]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        sampler = _CpuSampler(server.process.pid, process.pid)
        sampler.start()
        try:
            _, stderr = process.communicate(timeout=seconds + 90)
        finally:
            sampler.stopped.set()
            if process.poll() is None:
                process.kill()
                process.wait()
        stats_file = Path(out) / "stats.json"
        if not stats_file.exists():
            raise RuntimeError(f"locust wrote no stats: {stderr.decode(errors='replace')[-2000:]}")
        entries = [e for e in json.loads(stats_file.read_text()) if not e["name"].startswith("token pool")]
    start = min(float(e["start_time"]) for e in entries)
    end = max(float(e["last_request_timestamp"]) for e in entries)
    server_cores, locust_cores, other_cores = sampler.cores(start + 1.0, end - 0.5)
    return Measurement(
        requests=sum(int(e["num_requests"]) for e in entries),
        seconds=end - start,
        server_cores=server_cores,
        locust_cores=locust_cores,
        other_cores=other_cores,
        failures=sum(int(e["num_failures"]) for e in entries),
    )
