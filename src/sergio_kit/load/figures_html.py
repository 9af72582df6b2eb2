"""``summary.html``'s figures: per tier and operation over the run, the steps and the knee with their
chart, the thresholds and the baseline comparison (see :class:`~sergio_kit.load.gates.Gates`).

Every text is masked and escaped; no script, no external asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from sergio_kit.load.capacity_chart import capacity_svg
from sergio_kit.load.figures import LATENCY_COLUMNS, complete_steps, ms, rate, scopes
from sergio_kit.load.gates import Gates
from sergio_kit.reports.chart import COLOURS
from sergio_kit.reports.redaction import mask_text

COUNTS = ("requests", "admitted", "throttled", "failed")


def figures_html(gates: Gates) -> str:
    """The sections for ``gates`` (``""`` when the run has no figures and no threshold)."""
    parts = []
    if gates.knee is not None and gates.data is not None:
        parts.append(_knee_section(gates))
    if gates.results or gates.aborted:
        parts.append(_thresholds_section(gates))
    if gates.comparison is not None:
        parts.append(_baseline_section(gates))
    if gates.data is not None:
        run = gates.data["run"]
        parts.append(
            f'<section id="figures"><h2>Figures over the whole run <span class="counts">'
            f"{run['seconds']:.0f} s</span></h2>"
            '<p class="note">From Locust\'s own statistics and percentiles. Latency in ms over every '
            "response but the 429s the contract allows (quick refusals would flatter it); req/s over the "
            "span measured; failed: a documented rule broken (an early 429, a 5xx...).</p>"
            f"{_table(run)}</section>"
        )
    return "".join(parts)


def _table(span: Mapping[str, Any]) -> str:
    head = "".join(f'<th class="n">{column}</th>' for column in (*COUNTS, "req/s", *LATENCY_COLUMNS))
    rows = []
    for kind, scope, figures in scopes(span):
        label = "all requests" if scope == "*" else scope
        cells = "".join(f'<td class="n">{int(figures[column])}</td>' for column in COUNTS)
        cells += f'<td class="n">{rate(figures.get("rps"))}</td>'
        cells += "".join(f'<td class="n">{ms(figures.get(column))}</td>' for column in LATENCY_COLUMNS)
        outcome = "failed" if figures["failed"] else "passed"
        rows.append(
            f'<tr class="{outcome}" data-scope="{_text(scope)}" data-kind="{kind}">'
            f"<td><code>{_text(label)}</code></td>{cells}</tr>"
        )
    columns = '<colgroup><col class="c-scope"></colgroup>'
    return (
        f'<table class="figures">{columns}<thead><tr><th>Scope</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _knee_section(gates: Gates) -> str:
    assert gates.knee is not None and gates.data is not None
    knee = gates.knee
    steps = complete_steps(gates.data)
    index = None if knee.step is None else int(knee.step["index"])
    colour = COLOURS["passed" if knee.step is not None else "failed"]
    rows = []
    for step, verdict in zip(steps, (*knee.verdicts, *([None] * len(steps))), strict=False):
        total = step["figures"]["total"]
        judged = "not judged" if verdict is None else verdict.reason() or "kept up, thresholds met"
        if verdict is not None and not verdict.met and not verdict.reason():
            judged = "kept up; a threshold not met"
        rows.append(
            f'<tr class="{"knee" if step["index"] == index else ""}"><td class="n">{step["index"] + 1}</td>'
            f'<td class="n">{step["users"]}</td><td class="n">{rate(total.get("admitted_rps"))}</td>'
            f'<td class="n">{total["failed"]}</td><td class="n">{ms(total.get("p50"))}</td>'
            f'<td class="n">{ms(total.get("p95"))}</td><td class="n">{ms(total.get("p99"))}</td>'
            f"<td>{_text(judged)}</td></tr>"
        )
    return (
        '<section id="knee"><h2>Capacity: the knee</h2>'
        f'<p class="verdict" style="color:{colour}">{_text(knee.statement())}</p>'
        f'<p class="meta">{_text("stopped at " + knee.stopped if knee.stopped else "")}</p>'
        f'<div class="chart-box">{capacity_svg(steps, index)}</div>'
        '<table><thead><tr><th class="n">Step</th><th class="n">Users</th><th class="n">Admitted/s</th>'
        '<th class="n">Failed</th><th class="n">p50</th><th class="n">p95</th><th class="n">p99</th>'
        f"<th>Verdict</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{_step_details(steps)}</section>"
    )


def _step_details(steps: list[Mapping[str, Any]]) -> str:
    """Each step's figures per tier and operation, folded."""
    return "".join(
        f'<details class="step" data-step="{step["index"]}"><summary>Step {step["index"] + 1} '
        f"({step['users']} users, {step['figures']['seconds']:.0f} s measured): per tier and operation"
        f"</summary>{_table(step['figures'])}</details>"
        for step in steps
    )


def _thresholds_section(gates: Gates) -> str:
    items = [
        f'<li class="{"passed" if r.passed else "failed"}" style="color:'
        f'{COLOURS["passed" if r.passed else "failed"]}">{_text(r.line())}</li>'
        for r in gates.results
    ]
    if gates.aborted:
        items.insert(0, f'<li class="failed">{_text("aborted (--abort-on-fail) " + gates.aborted)}</li>')
    where = "the knee's step" if gates.knee is not None else "the whole run"
    return (
        f'<section id="thresholds"><h2>Thresholds <span class="counts">judged on {where}</span></h2>'
        f'<ul class="thresholds">{"".join(items)}</ul></section>'
    )


def _baseline_section(gates: Gates) -> str:
    assert gates.comparison is not None
    comparison = gates.comparison
    lines = comparison.lines()
    rows = "".join(
        f'<tr class="{"failed" if row.regressed else "passed"}"><td>{_text(row.figure)}</td>'
        f'<td class="n">{(ms if row.unit == "ms" else rate)(row.baseline)}</td>'
        f'<td class="n">{(ms if row.unit == "ms" else rate)(row.current)}</td>'
        f'<td class="n">{_text(row.change)}</td><td>{"regressed" if row.regressed else ""}</td></tr>'
        for row in comparison.rows
    )
    return (
        '<section id="baseline"><h2>Against the baseline</h2>'
        f'<p class="meta">{_text(lines[0])}</p>'
        '<table><thead><tr><th>Figure</th><th class="n">Baseline</th><th class="n">This run</th>'
        f'<th class="n">Change</th><th></th></tr></thead><tbody>{rows}</tbody></table>'
        f'<p class="verdict">{_text(lines[-1])}</p></section>'
    )


def _text(value: str) -> str:
    return escape(mask_text(value))
