"""``report.html``: one self-contained page (inline CSS and SVG, no script, no external asset).

A header with the target, the totals and the levels the user changed, the per-group chart, the
per-tier rate-limit timelines when the run recorded rate-limited traffic, then a table per group with
failures first, then warnings (in amber), each expanded with its rule's basis: what was expected,
sent, received, and a curl line to reproduce.
Every text passes through ``mask_text`` (again) and ``html.escape`` before it is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from pathlib import Path

from sergio_kit import __version__
from sergio_kit.reports._common import (
    FINDING_FIELDS,
    FINDING_LABELS,
    STATUSES,
    changed_levels,
    failures_first,
    grouped,
    iso_utc,
    masked,
    printable,
    tally,
)
from sergio_kit.reports.chart import COLOURS, TEXT_ON, WARNED_INK, group_chart
from sergio_kit.reports.findings import describe_basis
from sergio_kit.reports.redaction import mask_text
from sergio_kit.reports.results import CheckResult, run_failed
from sergio_kit.reports.timeline import TierTraffic, timelines_html

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1b1f23; background: #f6f8fa; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
header { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 18px 22px;
         border-top: 6px solid var(--verdict); }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 32px 0 10px; display: flex; gap: 12px; align-items: baseline; }
h2 .counts { font-size: 13px; font-weight: 400; color: #57606a; }
.target code { font-size: 14px; background: #eaeef2; padding: 1px 6px; border-radius: 4px;
               overflow-wrap: anywhere; }
.meta { color: #57606a; margin: 4px 0 12px; }
.verdict { font-weight: 700; color: var(--verdict); font-size: 16px; margin: 8px 0 12px; }
.totals { display: flex; gap: 10px; flex-wrap: wrap; list-style: none; padding: 0; margin: 0; }
.totals li { border: 1px solid #d0d7de; border-radius: 6px; padding: 6px 14px; background: #fff;
             min-width: 96px; }
.totals b { display: block; font-size: 22px; line-height: 1.1; }
.chart-box { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 16px;
             margin-top: 18px; }
.chart-box svg { max-width: 100%; height: auto; display: block; }
.chart-box a:hover rect { opacity: .85; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #d0d7de;
        table-layout: fixed; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid #eaeef2;
         overflow-wrap: anywhere; }
th { background: #f0f3f6; font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
     color: #57606a; }
col.c-id { width: 25%; } col.c-subject { width: 25%; } col.c-status { width: 100px; }
col.c-time { width: 72px; }
td.time { text-align: right; color: #57606a; font-variant-numeric: tabular-nums; }
td code { font-size: 13px; }
.status { display: inline-block; border-radius: 10px; padding: 0 9px; font-size: 12px;
          font-weight: 600; white-space: nowrap; }
tr.failed > td, tr.error > td { background: #fff5f5; }
tr.warned > td { background: #fffbea; }
tr.finding > td { padding: 0 10px 10px 10px; }
details { border-left: 3px solid #c62828; padding: 4px 0 4px 12px; }
details.error { border-left-color: #ef6c00; }
details.warned { border-left-color: #f9a825; }
summary .basis { text-transform: none; letter-spacing: 0; font-size: 13px; color: #1b1f23; }
details.warned summary .basis { color: #8a6300; }
.levels { margin: 12px 0 0; color: #57606a; }
.levels ul { display: inline; list-style: none; padding: 0; margin: 0; }
.levels li { display: inline; margin-right: 14px; }
summary { cursor: pointer; color: #57606a; font-size: 12px; text-transform: uppercase;
          letter-spacing: .04em; margin-bottom: 4px; }
dl { margin: 0; display: grid; grid-template-columns: 90px 1fr; gap: 4px 10px; }
dt { font-weight: 600; color: #57606a; padding-top: 6px; }
dd { margin: 0; min-width: 0; }
pre { margin: 0; padding: 6px 9px; background: #f6f8fa; border: 1px solid #eaeef2; border-radius: 4px;
      white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12.5px; }
footer { color: #8c959f; margin-top: 32px; font-size: 12px; }
.timelines .note { color: #57606a; margin: 0 0 6px; }
.timelines .chart-box { margin-top: 12px; }
"""


def render_html(
    target: str,
    results: Sequence[CheckResult],
    *,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    traffic: Sequence[TierTraffic] = (),
    strict: bool = False,
) -> str:
    """The report page for ``results`` as one HTML string; rate-limit timelines when ``traffic`` is given;
    ``strict``: warnings made the run fail (``--strict``)."""
    safe = [masked(result) for result in results]
    groups = grouped(safe)
    totals = tally(safe)
    verdict, outcome = _verdict(totals, strict=strict)
    target_text = _text(target)
    body = [
        _header(target_text, totals, verdict, outcome, started_at, finished_at, changed_levels(safe)),
        '<section class="chart-box" aria-label="checks by group">',
        group_chart({group: tally(members) for group, members in groups.items()}),
        "</section>",
        timelines_html(traffic),
        *(_group_table(group, members) for group, members in groups.items()),
        f"<footer>sergio-kit {escape(__version__)} &middot; secrets in this report are masked</footer>",
    ]
    return html_page(f"sergio-kit check: {target_text}", STYLE + _status_style(), COLOURS[outcome], body)


def html_page(title: str, style: str, verdict_colour: str, body: Sequence[str]) -> str:
    """A self-contained page: ``title`` (already escaped), inline ``style``, a verdict colour for the
    header's top border, and the ``body`` parts inside ``<main>``."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>{style}</style>",
            "</head>",
            f'<body style="--verdict: {verdict_colour}">',
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_html(
    path: Path,
    target: str,
    results: Sequence[CheckResult],
    *,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    traffic: Sequence[TierTraffic] = (),
    strict: bool = False,
) -> Path:
    """Write ``report.html`` to ``path`` and return ``path``."""
    page = render_html(
        target, results, started_at=started_at, finished_at=finished_at, traffic=traffic, strict=strict
    )
    path.write_text(page, encoding="utf-8")
    return path


def _text(value: str) -> str:
    """``value`` masked, stripped of control characters and HTML-escaped."""
    return escape(printable(mask_text(value)))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _status_style() -> str:
    return "".join(f".status.{s} {{ background: {COLOURS[s]}; color: {TEXT_ON[s]}; }}\n" for s in STATUSES)


def _verdict(totals: dict[str, int], *, strict: bool) -> tuple[str, str]:
    """The header's verdict line and the run's outcome, whose colour the page shows: ``failed`` when
    the run failed (:func:`run_failed`, as the exit code), ``warned`` when it passed with warnings,
    else ``passed``."""
    outcome = "failed" if run_failed(totals, strict=strict) else "warned" if totals["warned"] else "passed"
    total = sum(totals.values())
    problems = [f"{totals['failed']} failed"] if totals["failed"] else []
    problems += [_plural(totals["error"], "error")] if totals["error"] else []
    asides = [f"{totals['warned']} warned"] if totals["warned"] and problems else []
    asides += [f"{totals['skipped']} skipped"] if totals["skipped"] else []
    if problems:
        verdict = f"FAILED: {' and '.join(problems)} out of {total} checks"
    elif totals["warned"]:
        label = "FAILED (--strict)" if outcome == "failed" else "PASSED WITH WARNINGS"
        verdict = f"{label}: {totals['warned']} warned, {totals['passed']} passed out of {total} checks"
    elif total:
        verdict = f"PASSED: all {totals['passed']} of {total} checks passed"
    else:
        verdict = "no checks ran"
    return verdict + (f" ({', '.join(asides)})" if asides else ""), outcome


def _header(
    target: str,
    totals: dict[str, int],
    verdict: str,
    outcome: str,
    started_at: datetime | None,
    finished_at: datetime | None,
    levels: dict[str, str],
) -> str:
    ink = f' style="color: {_ink(outcome)}"' if outcome == "warned" else ""  # amber text, readable on white
    meta = ""
    if started_at is not None and finished_at is not None:
        seconds = (finished_at - started_at).total_seconds()
        meta = (
            f'<p class="meta">started {escape(iso_utc(started_at))} &middot; '
            f"finished {escape(iso_utc(finished_at))} &middot; {seconds:.1f} s</p>"
        )
    boxes = "".join(
        f'<li><b style="color: {_ink(s) if totals[s] or s == "passed" else "#8c959f"}">{totals[s]}</b>'
        f"{s}</li>"
        for s in STATUSES
    )
    return (
        "<header>"
        "<h1>sergio-kit check</h1>"
        f'<p class="target">Target: <code>{target}</code></p>'
        f"{meta}"
        f'<p class="verdict"{ink}>{escape(verdict)}</p>'
        f'<ul class="totals">{boxes}</ul>'
        f"{_levels(levels)}"
        "</header>"
    )


def _ink(status: str) -> str:
    """The colour of a status as text on white (the fill colour, but a darker amber)."""
    return WARNED_INK if status == "warned" else COLOURS[status]


def _levels(levels: dict[str, str]) -> str:
    """The "Levels changed" line: each check whose level the user set, and the level."""
    if not levels:
        return ""
    items = "".join(
        f"<li><code>{_text(check_id)}</code> {escape(level)}</li>" for check_id, level in levels.items()
    )
    return f'<div class="levels">Levels changed: <ul>{items}</ul></div>'


def _group_table(group: str, members: list[CheckResult]) -> str:
    counts = tally(members)
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    rows = []
    for result in failures_first(members):
        rows.append(
            f'<tr class="{escape(result.status)}">'
            f"<td><code>{_text(result.check_id)}</code></td>"
            f"<td>{_text(result.subject)}</td>"
            f'<td><span class="status {escape(result.status)}">{escape(result.status)}</span></td>'
            f"<td>{_text(result.detail)}</td>"
            f'<td class="time">{result.seconds:.2f} s</td>'
            "</tr>"
        )
        if result.status in ("failed", "error", "warned") and result.finding:
            rows.append(_finding_row(result))
    return (
        f'<section id="group-{escape(group)}">'
        f'<h2>{_text(group)} <span class="counts">{escape(summary)}</span></h2>'
        '<table><colgroup><col class="c-id"><col class="c-subject"><col class="c-status">'
        '<col class="c-detail"><col class="c-time"></colgroup>'
        "<thead><tr><th>Check</th><th>Operation / case</th><th>Status</th><th>Detail</th>"
        "<th>Time</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _finding_row(result: CheckResult) -> str:
    finding = result.finding or {}
    items = "".join(
        f"<dt>{escape(FINDING_LABELS[name])}</dt><dd><pre>{_text(str(finding[name]))}</pre></dd>"
        for name in FINDING_FIELDS
        if finding.get(name)
    )
    basis = describe_basis(result.basis, result.level)
    heading = (
        "warning: what was sent and what came back"
        if result.status == "warned"
        else ("what was sent and what came back")
    )
    basis_note = f' &middot; <span class="basis">{escape(basis)}</span>' if basis else ""
    return (
        f'<tr class="finding"><td colspan="5"><details class="{escape(result.status)}" open>'
        f"<summary>{heading}{basis_note}</summary><dl>{items}</dl></details></td></tr>"
    )
