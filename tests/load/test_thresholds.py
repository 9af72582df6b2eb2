"""Load thresholds: the grammar (one-line errors, exit 2) and their judgement on a run's figures."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sergio_kit.cli.main import main
from sergio_kit.config import Threshold, load_config, parse_threshold
from sergio_kit.load.thresholds import breaches, evaluate, measured
from tests.support.environment import isolate_settings


def _figures(**overrides: Any) -> dict[str, Any]:
    figures = {"requests": 100, "admitted": 98, "throttled": 0, "failed": 2, "rps": 50.0}
    figures |= {"admitted_rps": 49.0, "error_rate": 0.02, "p50": 40, "p90": 80, "p95": 120}
    figures |= {"p99": 300, "max": 410, "avg": 52.5}
    return figures | overrides


SPAN = {
    "seconds": 2.0,
    "total": _figures(),
    "tiers": {"read": _figures(p95=182, rps=35.0), "write": _figures(requests=0, p95=None)},
    "operations": {"GET /v1/jobs": _figures(p99=250)},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("read:p95<300ms", Threshold("read", "p95", "<", 300.0)),
        ("write:p99<0.8s", Threshold("write", "p99", "<", 800.0)),
        ("*:error_rate<1%", Threshold("*", "error_rate", "<", 0.01)),
        ("read:rps>100", Threshold("read", "rps", ">", 100.0)),
        ("GET /v1/jobs: p(95) <= 250 ms", Threshold("GET /v1/jobs", "p95", "<=", 250.0)),
        ("bulk:avg>=5ms", Threshold("bulk", "avg", ">=", 5.0)),
    ],
)
def test_thresholds_parse_k6_style(text: str, expected: Threshold) -> None:
    """Scope, metric, operator and limit in the metric's unit (ms, a fraction, req/s); k6's p(95) too."""
    assert parse_threshold(text) == expected
    assert parse_threshold(expected.text) == expected  # the shown text reads back the same


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("p95<300ms", "no SCOPE: before the condition"),
        ("raed:p95<300ms", "unknown scope 'raed' (did you mean 'read'?)"),
        ("read:p96<300ms", "unknown metric 'p96'"),
        ("read:p95<300", "p95 needs a unit, ms or s"),
        ("*:error_rate<0.01", "error_rate is a percentage"),
        ("read:rps>100ms", "rps is requests per second"),
        ("read:p95=300ms", "is not METRIC<VALUE"),
    ],
)
def test_malformed_thresholds_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_threshold(text)


def test_a_malformed_threshold_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the command line, in the environment and in [load.thresholds]: one line naming where, exit 2,
    before anything starts."""
    isolate_settings(monkeypatch, tmp_path, {})
    assert main(["load", "--threshold", "read:p95<300", "--report", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("sergio-kit: error: --threshold has value 'read:p95<300': p95 needs a unit")
    monkeypatch.setenv("SERGIO_LOAD_THRESHOLDS", "read:p95<300ms,*:errors<1%")
    assert main(["load"]) == 2
    assert (
        "SERGIO_LOAD_THRESHOLDS has value '*:errors<1%': unknown metric 'errors'" in capsys.readouterr().err
    )
    monkeypatch.delenv("SERGIO_LOAD_THRESHOLDS")
    (tmp_path / "sergio-kit.toml").write_text('[load.thresholds]\nread = ["p95<300ms", "p99<1"]\n')
    assert main(["load"]) == 2
    err = capsys.readouterr().err
    assert "sergio-kit.toml: load.thresholds has value 'read:p99<1': p99 needs a unit" in err
    assert not (tmp_path / "r").exists()


def test_load_thresholds_table_in_the_config_file(tmp_path: Path) -> None:
    """``[load.thresholds]``: scope = one condition or a list; an operation scope is quoted."""
    (tmp_path / "sergio-kit.toml").write_text(
        '[load.thresholds]\nread = ["p95<300ms", "rps>100"]\n"*" = "error_rate<1%"\n'
        '"GET /v1/jobs" = "p99<1s"\n'
    )
    settings = load_config({}, {}, tmp_path)
    assert [t.text for t in settings.load_thresholds] == [
        "read:p95<300ms",
        "read:rps>100",
        "*:error_rate<1%",
        "GET /v1/jobs:p99<1000ms",
    ]
    assert settings.sources["load_thresholds"] == "sergio-kit.toml: load.thresholds"


def test_thresholds_are_judged_on_the_scope_figures() -> None:
    """Each threshold reads its scope's metric; just below the measured value fails, just above passes."""
    results = evaluate(
        [
            parse_threshold("read:p95<183ms"),
            parse_threshold("read:p95<182ms"),
            parse_threshold("*:error_rate<3%"),
            parse_threshold("*:error_rate<=1%"),
            parse_threshold("read:rps>30"),
            parse_threshold("GET /v1/jobs:p99<250ms"),
        ],
        SPAN,
    )
    assert [result.passed for result in results] == [True, False, True, False, True, False]
    assert results[0].line() == "PASS threshold read:p95<183ms: 182 ms"
    assert results[3].line() == "FAIL threshold *:error_rate<=1%: 2%"
    assert results[4].line() == "PASS threshold read:rps>30: 35 req/s"


def test_an_unmeasured_scope_fails_and_never_stops_a_run() -> None:
    """No write request (or no such operation): not measured, which fails (a threshold that cannot be
    checked must not pass), but is no breach that stops a step load."""
    results = evaluate([parse_threshold("write:p95<300ms"), parse_threshold("POST /v1/x:p50<1ms")], SPAN)
    assert [result.measured for result in results] == [None, None]
    assert not any(result.passed for result in results)
    assert "not measured (no p95 figure for a write request)" in results[0].line()
    assert measured(SPAN, parse_threshold("*:max<1s")) == 410.0


def test_only_latency_and_error_thresholds_stop_a_run() -> None:
    """A throughput floor (rps>) is only met under load: it never stops a step load or an abort."""
    results = evaluate([parse_threshold("read:rps>1000"), parse_threshold("read:p50<1ms")], SPAN)
    assert [r.threshold.metric for r in breaches(results)] == ["rps", "p50"]
    assert [r.threshold.metric for r in breaches(results, stopping_only=True)] == ["p50"]
