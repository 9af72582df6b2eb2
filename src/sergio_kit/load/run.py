"""``sergio-kit load``: run the Locust scenarios of ``load/`` headless and judge them per tier.

Locust (and gevent, which monkey-patches on import) only ever runs in a child process: this module
never imports it. The settings come resolved (:func:`sergio_kit.config.load_config`, as for every
command); they and the passwords reach the Locust processes through their environment, never argv:
``SERGIO_CA_BUNDLE``, ``SERGIO_LOAD_ACCOUNTS``, ``SERGIO_TIER_LIMITS`` and the ``SERGIO_LOAD_*``
pacing. Without a base URL the embedded reference server is started on loopback (its CA, its seeded
accounts, the tier limits in force) and stopped afterwards. A ``--worker`` resolves nothing: it runs
Locust with its own environment, as a worker on another machine would (see :mod:`.workers`).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sergio_kit.config import (
    DEFAULT_TIER_LIMITS,
    THRESHOLDS_VARIABLE,
    KitConfig,
    command_settings,
    samples_environment,
    thresholds_environment,
    tier_limits_environment,
)
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.contract.resources import locustfile_path
from sergio_kit.errors import SergioKitError
from sergio_kit.load.baseline import baseline_document, check_baseline_path, read_baseline, save_baseline
from sergio_kit.load.figures import FIGURES_FILE, read_figures
from sergio_kit.load.findings import LoadFinding, failures, load_failed, load_verdict, warnings
from sergio_kit.load.gates import Gates, judge_figures
from sergio_kit.load.ledger import BASIS, WARNINGS
from sergio_kit.load.steps import DEFAULT_START_USERS, DEFAULT_STEP_SECONDS, DEFAULT_TOP_USERS
from sergio_kit.load.steps import run_length as step_load_length
from sergio_kit.load.summary import render_summary_html
from sergio_kit.load.timeline import account_count, load_principals, traffic_from_history
from sergio_kit.load.totals import PLAN_FILE, LoadPlan, is_current, read_plan, totals_findings
from sergio_kit.load.workers import LOAD_PREFIX, TARGET_KEYS, WORKER_ENV_FILE, write_worker_env
from sergio_kit.target.embedded import RunningServer, clean_environment, start_server

LIFTED_LIMITS = dict.fromkeys(DEFAULT_TIER_LIMITS, 1_000_000)  # capacity runs: quotas never cap throughput
#: The pacing options and the variables that carry them to the Locust processes.
PACING = {
    "users": "SERGIO_LOAD_USERS",
    "duration": "SERGIO_LOAD_DURATION",
    "window": "SERGIO_LOAD_WINDOW",
    "start_users": "SERGIO_LOAD_START_USERS",
    "step_duration": "SERGIO_LOAD_STEP_DURATION",
}
ABORT_VARIABLE = "SERGIO_LOAD_ABORT_ON_FAIL"
#: What only the master does (judge the figures), refused on a --worker's command line.
MASTER_ONLY = {
    "load_thresholds": "--threshold",
    "abort_on_fail": "--abort-on-fail",
    "baseline": "--baseline",
    "save_baseline": "--save-baseline",
}
#: What a --worker would ignore on its command line, and where it reads that from instead: the pacing,
#: and each setting of ``load`` that the Locust processes read from their environment.
WORKER_IGNORES = {
    **PACING,
    **{setting.name: setting.env for setting in command_settings("load") if setting.env in TARGET_KEYS},
}


@dataclass
class TierSummary:
    """What one tier's requests came to: admitted, throttled, each warning class (counted in admitted or
    throttled too: see :data:`~sergio_kit.load.ledger.WARNINGS`) and each failure class."""

    tier: str
    admitted: int = 0
    throttled: int = 0
    warnings: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    first_response: float | None = None
    last_response: float | None = None

    @property
    def failed(self) -> int:
        """Requests in a failure class."""
        return sum(self.failures.values())

    @property
    def warned(self) -> int:
        """Requests in a warning class."""
        return sum(self.warnings.values())

    @property
    def span(self) -> float | None:
        """Seconds from the tier's first to its last response (``None`` without any)."""
        if self.first_response is None or self.last_response is None:
            return None
        return self.last_response - self.first_response


@dataclass(frozen=True)
class LoadTarget:
    """Where the load goes: the base URL, the Locust processes' environment and the tier limits in force."""

    url: str
    env: dict[str, str]
    limits: Mapping[str, int]


def run_worker(args: argparse.Namespace) -> int:
    """Run as a Locust worker of ``--master-host``, configured by this process's environment only."""
    judged = [option for name, option in MASTER_ONLY.items() if getattr(args, name)]
    if judged:
        raise SergioKitError(
            f"{', '.join(judged)}: the master judges the run, not a --worker: give them to the "
            "sergio-kit load --master command"
        )
    ignored = [name for name in WORKER_IGNORES if getattr(args, name) is not None]
    if ignored:
        options = ", ".join("--" + name.replace("_", "-") for name in ignored)
        variables = " / ".join(WORKER_IGNORES[name] for name in ignored)
        raise SergioKitError(
            f"a --worker takes its settings from its environment, not from {options}: set {variables} "
            "there, as on the master"
        )
    _check_locustfile(args)
    return _run_locust(args, args.base_url, os.environ.copy(), None)


def run_load(args: argparse.Namespace, settings: KitConfig) -> int:
    """Run Locust headless against the target of ``settings``; print and write the per-tier summary;
    0 when nothing failed (warnings allowed, unless ``settings.strict``). A ``--save-baseline`` file
    that cannot be written stops the command before the run; if saving it still fails after the run,
    every report is written first, then the one-line error ends the command (exit code 2)."""
    _check_locustfile(args)
    baseline = read_baseline(args.baseline, args.profile) if args.baseline is not None else None
    if args.save_baseline is not None:
        check_baseline_path(args.save_baseline)
    report_dir: Path = args.report or settings.report_dir / "load"
    report_dir.mkdir(parents=True, exist_ok=True)
    workers = args.expect_workers if args.master else 1
    if args.processes:
        workers = args.processes if args.processes > 0 else os.cpu_count() or 1
    (report_dir / PLAN_FILE).unlink(missing_ok=True)
    (report_dir / FIGURES_FILE).unlink(missing_ok=True)
    with _target(args, settings) as target:
        print(f"sergio-kit load: profile {args.profile} against {target.url}", flush=True)
        if settings.load_thresholds:
            shown = ", ".join(threshold.text for threshold in settings.load_thresholds)
            print(f"thresholds ({settings.sources['load_thresholds']}): {shown}", flush=True)
        worker_env = None
        if args.master and settings.embedded:
            worker_env = write_worker_env(report_dir / WORKER_ENV_FILE, target.env)
            print(
                f"workers on this machine: set -a; . {worker_env}; set +a; sergio-kit load --worker",
                flush=True,
            )
        try:
            exit_code = _run_locust(args, target.url, target.env, report_dir)
        finally:
            if worker_env is not None:
                worker_env.unlink(missing_ok=True)
        users = target.env.get(PACING["users"])
        principals = load_principals(
            args.profile, account_count(target.env), workers, int(users) if users else None
        )
    stats = json.loads((report_dir / "stats.json").read_text())
    summaries = summarize(stats)
    findings = judge(summaries, args.profile, plan=read_plan(report_dir))
    strict = settings.strict
    data = read_figures(report_dir)
    gates = judge_figures(
        data, settings.load_thresholds, profile=args.profile, baseline=baseline, tolerance=args.tolerance
    )
    print_summary(summaries, findings, sys.stdout, locust_exit_code=exit_code, strict=strict, gates=gates)
    tiers = [{**asdict(s), "warned": s.warned, "failed": s.failed} for s in summaries.values()]
    (report_dir / "summary.json").write_text(
        json.dumps(
            {
                "profile": args.profile,
                "target": target.url,
                "locust_exit_code": exit_code,
                "verdict": load_verdict(findings, exit_code, strict=strict, gates_failed=gates.failed),
                "strict": strict,
                "tiers": tiers,
                "findings": [finding.as_dict() for finding in failures(findings)],
                "warnings": [finding.as_dict() for finding in warnings(findings)],
                **gates.as_dict(),
            },
            indent=2,
        )
    )
    unsaved: SergioKitError | None = None  # raised once every report is written: the run is not lost
    if args.save_baseline is not None and data is None:
        print(f"no baseline saved in {args.save_baseline}: the scenarios wrote no figures")
    elif args.save_baseline is not None and data is not None:
        knee = None if gates.knee is None else gates.knee.as_dict()
        try:
            save_baseline(
                args.save_baseline, baseline_document(data, knee, target=target.url, profile=args.profile)
            )
            print(f"baseline saved: {args.save_baseline}")
        except SergioKitError as error:
            unsaved = error
    history = report_dir / "locust_stats_history.csv"
    traffic = traffic_from_history(
        history.read_text() if history.exists() else "", stats, limits=target.limits, principals=principals
    )
    page = render_summary_html(
        profile=args.profile,
        target=target.url,
        tiers=tiers,
        findings=findings,
        locust_exit_code=exit_code,
        strict=strict,
        traffic=traffic,
        gates=gates,
    )
    (report_dir / "summary.html").write_text(page, encoding="utf-8")
    print(
        f"reports: {report_dir}/summary.html, {report_dir}/summary.json, {report_dir}/report.html, "
        f"{report_dir}/locust_stats.csv, {report_dir}/locust_stats_history.csv"
    )
    if unsaved is not None:
        raise unsaved
    return int(load_failed(findings, exit_code, strict=strict, gates_failed=gates.failed))


def _check_locustfile(args: argparse.Namespace) -> None:
    """Point ``args.locustfile`` at the packaged scenarios unless the user gave an existing file."""
    if args.locustfile is None:
        args.locustfile = locustfile_path()
    elif not args.locustfile.is_file():
        raise SergioKitError(
            f"--locustfile has value {str(args.locustfile)!r}: no such file; give the path of a Locust "
            "file, or drop --locustfile to run the packaged scenarios"
        )


@contextmanager
def _target(args: argparse.Namespace, settings: KitConfig) -> Iterator[LoadTarget]:
    """The live target of ``settings``, or a fresh embedded server started with the tier limits in force."""
    env = _pacing_env(args)
    env.update(samples_environment(settings))
    env.pop(THRESHOLDS_VARIABLE, None)
    env.update(thresholds_environment(settings.load_thresholds))
    if settings.base_url is not None:
        env.setdefault(LOAD_PREFIX + "ACCOUNTS", _accounts_json(_live_accounts(settings)))
        if settings.ca_bundle is not None:
            env["SERGIO_CA_BUNDLE"] = str(settings.ca_bundle)
        env.update(tier_limits_environment(settings.tier_limits))
        yield LoadTarget(settings.base_url, env, settings.tier_limits)
        return
    limits = _embedded_limits(args.profile, settings)
    with tempfile.TemporaryDirectory(prefix="sergio-load-") as data:
        server = start_server(
            Path(data),
            faults=args.fault,
            variants=args.variant,
            limits=dict(limits),
            plain_http=False,
            delays=args.delay,
        )
        try:
            env.update(_server_env(server))
            env.update(tier_limits_environment(limits))
            yield LoadTarget(server.base_url, env, limits)
        finally:
            server.stop()


def _pacing_env(args: argparse.Namespace) -> dict[str, str]:
    """The Locust processes' environment without the target: no ``SERGIO_*`` setting but the
    load-only ``SERGIO_LOAD_*`` ones (the same on every machine of a distributed run), then the options."""
    env = clean_environment()
    env.update({key: value for key, value in os.environ.items() if key.startswith(LOAD_PREFIX)})
    env[LOAD_PREFIX + "PROFILE"] = args.profile
    for name, variable in PACING.items():
        value = getattr(args, name)
        if value is not None:
            env[variable] = str(value)
    if args.abort_on_fail:
        env[ABORT_VARIABLE] = "1"
    return env


def _embedded_limits(profile: str, settings: KitConfig) -> Mapping[str, int]:
    """The embedded server's tier limits: the settings', lifted for a capacity run unless set explicitly."""
    if profile == "capacity" and "tier_limits" not in settings.sources:
        return LIFTED_LIMITS
    return settings.tier_limits


def _live_accounts(settings: KitConfig) -> list[tuple[str, str]]:
    """The logins of a live target's settings: the admin's, and the other tenant's when set."""
    pairs = [(settings.email, settings.password), (settings.other_email, settings.other_password)]
    return [(email, password) for email, password in pairs if email and password]


def _server_env(server: RunningServer) -> dict[str, str]:
    accounts = [
        (user["email"], user["password"])
        for company in server.credentials()["companies"]
        for user in company["users"]
    ]
    return {"SERGIO_CA_BUNDLE": str(server.ca_cert), LOAD_PREFIX + "ACCOUNTS": _accounts_json(accounts)}


def _accounts_json(accounts: Sequence[tuple[str, str]]) -> str:
    """``SERGIO_LOAD_ACCOUNTS``: the logins the Locust users share, as JSON."""
    return json.dumps([{"email": email, "password": password} for email, password in accounts])


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
    timeout = _run_length(env) + 180
    try:
        return subprocess.run(command, env=env, timeout=timeout, check=False).returncode
    except subprocess.TimeoutExpired:
        raise SergioKitError(f"locust did not finish within {timeout:.0f} s") from None


def _run_length(env: Mapping[str, str]) -> float:
    """Seconds the scenarios run for, as ``load/locustfile.py`` reads them from ``env``."""
    profile = env.get(LOAD_PREFIX + "PROFILE", "conformance")
    window = float(env.get(PACING["window"]) or WINDOW_SECONDS)
    if env.get(PACING["duration"]):
        return float(env[PACING["duration"]])
    if profile == "conformance":
        return 2 * window
    top = int(env.get(PACING["users"]) or DEFAULT_TOP_USERS)
    start = min(int(env.get(PACING["start_users"]) or DEFAULT_START_USERS), top)
    return step_load_length(start, top, float(env.get(PACING["step_duration"]) or DEFAULT_STEP_SECONDS))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def summarize(stats: Sequence[dict[str, Any]]) -> dict[str, TierSummary]:
    """Per-tier counts from Locust's JSON stats, whose entries are named ``"<tier> [<class>]"``; a
    warning class counts as what it also is (an admission or a throttle) and as a warning."""
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
        if kind in WARNINGS:
            summary.warnings[kind] = summary.warnings.get(kind, 0) + count
            kind = WARNINGS[kind]
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


def judge(
    summaries: dict[str, TierSummary], profile: str, *, plan: LoadPlan | None = None
) -> list[LoadFinding]:
    """The findings, each with its rule's basis: every failure and warning class; in conformance, a
    tier past its limit never throttled and, given the master's ``plan``, a tier whose admitted total
    is off its contract (see :func:`~sergio_kit.load.totals.totals_findings`)."""
    findings = [
        LoadFinding(f"{s.tier}: {count} request(s) {kind}", BASIS.get(kind, "documented"))
        for s in summaries.values()
        for kind, count in (*s.failures.items(), *s.warnings.items())
    ]
    if profile == "conformance":
        findings += [
            LoadFinding(f"{s.tier}: loaded at 1.5x its limit but never throttled", "documented")
            for s in summaries.values()
            if s.admitted and not s.throttled
        ]
        firsts = [s.first_response for s in summaries.values() if s.first_response is not None]
        lasts = [s.last_response for s in summaries.values() if s.last_response is not None]
        if plan is not None and is_current(plan, min(firsts, default=None), max(lasts, default=None)):
            findings += totals_findings(plan, {s.tier: (s.admitted, s.span) for s in summaries.values()})
    return findings


def print_summary(
    summaries: dict[str, TierSummary],
    findings: Sequence[LoadFinding],
    out: TextIO,
    *,
    locust_exit_code: int = 0,
    strict: bool = False,
    gates: Gates | None = None,
) -> None:
    """The per-tier table, each failure then each warning on its own line with its rule's basis, the
    figures and their judgements (:class:`~sergio_kit.load.gates.Gates`), then the verdict
    (:func:`~sergio_kit.load.findings.load_verdict`)."""
    out.write(f"{'tier':<9} {'admitted':>9} {'throttled':>10} {'warnings':>9} {'failures':>9}\n")
    for s in summaries.values():
        out.write(f"{s.tier:<9} {s.admitted:>9} {s.throttled:>10} {s.warned:>9} {s.failed:>9}\n")
    for finding in failures(findings):
        out.write(f"FAIL {finding.message} ({finding.basis} rule)\n")
    for finding in warnings(findings):
        out.write(f"WARN {finding.message} ({finding.basis} rule)\n")
    if locust_exit_code and not failures(findings):
        out.write(f"FAIL Locust exited with code {locust_exit_code}\n")
    if strict and warnings(findings) and not failures(findings):
        out.write("strict: a warning fails the run\n")
    gates_failed = gates is not None and gates.failed
    if gates is not None:
        out.writelines(line + "\n" for line in gates.lines())
    out.write(f"load: {load_verdict(findings, locust_exit_code, strict=strict, gates_failed=gates_failed)}\n")
