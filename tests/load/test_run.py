"""``sergio-kit load`` end to end: Locust runs in child processes against embedded servers on loopback.

Windows are shortened (``--window``) so each tier reaches 1.5x its limit within seconds; locust is
never imported here (gevent monkey-patches on import).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from sergio_kit.cli.load import load_settings
from sergio_kit.cli.main import build_parser, main
from sergio_kit.cli.settings import resolve_settings
from sergio_kit.load.run import _target
from tests.support.environment import isolate_settings


def _load(tmp_path: Path, *options: str) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """Run ``sergio-kit load`` with ``options``; return its exit code, summary and Locust stats."""
    report = tmp_path / "report"
    code = main(["load", "--profile", "conformance", "--report", str(report), *options])
    summary = json.loads((report / "summary.json").read_text())
    stats = json.loads((report / "stats.json").read_text())
    assert (report / "report.html").stat().st_size > 0
    assert (report / "locust_stats.csv").exists()
    return code, summary, stats


def _tiers(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tier["tier"]: tier for tier in summary["tiers"]}


def _chart_counts(page: str) -> dict[str, tuple[int, int, int]]:
    """Per charted tier, (admitted, throttled, failed) summed over the hover text of its bars."""
    hover = re.compile(r"(\d+) admitted, (\d+) throttled, (\d+) failed")
    counts = {}
    for svg in re.findall(r"<svg\b.*?</svg>", page, re.DOTALL):
        root = ET.fromstring(svg)
        titles = [t.text or "" for t in root.iterfind("{*}g[@class='bar']/{*}title")]
        per_bar = [tuple(map(int, match.groups())) for t in titles if (match := hover.search(t))]
        assert len(per_bar) == len(titles) > 0
        counts[root.get("data-tier", "")] = (
            sum(b[0] for b in per_bar),
            sum(b[1] for b in per_bar),
            sum(b[2] for b in per_bar),
        )
    return counts


def test_conformance_run_passes_on_clean_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every tier is admitted exactly up to its limit and then throttled as contracted, with no failure."""
    code, summary, stats = _load(tmp_path, "--window", "8", "--duration", "12")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "load: passed\n" in out and "WARN" not in out
    assert (summary["verdict"], summary["warnings"]) == ("passed", [])
    tiers = _tiers(summary)
    assert tiers["read"]["admitted"] == 120
    assert tiers["write"]["admitted"] == 60
    for tier in ("read", "write", "webhook", "bulk", "auth"):
        assert tiers[tier]["throttled"] > 0, tiers[tier]
        assert tiers[tier]["failed"] == 0, tiers[tier]
    assert summary["findings"] == []
    names = {entry["name"] for entry in stats}
    assert {"read [admitted]", "read [throttled]", "auth [throttled]"} <= names
    # The token pool logged the one account in once; only the auth-tier user logs in repeatedly.
    assert [e["num_requests"] for e in stats if e["name"].startswith("token pool login")] == [1]
    # summary.html: a timeline per tier whose bars add up to summary.json's counts.
    report = tmp_path / "report"
    assert f"{report}/summary.html" in out and (report / "locust_stats_history.csv").exists()
    charts = _chart_counts((report / "summary.html").read_text())
    assert charts == {t: (s["admitted"], s["throttled"], s["failed"]) for t, s in tiers.items()}


def test_two_local_workers_both_send_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With ``--processes 2`` a master drives two workers, each with its own account, and both report."""
    code, summary, stats = _load(tmp_path, "--window", "8", "--duration", "10", "--processes", "2")
    assert code == 0, capsys.readouterr().out
    pool_logins = {e["name"]: e["num_requests"] for e in stats if e["name"].startswith("token pool login")}
    assert pool_logins == {"token pool login [worker 0]": 1, "token pool login [worker 1]": 1}
    assert _tiers(summary)["read"]["admitted"] == 120
    assert summary["findings"] == []


def test_boundary_fault_is_over_the_rolling_quota(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A server admitting limit + 1 reads in 60 s breaks the kit's rolling window, not the published "N
    per minute" (a fixed window's edge allows it): an ``over rolling quota`` warning, and exit 0. The
    warned admission is no Locust failure, and counts as admitted."""
    code, summary, stats = _load(
        tmp_path, "--window", "6", "--duration", "8", "--fault", "ratelimit.read.boundary"
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "WARN read: 1 request(s) over rolling quota (recommended rule)" in out
    assert "load: passed with 1 warning\n" in out
    read = _tiers(summary)["read"]
    assert (read["warnings"], read["failures"], read["admitted"]) == ({"over rolling quota": 1}, {}, 121)
    assert summary["findings"] == []
    assert summary["warnings"] == [
        {"message": "read: 1 request(s) over rolling quota", "basis": "recommended"}
    ]
    over = next(e for e in stats if e["name"] == "read [over rolling quota]")
    assert (over["num_requests"], over["num_failures"]) == (1, 0)


def test_missing_retry_after_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """429s without Retry-After on the bulk tier are reported as ``bad Retry-After`` and fail the run."""
    fault = "ratelimit.bulk.retry_after"
    code, summary, _ = _load(tmp_path, "--window", "6", "--duration", "8", "--fault", fault)
    assert code == 1
    failures = _tiers(summary)["bulk"]["failures"]
    assert set(failures) == {"bad Retry-After"} and failures["bad Retry-After"] > 0
    assert "FAIL bulk:" in capsys.readouterr().out


def test_config_file_limits_start_the_server_and_pace_the_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``tier_limits`` and ``report_dir`` from sergio-kit.toml: the embedded server admits 30 reads, the
    Locust users are paced and judged against 30, and the reports land in the report folder's load/."""
    (tmp_path / "sergio-kit.toml").write_text('tier-limits = "read=30"\nreport-dir = "out"\n')
    isolate_settings(monkeypatch, tmp_path, {})
    code = main(["load", "--window", "8", "--duration", "10"])
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads((tmp_path / "out" / "load" / "summary.json").read_text())
    read = _tiers(summary)["read"]
    assert (read["admitted"], read["failed"]) == (30, 0) and read["throttled"] > 0
    assert summary["findings"] == []


def test_live_target_settings_reach_locust_through_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against a live target the Locust processes get the resolved settings (config file included) in
    their environment: CA bundle, logins, tier limits and the pacing; no other ``SERGIO_*`` setting."""
    (tmp_path / "ca.pem").write_text("pem")
    (tmp_path / "sergio-kit.toml").write_text(
        'base-url = "https://s.example"\nca-bundle = "ca.pem"\ntier-limits = "read=30"\n'
    )
    environ = {"SERGIO_EMAIL": "qa@s.example", "SERGIO_PASSWORD": "pw-live", "SERGIO_LOAD_WEIGHTS": "read=1"}
    isolate_settings(monkeypatch, tmp_path, environ)
    args = build_parser().parse_args(["load", "--window", "8"])
    with _target(args, resolve_settings(args, "load")) as target:
        assert target.url == "https://s.example"
    env = target.env
    assert target.limits["read"] == 30
    assert json.loads(env["SERGIO_LOAD_ACCOUNTS"]) == [{"email": "qa@s.example", "password": "pw-live"}]
    assert env["SERGIO_CA_BUNDLE"] == str(tmp_path / "ca.pem")
    assert env["SERGIO_TIER_LIMITS"] == "auth=10,read=30,write=60,webhook=10,bulk=10"
    pacing = (env["SERGIO_LOAD_PROFILE"], env["SERGIO_LOAD_WINDOW"], env["SERGIO_LOAD_WEIGHTS"])
    assert pacing == ("conformance", "8.0", "read=1")
    settings = {key for key in env if key.startswith("SERGIO_") and not key.startswith("SERGIO_LOAD_")}
    assert settings == {"SERGIO_CA_BUNDLE", "SERGIO_TIER_LIMITS"}


def test_live_target_may_take_its_logins_from_the_load_accounts_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SERGIO_LOAD_ACCOUNTS`` alone is a live target's login for ``load``: no SERGIO_EMAIL needed, and
    the list reaches the Locust processes unchanged."""
    accounts = json.dumps(
        [{"email": "a@s.example", "password": "pw-a"}, {"email": "b@s.example", "password": "pw-b"}]
    )
    isolate_settings(
        monkeypatch, tmp_path, {"SERGIO_BASE_URL": "https://s.example", "SERGIO_LOAD_ACCOUNTS": accounts}
    )
    args = build_parser().parse_args(["load"])
    with _target(args, load_settings(args)) as target:
        assert json.loads(target.env["SERGIO_LOAD_ACCOUNTS"]) == json.loads(accounts)
