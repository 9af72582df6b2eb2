"""Per-tier traffic of a load run, rebuilt from Locust's ``--csv-full-history`` file.

Locust appends, about once a second, a row per request name with its *cumulative* request and
failure counts. Rows are named ``"<tier> [<class>]"`` by ``load/locustfile.py`` (class
``admitted``, ``throttled``, or a failure class) and ``"token pool <login|refresh> [<worker>]"``
for the token pool's own logins (auth tier). The difference between two consecutive rows is what
happened in between; it becomes that many events in the middle of that second (spread evenly when
rows are further apart). Locust writes no row at shutdown, so the last requests are taken from the
final ``stats.json`` counts and placed just after the last row: the totals then match the summary.
Pure: no I/O, no locust import.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sergio_kit.config import DEFAULT_TIER_LIMITS
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.load.ledger import PASSING, WARNINGS
from sergio_kit.reports.timeline import TierTraffic

Event = tuple[float, str]


def account_count(env: Mapping[str, str]) -> int:
    """How many accounts the load may use: ``SERGIO_LOAD_ACCOUNTS``, else the SERGIO_(OTHER_)EMAIL pairs."""
    raw = env.get("SERGIO_LOAD_ACCOUNTS")
    if raw:
        try:
            accounts = json.loads(raw)
        except ValueError:
            return 1
        return max(len(accounts), 1) if isinstance(accounts, list) else 1
    pairs = sum(bool(env.get(p + "EMAIL") and env.get(p + "PASSWORD")) for p in ("SERGIO_", "SERGIO_OTHER_"))
    return max(pairs, 1)


def load_principals(profile: str, accounts: int, workers: int, users: int | None) -> dict[str, int]:
    """Principals per tier: auth is one client address; bearer tiers are the accounts in use.

    Conformance: each worker process loads with its own account (``worker % accounts``);
    capacity: users take the accounts round-robin.
    """
    carriers = min(workers, accounts) if profile == "conformance" else min(users or 20, accounts)
    return {tier: 1 if tier == "auth" else max(carriers, 1) for tier in DEFAULT_TIER_LIMITS}


def row_outcomes(name: str, requests: int, failures: int) -> list[tuple[str, str, int]]:
    """``(tier, outcome, count)`` for ``requests`` (``failures`` of them failed) under request ``name``."""
    if name.startswith("token pool "):
        return [("auth", "admitted", requests - failures), ("auth", "failed", failures)]
    tier, bracket, rest = name.partition(" [")
    if not bracket or not rest.endswith("]") or tier not in DEFAULT_TIER_LIMITS:
        return []
    kind = WARNINGS.get(rest[:-1], rest[:-1])  # a warned admission or throttle is charted as one
    return [(tier, kind if kind in PASSING else "failed", requests)]


def traffic_from_history(
    history_csv: str,
    final_stats: Sequence[Mapping[str, Any]] = (),
    *,
    limits: Mapping[str, int],
    principals: Mapping[str, int],
    window: float = WINDOW_SECONDS,  # the server's rolling window; ``--window`` only paces the load
) -> list[TierTraffic]:
    """One :class:`TierTraffic` per contract tier from a ``*_stats_history.csv`` text.

    ``final_stats`` (Locust's ``stats.json`` entries) top up what happened after the last row.
    Without any history row, no tier has events.
    """
    every = list(csv.DictReader(io.StringIO(history_csv)))
    rows = [row for row in every if row.get("Name") != "Aggregated"]
    stamps = sorted({int(row["Timestamp"]) for row in every})
    events: dict[str, list[Event]] = {tier: [] for tier in DEFAULT_TIER_LIMITS}
    if stamps:
        start = stamps[0]
        before = dict(zip(stamps[1:], stamps, strict=False))
        seen: dict[tuple[str, str], tuple[int, int]] = {}
        for row in rows:
            stamp = int(row["Timestamp"])
            key = (row["Name"], row["Type"])
            counts = (int(row["Total Request Count"]), int(row["Total Failure Count"]))
            begin = before.get(stamp, stamp - 1)
            _add(events, key[0], _delta(seen, key, counts), begin - start, stamp - start)
        end = stamps[-1] - start
        for entry in final_stats:
            key = (str(entry["name"]), str(entry.get("method") or ""))
            counts = (int(entry["num_requests"]), int(entry["num_failures"]))
            _add(events, key[0], _delta(seen, key, counts), end, end + 1)
    return [
        TierTraffic(
            tier,
            limits.get(tier, limit),
            window,
            principals.get(tier, 1),
            tuple(sorted(events[tier], key=itemgetter(0))),
        )
        for tier, limit in DEFAULT_TIER_LIMITS.items()
    ]


def _delta(
    seen: dict[tuple[str, str], tuple[int, int]], key: tuple[str, str], counts: tuple[int, int]
) -> tuple[int, int]:
    """New requests and failures of ``key`` since its last row (all of them after a stats reset)."""
    requests, failures = seen.get(key, (0, 0))
    seen[key] = counts
    if counts[0] < requests or counts[1] < failures:
        return counts
    return counts[0] - requests, counts[1] - failures


def _add(events: dict[str, list[Event]], name: str, delta: tuple[int, int], begin: int, end: int) -> None:
    """Spread ``delta`` of request ``name`` evenly over the seconds ``[begin, end)``, mid-second."""
    seconds = max(end - begin, 1)
    for tier, outcome, count in row_outcomes(name, *delta):
        for offset, share in enumerate(_shares(count, seconds)):
            if share:
                event = (max(begin + offset + 0.5, 0.0), outcome)
                events[tier].extend([event] * share)  # one shared tuple per second keeps big runs small


def _shares(count: int, parts: int) -> Iterable[int]:
    return (count * (i + 1) // parts - count * i // parts for i in range(parts))
