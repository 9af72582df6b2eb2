"""``sergio-kit load``: run the Locust scenarios of ``load/`` headless and judge them per tier.

Locust (and gevent, which monkey-patches on import) only ever runs in a child process: this module
never imports it. Settings and passwords reach that process through its environment, never argv.
Without ``--base-url`` the embedded reference server is started on loopback (its CA, its seeded
accounts) and stopped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sergio_kit.config import DEFAULT_TIER_LIMITS
from sergio_kit.contract.resources import locustfile_path
from sergio_kit.errors import SergioKitError
from sergio_kit.load.summary import render_summary_html
from sergio_kit.load.timeline import account_count, load_principals, parse_limits, traffic_from_history
from sergio_kit.load.totals import PLAN_FILE, LoadPlan, is_current, read_plan, totals_findings
from sergio_kit.load.workers import WORKER_ENV_FILE, write_worker_env
from sergio_kit.target.embedded import RunningServer, clean_environment, start_server

LIFTED_LIMITS = dict.fromkeys(DEFAULT_TIER_LIMITS, 1_000_000)  # capacity runs: quotas never cap throughput


@dataclass
class TierSummary:
    """What one tier's requests came to: admitted, throttled as contracted, and each failure class."""

    tier: str
    admitted: int = 0
    throttled: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    first_response: float | None = None
    last_response: float | None = None

    @property
    def failed(self) -> int:
        """Requests in a failure class."""
        return sum(self.failures.values())

    @property
    def span(self) -> float | None:
        """Seconds from the tier's first to its last response (``None`` without any)."""
        if self.first_response is None or self.last_response is None:
            return None
        return self.last_response - self.first_response


def run_load(args: argparse.Namespace) -> int:
    """Run Locust headless; print and write the per-tier summary; 0 only when no failure class occurred."""
    if args.locustfile is None:
        args.locustfile = locustfile_path()
    elif not args.locustfile.is_file():
        raise SergioKitError(
            f"--locustfile has value {str(args.locustfile)!r}: no such file; give the path of a Locust "
            "file, or drop --locustfile to run the packaged scenarios"
        )
    base_url = args.base_url or os.environ.get("SERGIO_BASE_URL")
    if args.worker:
        ignored = [f"--{name}" for name in ("users", "duration", "window") if getattr(args, name) is not None]
        if ignored:
            raise SergioKitError(
                f"a --worker takes its settings from its environment, not from {', '.join(ignored)}: set "
                "SERGIO_LOAD_USERS / SERGIO_LOAD_DURATION / SERGIO_LOAD_WINDOW there, as on the master"
            )
        return _run_locust(args, base_url, os.environ.copy(), None)
    report_dir = Path(args.report or os.environ.get("SERGIO_REPORT_DIR") or "reports/load")
    report_dir.mkdir(parents=True, exist_ok=True)
    workers = args.expect_workers if args.master else 1
    if args.processes:
        workers = args.processes if args.processes > 0 else os.cpu_count() or 1
    (report_dir / PLAN_FILE).unlink(missing_ok=True)
    with _target(args, base_url) as (url, env):
        print(f"sergio-kit load: profile {args.profile} against {url}", flush=True)
        worker_env = None
        if args.master and base_url is None:
            worker_env = write_worker_env(report_dir / WORKER_ENV_FILE, env)
            print(
                f"workers on this machine: set -a; . {worker_env}; set +a; sergio-kit load --worker",
                flush=True,
            )
        try:
            exit_code = _run_locust(args, url, env, report_dir)
        finally:
            if worker_env is not None:
                worker_env.unlink(missing_ok=True)
        limits = parse_limits(env.get("SERGIO_LOAD_LIMITS"))
        principals = load_principals(args.profile, account_count(env), workers, args.users)
    stats = json.loads((report_dir / "stats.json").read_text())
    summaries = summarize(stats)
    findings = judge(summaries, args.profile, plan=read_plan(report_dir))
    print_summary(summaries, findings, sys.stdout)
    tiers = [{**asdict(s), "failed": s.failed} for s in summaries.values()]
    (report_dir / "summary.json").write_text(
        json.dumps(
            {
                "profile": args.profile,
                "target": url,
                "locust_exit_code": exit_code,
                "tiers": tiers,
                "findings": findings,
            },
            indent=2,
        )
    )
    history = report_dir / "locust_stats_history.csv"
    traffic = traffic_from_history(
        history.read_text() if history.exists() else "", stats, limits=limits, principals=principals
    )
    page = render_summary_html(
        profile=args.profile,
        target=url,
        tiers=tiers,
        findings=findings,
        locust_exit_code=exit_code,
        traffic=traffic,
    )
    (report_dir / "summary.html").write_text(page, encoding="utf-8")
    print(
        f"reports: {report_dir}/summary.html, {report_dir}/summary.json, {report_dir}/report.html, "
        f"{report_dir}/locust_stats.csv, {report_dir}/locust_stats_history.csv"
    )
    return 1 if findings or exit_code != 0 else 0


@contextmanager
def _target(args: argparse.Namespace, base_url: str | None) -> Iterator[tuple[str, dict[str, str]]]:
    """The target URL and the Locust environment: a live target's, or a fresh embedded server's."""
    env = clean_environment() if base_url is None else os.environ.copy()
    env.update(_settings_env(args))
    if base_url is not None:
        if args.fault:
            raise SergioKitError("--fault only applies to the embedded server: drop --fault or --base-url")
        if not base_url.startswith("https://"):
            raise SergioKitError(f"--base-url has value {base_url!r}: expected an https:// URL")
        if args.ca_bundle is not None:
            env["SERGIO_CA_BUNDLE"] = str(args.ca_bundle)
        if not (env.get("SERGIO_LOAD_ACCOUNTS") or (env.get("SERGIO_EMAIL") and env.get("SERGIO_PASSWORD"))):
            raise SergioKitError(
                "a live target needs SERGIO_EMAIL and SERGIO_PASSWORD (or SERGIO_LOAD_ACCOUNTS)"
            )
        yield base_url, env
        return
    limits = LIFTED_LIMITS if args.profile == "capacity" else None
    with tempfile.TemporaryDirectory(prefix="sergio-load-") as data:
        server = start_server(Path(data), faults=args.fault, limits=limits, plain_http=False)
        try:
            env.update(_server_env(server, limits))
            yield server.base_url, env
        finally:
            server.stop()


def _settings_env(args: argparse.Namespace) -> dict[str, str]:
    env = {"SERGIO_LOAD_PROFILE": args.profile}
    for name, value in (("USERS", args.users), ("DURATION", args.duration), ("WINDOW", args.window)):
        if value is not None:
            env[f"SERGIO_LOAD_{name}"] = str(value)
    return env


def _server_env(server: RunningServer, limits: dict[str, int] | None) -> dict[str, str]:
    accounts = [
        {"email": user["email"], "password": user["password"]}
        for company in server.credentials()["companies"]
        for user in company["users"]
    ]
    env = {"SERGIO_CA_BUNDLE": str(server.ca_cert), "SERGIO_LOAD_ACCOUNTS": json.dumps(accounts)}
    if limits:
        env["SERGIO_LOAD_LIMITS"] = ",".join(f"{tier}={n}" for tier, n in limits.items())
    return env


def _run_locust(
    args: argparse.Namespace, url: str | None, env: dict[str, str], report_dir: Path | None
) -> int:
    command = [sys.executable, "-m", "locust", "-f", str(args.locustfile), "--headless", "--only-summary"]
    if url is not None:
        command += ["--host", url]
    if args.worker:
        command += ["--worker", "--master-host", args.master_host]
    if args.processes:
        port = str(_free_port())  # local workers only: the master listens on loopback, on a free port
        command += ["--processes", str(args.processes), "--master-bind-host", "127.0.0.1"]
        command += ["--master-bind-port", port, "--master-port", port]
    if args.master:
        command += [
            "--master",
            "--expect-workers",
            str(args.expect_workers),
            "--expect-workers-max-wait",
            "60",
        ]
    if report_dir is not None:
        command += ["--csv", str(report_dir / "locust"), "--csv-full-history"]
        command += ["--html", str(report_dir / "report.html")]
        command += ["--json-file", str(report_dir / "stats")]
    window = float(args.window or 60)
    duration = float(args.duration or (2 * window if args.profile == "conformance" else 120))
    try:
        return subprocess.run(command, env=env, timeout=duration + 180, check=False).returncode
    except subprocess.TimeoutExpired:
        raise SergioKitError(f"locust did not finish within {duration + 180:.0f} s") from None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def summarize(stats: Sequence[dict[str, Any]]) -> dict[str, TierSummary]:
    """Per-tier counts from Locust's JSON stats, whose entries are named ``"<tier> [<class>]"``."""
    summaries: dict[str, TierSummary] = {tier: TierSummary(tier) for tier in DEFAULT_TIER_LIMITS}
    for entry in stats:
        name = str(entry["name"])
        tier, _, rest = name.partition(" [")
        kind = rest.rstrip("]")
        count = int(entry["num_requests"])
        if name.startswith("token pool"):
            tier, kind = "auth", "admitted" if not entry["num_failures"] else "token pool failure"
        if tier not in summaries or not kind:
            continue
        summary = summaries[tier]
        _widen(summary, entry)
        if kind == "admitted":
            summary.admitted += count
        elif kind == "throttled":
            summary.throttled += count
        else:
            summary.failures[kind] = summary.failures.get(kind, 0) + count
    return summaries


def _widen(summary: TierSummary, entry: dict[str, Any]) -> None:
    """Stretch the tier's first/last response times over one stats entry's."""
    first, last = entry.get("start_time"), entry.get("last_request_timestamp")
    if first is None or last is None or not entry.get("num_requests"):
        return
    if summary.first_response is None or float(first) < summary.first_response:
        summary.first_response = float(first)
    if summary.last_response is None or float(last) > summary.last_response:
        summary.last_response = float(last)


def judge(summaries: dict[str, TierSummary], profile: str, *, plan: LoadPlan | None = None) -> list[str]:
    """Failure findings: every failure class; in conformance, a tier past its limit never throttled
    and, given the master's ``plan``, a tier whose admitted total is off its contract (see load_totals)."""
    findings = [
        f"{s.tier}: {count} request(s) {kind}"
        for s in summaries.values()
        for kind, count in s.failures.items()
    ]
    if profile == "conformance":
        findings += [
            f"{s.tier}: loaded at 1.5x its limit but never throttled"
            for s in summaries.values()
            if s.admitted and not s.throttled
        ]
        firsts = [s.first_response for s in summaries.values() if s.first_response is not None]
        lasts = [s.last_response for s in summaries.values() if s.last_response is not None]
        if plan is not None and is_current(plan, min(firsts, default=None), max(lasts, default=None)):
            findings += totals_findings(plan, {s.tier: (s.admitted, s.span) for s in summaries.values()})
    return findings


def print_summary(summaries: dict[str, TierSummary], findings: list[str], out: TextIO) -> None:
    """The per-tier table, then each finding on its own line."""
    out.write(f"{'tier':<9} {'admitted':>9} {'throttled':>10} {'failures':>9}\n")
    for s in summaries.values():
        out.write(f"{s.tier:<9} {s.admitted:>9} {s.throttled:>10} {s.failed:>9}\n")
    for finding in findings:
        out.write(f"FAIL {finding}\n")
    out.write("load: " + ("FAILED" if findings else "passed") + "\n")
