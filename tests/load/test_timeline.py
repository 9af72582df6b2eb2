"""Per-tier traffic rebuilt from Locust's full-history CSV, and the load summary page built from it."""

from __future__ import annotations

from collections import Counter

from sergio_kit.config import DEFAULT_TIER_LIMITS
from sergio_kit.load.findings import LoadFinding
from sergio_kit.load.summary import render_summary_html
from sergio_kit.load.timeline import (
    account_count,
    load_principals,
    row_outcomes,
    traffic_from_history,
)
from sergio_kit.reports.timeline import TierTraffic

# The columns Locust 2.47 writes (percentiles left out: the parser reads columns by name).
HEADER = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,Total Request Count,Total Failure Count"
HISTORY = "\n".join(
    [
        HEADER,
        "1000,0,,Aggregated,0,0,0,0",
        "1001,5,GET,read [admitted],0,0,20,0",
        "1001,5,POST,token pool login [worker 0],0,0,1,0",
        "1001,5,,Aggregated,0,0,21,0",
        "1002,5,GET,read [admitted],0,0,40,0",
        "1002,5,GET,read [throttled],0,0,5,0",
        "1002,5,POST,token pool login [worker 0],0,0,1,0",
        # Two seconds between rows: the 4 new throttled reads are spread over both.
        "1004,5,GET,read [admitted],0,0,40,0",
        "1004,5,GET,read [throttled],0,0,9,0",
        "1004,5,POST,bulk [over quota],0,0,2,2",
        "1004,5,POST,token pool refresh [worker 0],0,0,2,1",
        "1004,5,POST,mystery [admitted],0,0,7,0",
        "",
    ]
)
FINAL = [
    {"name": "read [admitted]", "method": "GET", "num_requests": 40, "num_failures": 0},
    {"name": "read [throttled]", "method": "GET", "num_requests": 12, "num_failures": 0},
    {"name": "write [admitted]", "method": "POST", "num_requests": 1, "num_failures": 0},
]


def by_tier(traffics: list[TierTraffic]) -> dict[str, TierTraffic]:
    """The traffic list keyed by tier."""
    return {traffic.tier: traffic for traffic in traffics}


def test_history_rows_become_events_in_their_second() -> None:
    """Cumulative counts become per-second events; rows 2 s apart are spread; the final stats top up."""
    limits = {**DEFAULT_TIER_LIMITS, "read": 300}
    principals = {"read": 2}
    tiers = by_tier(traffic_from_history(HISTORY, FINAL, limits=limits, principals=principals))
    assert list(tiers) == list(DEFAULT_TIER_LIMITS)
    read = tiers["read"]
    assert (read.limit, read.principals, read.window) == (300, 2, 60.0)
    assert Counter(read.events) == {
        (0.5, "admitted"): 20,
        (1.5, "admitted"): 20,
        (1.5, "throttled"): 5,
        (2.5, "throttled"): 2,
        (3.5, "throttled"): 2,
        (4.5, "throttled"): 3,  # after the last row: 12 in stats.json, 9 in the history
    }
    assert [t for t, _ in read.events] == sorted(t for t, _ in read.events)
    assert Counter(tiers["auth"].events) == {(0.5, "admitted"): 1, (3.5, "admitted"): 1, (3.5, "failed"): 1}
    assert Counter(tiers["bulk"].events) == {(2.5, "failed"): 1, (3.5, "failed"): 1}
    assert tiers["write"].events == ((4.5, "admitted"),) and tiers["write"].limit == 60
    assert tiers["webhook"].events == () and tiers["webhook"].principals == 1


def test_no_history_means_no_events() -> None:
    """Without a history file (Locust failed early) no tier has events, so no chart is drawn."""
    traffics = traffic_from_history("", FINAL, limits=DEFAULT_TIER_LIMITS, principals={})
    assert [t.events for t in traffics] == [()] * len(DEFAULT_TIER_LIMITS)


def test_request_names_map_to_tier_outcomes() -> None:
    """``<tier> [admitted|throttled]`` kept, other classes failed, token pool rows auth, the rest ignored."""
    assert row_outcomes("write [throttled]", 4, 0) == [("write", "throttled", 4)]
    assert row_outcomes("read [throttled early]", 3, 3) == [("read", "failed", 3)]
    assert row_outcomes("read [over rolling quota]", 2, 0) == [("read", "admitted", 2)]  # warned: charted
    assert row_outcomes("bulk [Retry-After out of range]", 1, 0) == [("bulk", "throttled", 1)]
    pool = row_outcomes("token pool login [worker 1]", 5, 2)
    assert pool == [("auth", "admitted", 3), ("auth", "failed", 2)]
    assert row_outcomes("Aggregated", 9, 0) == []
    assert row_outcomes("mystery [admitted]", 9, 0) == []
    assert row_outcomes("read", 9, 0) == []


def test_limits_accounts_and_principals() -> None:
    """Accounts from the environment; principals per profile and workers (limits: tests/test_config.py)."""
    assert account_count({"SERGIO_LOAD_ACCOUNTS": '[{"email": "a"}, {"email": "b"}, {"email": "c"}]'}) == 3
    assert account_count({"SERGIO_EMAIL": "a", "SERGIO_PASSWORD": "p"}) == 1
    assert account_count({"SERGIO_LOAD_ACCOUNTS": "not json"}) == 1
    assert load_principals("conformance", accounts=4, workers=2, users=None) == {
        "auth": 1,
        "read": 2,
        "write": 2,
        "webhook": 2,
        "bulk": 2,
    }
    assert load_principals("conformance", accounts=1, workers=3, users=None)["read"] == 1
    assert load_principals("capacity", accounts=4, workers=1, users=None)["write"] == 4


def test_summary_page_shows_the_table_and_escapes_every_text() -> None:
    """summary.html: a row per tier, the findings, the charts; markup and secrets in the data neutralised."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    tiers = [
        {"tier": "read", "admitted": 120, "throttled": 3, "failed": 1, "failures": {"over <quota>": 1}},
        {"tier": "bulk", "admitted": 0, "throttled": 0, "failed": 0, "failures": {}},
    ]
    traffic = [TierTraffic("read", 120, events=((0.5, "admitted"), (0.6, "failed")))]
    page = render_summary_html(
        profile="conformance",
        target=f"https://sergio.test/?token={jwt}",
        tiers=tiers,
        findings=[LoadFinding("read: 1 request(s) over <quota>", "documented")],
        locust_exit_code=1,
        traffic=traffic,
    )
    assert page.startswith("<!DOCTYPE html>") and "load: FAILED" in page
    assert jwt not in page and "<quota>" not in page and "over &lt;quota&gt;" in page
    assert '<td class="n">120</td><td class="n">3</td><td class="n">0</td><td class="n">1</td>' in page
    assert "<td><code>bulk</code></td>" in page and page.count("<svg") == 1
    assert "<script" not in page.lower()
