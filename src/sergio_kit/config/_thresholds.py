"""Load thresholds, k6-style: ``SCOPE:METRIC<VALUE`` such as ``read:p95<300ms`` or ``*:error_rate<1%``.

The ``load_thresholds`` setting: ``--threshold`` (repeatable), ``SERGIO_LOAD_THRESHOLDS`` (comma
separated) or a ``[load.thresholds]`` table in a config file, whose keys are scopes and values one
condition or a list of them (``read = ["p95<300ms", "rps>100"]``, ``"*" = "error_rate<1%"``).

A scope is ``*`` (every request), a rate-limit tier (``read``) or an operation (``GET /v1/jobs``).
A metric is a latency (``p50``, ``p90``, ``p95``, ``p99``, ``max``, ``avg``; a unit, ``ms`` or
``s``, is required), ``error_rate`` (a percentage) or ``rps`` (responses per second). What each metric
measures is :mod:`sergio_kit.load.figures`' business; here only the grammar, with one-line errors.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS
from sergio_kit.errors import SergioKitError

if TYPE_CHECKING:
    from sergio_kit.config._values import Given

LATENCIES = ("p50", "p90", "p95", "p99", "max", "avg")
METRICS = (*LATENCIES, "error_rate", "rps")
OPERATORS = ("<=", ">=", "<", ">")
EVERYTHING = "*"
THRESHOLDS_VARIABLE = "SERGIO_LOAD_THRESHOLDS"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
EXAMPLES = "read:p95<300ms, write:p99<800ms, *:error_rate<1%, read:rps>100"
EXPECTED = (
    f"SCOPE:METRIC<VALUE such as {EXAMPLES} (SCOPE: *, a tier ({', '.join(DEFAULT_TIER_LIMITS)}) or an "
    f"operation such as 'GET /v1/jobs'; METRIC: {', '.join(METRICS)}; <, <=, > or >=)"
)
_CONDITION = re.compile(
    r"(?P<metric>[a-z_0-9()]+)\s*(?P<op><=|>=|<|>)\s*(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>ms|s|%|/s)?"
)
_OPERATION = re.compile(rf"(?:{'|'.join(HTTP_METHODS)}) /\S*")
_K6_PERCENTILE = re.compile(r"p\((\d+)\)")


@dataclass(frozen=True)
class Threshold:
    """One threshold: a scope, a metric, a comparison and its limit (ms for a latency, a fraction for
    the error rate, requests per second for ``rps``)."""

    scope: str
    metric: str
    op: str
    limit: float

    @property
    def text(self) -> str:
        """The threshold as it is written: ``read:p95<300ms``."""
        unit = {"error_rate": "%", "rps": ""}.get(self.metric, "ms")
        limit = self.limit * 100 if self.metric == "error_rate" else self.limit
        return f"{self.scope}:{self.metric}{self.op}{_number(limit)}{unit}"

    @property
    def shown_limit(self) -> str:
        """The limit with its unit: ``300 ms``, ``1%``, ``100 req/s``."""
        return shown(self.metric, self.limit)

    def shown_value(self, value: float) -> str:
        """A measured value of this threshold's metric with its unit."""
        return shown(self.metric, value)

    def holds(self, measured: float) -> bool:
        """Whether ``measured`` (in this threshold's unit) meets it."""
        return {
            "<": measured < self.limit,
            "<=": measured <= self.limit,
            ">": measured > self.limit,
            ">=": measured >= self.limit,
        }[self.op]


def shown(metric: str, value: float) -> str:
    """A value of ``metric`` with its unit, as summaries print it."""
    if metric == "error_rate":
        return f"{_number(value * 100)}%"
    if metric == "rps":
        return f"{_number(value)} req/s"
    return f"{_number(value)} ms"


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def parse_threshold(text: str) -> Threshold:
    """Parse one ``SCOPE:METRIC<VALUE``; a ``ValueError`` says what is wrong with it (one line)."""
    scope, colon, condition = text.strip().rpartition(":")
    scope = scope.strip()
    if not colon or not scope:
        raise ValueError(
            f"no SCOPE: before the condition (write {EVERYTHING}:{condition.strip()} for every request)"
        )
    _check_scope(scope)
    match = _CONDITION.fullmatch(condition.strip())
    if match is None:
        raise ValueError(f"{condition.strip()!r} is not METRIC<VALUE (operators <, <=, >, >=)")
    metric = _K6_PERCENTILE.sub(r"p\1", match["metric"])
    if metric not in METRICS:
        close = difflib.get_close_matches(metric, METRICS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown metric {metric!r}{hint}")
    return Threshold(scope, metric, match["op"], _limit(metric, float(match["number"]), match["unit"]))


def _check_scope(scope: str) -> None:
    if scope == EVERYTHING or scope in DEFAULT_TIER_LIMITS or _OPERATION.fullmatch(scope):
        return
    close = difflib.get_close_matches(scope.lower(), [EVERYTHING, *DEFAULT_TIER_LIMITS], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown scope {scope!r}{hint}")


def _limit(metric: str, number: float, unit: str | None) -> float:
    """The limit in the metric's unit: ms, a fraction, or requests per second."""
    if metric in LATENCIES:
        if unit not in ("ms", "s"):
            raise ValueError(f"{metric} needs a unit, ms or s (such as {metric}<300ms)")
        return number * 1000 if unit == "s" else number
    if metric == "error_rate":
        if unit != "%":
            raise ValueError(
                f"error_rate is a percentage (such as error_rate<1%), not {number:g}{unit or ''}"
            )
        return number / 100
    if unit not in (None, "/s"):
        raise ValueError(f"rps is requests per second (such as rps>100), not {number:g}{unit}")
    return number


def parse_load_thresholds(given: Given) -> tuple[Threshold, ...]:
    """The thresholds of a setting's value: a ``SCOPE:METRIC<VALUE`` text (comma-separated in the
    environment), a list of them (a repeated option, a list in a file) or a ``[load.thresholds]`` table
    of scope -> condition(s). A malformed one is one line naming where it came from."""
    thresholds: list[Threshold] = []
    for text in _texts(given):
        try:
            threshold = parse_threshold(text)
        except ValueError as problem:
            raise SergioKitError(
                f"{given.label} has value {text.strip()!r}: {problem}; expected {EXPECTED}"
            ) from None
        if threshold not in thresholds:
            thresholds.append(threshold)
    if not thresholds:
        raise SergioKitError(f"{given.label} has value {given.value!r}: expected {EXPECTED}")
    return tuple(thresholds)


def _texts(given: Given) -> list[str]:
    """Every ``SCOPE:CONDITION`` text of a value, whatever its form."""
    value: Any = given.value
    if isinstance(value, Mapping):
        texts = []
        for scope, conditions in value.items():
            items = [conditions] if isinstance(conditions, str) else conditions
            if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
                raise SergioKitError(
                    f"{given.label} has {scope} = {conditions!r}: expected a condition or a list of them, "
                    f'such as {scope} = ["p95<300ms", "rps>100"]'
                )
            texts += [f"{scope}:{item}" for item in items]
        return texts
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise SergioKitError(f"{given.label} has value {value!r}: expected {EXPECTED}")
    return [part for item in items for part in item.split(",") if part.strip()]


def thresholds_environment(thresholds: tuple[Threshold, ...]) -> dict[str, str]:
    """The variable handing ``thresholds`` to a process that reads :func:`thresholds_from_environment`
    (none when there are none)."""
    if not thresholds:
        return {}
    return {THRESHOLDS_VARIABLE: ",".join(threshold.text for threshold in thresholds)}


def thresholds_from_environment(environ: Mapping[str, str]) -> tuple[Threshold, ...]:
    """The thresholds ``SERGIO_LOAD_THRESHOLDS`` sets (none when unset): how a Locust process of
    ``sergio-kit load`` learns them (the environment layer alone)."""
    from sergio_kit.config._values import Given

    text = environ.get(THRESHOLDS_VARIABLE)
    if not text:
        return ()
    return parse_load_thresholds(Given("load_thresholds", THRESHOLDS_VARIABLE, text, Path()))
