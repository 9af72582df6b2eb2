"""Benchmark: the reference server's authenticated reads and 429 path against a bare Starlette endpoint.

All three targets run at once as separate processes (uvicorn, one worker, TLS from the same test CA)
and are measured in alternating rounds by the same load generator, so the ratios compare like with
like on a noisy machine. Run: ``.venv/bin/python bench/server.py [--seconds S] [--rounds R]``.
Targets (issue 2): authenticated reads >= 0.5x the bare endpoint; 429 path >= 0.7x.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import run_load
from sergio_kit.contract.samples import example_job
from sergio_kit.target.embedded import RunningServer, start_server


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def token_for(server: RunningServer) -> str:
    """Log the seeded Acme admin in and return the access token."""
    admin = server.credentials()["companies"][0]["users"][0]
    with httpx.Client(base_url=server.base_url, verify=server.ssl_context()) as client:
        response = client.post(
            "/v1/auth/login", json={"email": admin["email"], "password": admin["password"]}
        )
        response.raise_for_status()
        return str(response.json()["token"])


def seed_jobs(server: RunningServer, token: str, count: int) -> None:
    """Create ``count`` jobs so a read returns a full default page (20 jobs)."""
    job = example_job(customer_id="cust_bench")
    with httpx.Client(base_url=server.base_url, verify=server.ssl_context()) as client:
        response = client.post(
            "/v1/jobs/bulk", json={"jobs": [job] * count}, headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Block until something listens on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def main() -> int:
    """Run the benchmark and print rates and ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measurement (default 3)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds; medians are reported (default 3)"
    )
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (default 16)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sergio-bench-"))
    reads = start_server(work / "reads", limits={"read": 10**9}, test_clock=False, plain_http=False)
    read_token = token_for(reads)
    seed_jobs(reads, read_token, 20)
    throttled = start_server(
        work / "throttled", limits={"read": 1}, test_clock=False, plain_http=False, template=work / "reads"
    )
    bare_port = free_port()
    bare = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).parent / "bare_app.py"),
            str(bare_port),
            str(work / "reads" / "server.pem"),
        ]
    )
    try:
        wait_for_port(bare_port)
        context = reads.ssl_context()
        read_headers = {"Authorization": f"Bearer {read_token}"}
        throttled_headers = {"Authorization": f"Bearer {token_for(throttled)}"}
        targets = {
            "bare Starlette GET /v1/jobs": (bare_port, {}),
            "sergio GET /v1/jobs (auth, 20 jobs, 200)": (int(reads.base_url.rsplit(":", 1)[1]), read_headers),
            "sergio GET /v1/jobs (429 path)": (int(throttled.base_url.rsplit(":", 1)[1]), throttled_headers),
        }
        rates: dict[str, list[float]] = {name: [] for name in targets}
        for round_number in range(args.rounds):
            for name, (port, headers) in targets.items():
                result = run_load(
                    "127.0.0.1", port, context, "/v1/jobs", headers, args.connections, args.seconds
                )
                rates[name].append(result.rate)
                print(
                    f"round {round_number + 1}: {name:<42} {result.rate:8.0f} req/s  {dict(result.statuses)}"
                )
        medians = {name: statistics.median(values) for name, values in rates.items()}
        bare_rate = medians["bare Starlette GET /v1/jobs"]
        summary = {
            name: {"req_per_s": round(rate), "ratio_to_bare": round(rate / bare_rate, 2)}
            for name, rate in medians.items()
        }
        print(json.dumps(summary, indent=2))
    finally:
        bare.terminate()
        bare.wait()
        reads.stop()
        throttled.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
