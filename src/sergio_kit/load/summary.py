"""``summary.html`` of ``sergio-kit load``: the per-tier table and the rate-limit timelines, one page.

Built from the same per-tier rows as ``summary.json`` and the :class:`TierTraffic` of the run: the
failures, then the warnings (each with its rule's basis), apart.
Self-contained (inline CSS and SVG, no script, no external asset); every text is masked and escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from sergio_kit import __version__
from sergio_kit.load.figures_html import figures_html
from sergio_kit.load.findings import LoadFinding, failures, load_failed, load_verdict, warnings
from sergio_kit.load.gates import Gates
from sergio_kit.reports.chart import COLOURS, WARNED_INK
from sergio_kit.reports.html import STYLE, html_page
from sergio_kit.reports.redaction import mask_text
from sergio_kit.reports.timeline import TierTraffic, timelines_html

PAGE_STYLE = f"""
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
ul.findings {{ margin: 8px 0 0; padding-left: 20px; color: {COLOURS["failed"]}; }}
ul.warnings {{ margin: 8px 0 0; padding-left: 20px; color: {WARNED_INK}; }}
col.c-scope {{ width: 20%; }}
details.step {{ margin: 8px 0; }} details.step summary {{ cursor: pointer; color: #57606a; }}
"""


def render_summary_html(
    *,
    profile: str,
    target: str,
    tiers: Sequence[Mapping[str, Any]],
    findings: Sequence[LoadFinding],
    locust_exit_code: int,
    strict: bool = False,
    traffic: Sequence[TierTraffic] = (),
    gates: Gates | None = None,
) -> str:
    """The page: verdict, failures, warnings, per-tier admitted / throttled / warnings / failures table,
    the figures, knee, thresholds and baseline (:func:`~sergio_kit.load.figures_html.figures_html`),
    timelines."""
    gates_failed = gates is not None and gates.failed
    failed = load_failed(findings, locust_exit_code, strict=strict, gates_failed=gates_failed)
    verdict = load_verdict(findings, locust_exit_code, strict=strict, gates_failed=gates_failed)
    colour = COLOURS["failed" if failed else "warned" if warnings(findings) else "passed"]
    limits = {t.tier: t for t in traffic}
    rows = "".join(_row(tier, limits.get(str(tier.get("tier")))) for tier in tiers)
    lists = "".join(
        f'<ul class="{kind}">' + "".join(_item(finding) for finding in listed) + "</ul>"
        for kind, listed in (("findings", failures(findings)), ("warnings", warnings(findings)))
        if listed
    )
    header = (
        "<header>"
        "<h1>sergio-kit load</h1>"
        f'<p class="target">Target: <code>{_text(target)}</code></p>'
        f'<p class="meta">profile {_text(profile)} &middot; Locust exit code {locust_exit_code}</p>'
        f'<p class="verdict">load: {_text(verdict)}</p>' + lists + "</header>"
    )
    table = (
        '<section id="tiers"><h2>Requests per tier</h2>'
        '<table><thead><tr><th>Tier</th><th class="n">Limit</th><th class="n">Principals</th>'
        '<th class="n">Admitted</th>'
        '<th class="n">Throttled</th><th class="n">Warnings</th><th class="n">Failures</th>'
        "<th>Warning and failure classes</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )
    footer = f"<footer>sergio-kit {escape(__version__)} &middot; Locust's own report: report.html</footer>"
    figures = figures_html(gates) if gates is not None else ""
    body = [header, table, figures, timelines_html(traffic), footer]
    return html_page(f"sergio-kit load: {_text(target)}", STYLE + PAGE_STYLE, colour, body)


def _item(finding: LoadFinding) -> str:
    """One finding as a list item, with its rule's basis."""
    return f"<li>{_text(finding.message)} ({_text(finding.basis)} rule)</li>"


def _row(tier: Mapping[str, Any], traffic: TierTraffic | None) -> str:
    counted = {**(tier.get("failures") or {}), **(tier.get("warnings") or {})}
    classes = ", ".join(f"{count} {kind}" for kind, count in counted.items())
    limit = principals = "&mdash;"
    if traffic is not None:
        limit, principals = _text(f"{traffic.limit} / {traffic.window:g} s"), str(traffic.principals)
    outcome = "failed" if int(tier.get("failed", 0)) else "warned" if int(tier.get("warned", 0)) else "passed"
    return (
        f'<tr class="{outcome}">'
        f"<td><code>{_text(str(tier.get('tier', '')))}</code></td>"
        f'<td class="n">{limit}</td><td class="n">{principals}</td>'
        f'<td class="n">{int(tier.get("admitted", 0))}</td>'
        f'<td class="n">{int(tier.get("throttled", 0))}</td>'
        f'<td class="n">{int(tier.get("warned", 0))}</td>'
        f'<td class="n">{int(tier.get("failed", 0))}</td>'
        f"<td>{_text(classes)}</td>"
        "</tr>"
    )


def _text(value: str) -> str:
    return escape(mask_text(value))
