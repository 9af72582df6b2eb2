"""``summary.html`` of ``sergio-kit load``: the per-tier table and the rate-limit timelines, one page.

Built from the same per-tier rows as ``summary.json`` and the :class:`TierTraffic` of the run.
Self-contained (inline CSS and SVG, no script, no external asset); every text is masked and escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from sergio_kit import __version__
from sergio_kit.reports.chart import COLOURS
from sergio_kit.reports.html import STYLE, html_page
from sergio_kit.reports.redaction import mask_text
from sergio_kit.reports.timeline import TierTraffic, timelines_html

PAGE_STYLE = """
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
ul.findings { margin: 8px 0 0; padding-left: 20px; color: #c62828; }
"""


def load_failed(findings: Sequence[str], locust_exit_code: int) -> bool:
    """Whether a load run failed: a finding, or Locust itself exiting non-zero (the exit code, the
    terminal's last line and ``summary.html`` all say this)."""
    return bool(findings) or locust_exit_code != 0


def render_summary_html(
    *,
    profile: str,
    target: str,
    tiers: Sequence[Mapping[str, Any]],
    findings: Sequence[str],
    locust_exit_code: int,
    traffic: Sequence[TierTraffic] = (),
) -> str:
    """The page: verdict, findings, per-tier admitted / throttled / failures table, timelines."""
    failed = load_failed(findings, locust_exit_code)
    verdict = "FAILED" if failed else "passed"
    colour = COLOURS["failed"] if failed else COLOURS["passed"]
    limits = {t.tier: t for t in traffic}
    rows = "".join(_row(tier, limits.get(str(tier.get("tier")))) for tier in tiers)
    items = "".join(f"<li>{_text(finding)}</li>" for finding in findings)
    header = (
        "<header>"
        "<h1>sergio-kit load</h1>"
        f'<p class="target">Target: <code>{_text(target)}</code></p>'
        f'<p class="meta">profile {_text(profile)} &middot; Locust exit code {locust_exit_code}</p>'
        f'<p class="verdict">load: {verdict}</p>'
        + (f'<ul class="findings">{items}</ul>' if items else "")
        + "</header>"
    )
    table = (
        '<section id="tiers"><h2>Requests per tier</h2>'
        '<table><thead><tr><th>Tier</th><th class="n">Limit</th><th class="n">Principals</th>'
        '<th class="n">Admitted</th>'
        '<th class="n">Throttled</th><th class="n">Failures</th><th>Failure classes</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )
    footer = f"<footer>sergio-kit {escape(__version__)} &middot; Locust's own report: report.html</footer>"
    body = [header, table, timelines_html(traffic), footer]
    return html_page(f"sergio-kit load: {_text(target)}", STYLE + PAGE_STYLE, colour, body)


def _row(tier: Mapping[str, Any], traffic: TierTraffic | None) -> str:
    failures = tier.get("failures") or {}
    classes = ", ".join(f"{count} {kind}" for kind, count in failures.items())
    limit = principals = "&mdash;"
    if traffic is not None:
        limit, principals = _text(f"{traffic.limit} / {traffic.window:g} s"), str(traffic.principals)
    broken = int(tier.get("failed", 0)) > 0
    return (
        f'<tr class="{"failed" if broken else "passed"}">'
        f"<td><code>{_text(str(tier.get('tier', '')))}</code></td>"
        f'<td class="n">{limit}</td><td class="n">{principals}</td>'
        f'<td class="n">{int(tier.get("admitted", 0))}</td>'
        f'<td class="n">{int(tier.get("throttled", 0))}</td>'
        f'<td class="n">{int(tier.get("failed", 0))}</td>'
        f"<td>{_text(classes)}</td>"
        "</tr>"
    )


def _text(value: str) -> str:
    return escape(mask_text(value))
