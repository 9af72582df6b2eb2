"""``summary.md``: a short Markdown summary of a run, for a CI job page.

GitHub Actions shows it when a step appends it to ``$GITHUB_STEP_SUMMARY``; any CI that renders
Markdown can show it as is. It holds the verdict (as the exit code decides it), the counts, and one
line per failed, errored and warned check; the details stay in ``report.html`` and ``junit.xml``.
Every text passes through ``mask_text`` (again) and is escaped, so a target's answer cannot inject
markup (or a mention, a link, a table) into the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import escape
from pathlib import Path

from sergio_kit.reports._common import STATUSES, iso_utc, masked, printable, tally
from sergio_kit.reports.redaction import mask_text
from sergio_kit.reports.results import CheckResult, run_failed

#: The sections of check lines, in order: status, heading.
SECTIONS = (("failed", "Failed"), ("error", "Errors"), ("warned", "Warned"))
#: Lines per section before the rest is only counted (GitHub caps a step summary at 1 MiB).
MAX_LINES = 50
#: Characters of a check's detail before it is cut.
MAX_DETAIL = 240
#: Escaped in text: emphasis, code, tables, headings, mentions and the ``(`` that would turn a ``[...]``
#: into a link (a bracket alone, as in the masking markers ``[jwt 1a2b3c4d]``, renders as itself).
_PUNCTUATION = re.compile(r"([\\`*_{}()#+!|~@])")
_WHITESPACE = re.compile(r"\s+")


def markdown_text(text: str) -> str:
    """``text`` masked, on one line and escaped for Markdown: HTML special characters become entities
    and Markdown punctuation is backslash-escaped, so it renders as the plain text it is."""
    flat = _WHITESPACE.sub(" ", printable(mask_text(text))).strip()
    return _PUNCTUATION.sub(r"\\\1", escape(flat, quote=False))


def code_text(text: str) -> str:
    """``text`` masked and on one line for a Markdown code span (no backtick: it would end the span;
    nothing else is escaped: a code span shows its characters as they are)."""
    return _WHITESPACE.sub(" ", printable(mask_text(text))).strip().replace("`", "'")


def verdict(counts: dict[str, int], *, strict: bool) -> str:
    """The headline's verdict: ``failed`` when the run failed as its exit code says (a failure or an
    error, or with ``strict`` a warning), ``passed with warnings``, ``passed``, or ``no checks ran``."""
    if run_failed(counts, strict=strict):
        return "❌ failed" + (" (--strict: warnings fail)" if not counts["failed"] + counts["error"] else "")
    if counts["warned"]:
        return "⚠️ passed with warnings"
    return "✅ passed" if sum(counts.values()) else "no checks ran"


def check_line(result: CheckResult) -> str:
    """One list item: the check id, its operation, and its detail (a warned check's starts with its
    rule's basis), masked, then cut to :data:`MAX_DETAIL` characters (never a secret cut in half)."""
    detail = mask_text(result.detail)
    if result.status == "warned" and result.basis:
        detail = f"{result.basis} rule: {detail}"
    if len(detail) > MAX_DETAIL:
        detail = detail[: MAX_DETAIL - 3] + "..."
    subject = f" {markdown_text(result.subject)}" if result.subject else ""
    text = markdown_text(detail)
    return f"- `{code_text(result.check_id)}`{subject}" + (f": {text}" if text else "")


def markdown_summary(
    target: str,
    results: Sequence[CheckResult],
    started_at: datetime,
    finished_at: datetime,
    *,
    strict: bool = False,
) -> str:
    """The ``summary.md`` text: a headline with the verdict, the target and times, a table of the
    counts, then a section per status among failed, error and warned with a line per check."""
    safe = [masked(result) for result in results]
    counts = tally(safe)
    seconds = max(0.0, (finished_at - started_at).total_seconds())
    lines = [
        f"## sergio-kit check: {verdict(counts, strict=strict)}",
        "",
        f"Target: {markdown_text(target)} · started {iso_utc(started_at)} · {seconds:.0f} s",
        "",
        "| " + " | ".join(STATUSES) + " |",
        "|" + "---:|" * len(STATUSES),
        "| " + " | ".join(str(counts[status]) for status in STATUSES) + " |",
    ]
    for status, heading in SECTIONS:
        members = [result for result in safe if result.status == status]
        if not members:
            continue
        lines += ["", f"### {heading} ({len(members)})", ""]
        lines += [check_line(result) for result in members[:MAX_LINES]]
        if len(members) > MAX_LINES:
            lines.append(f"- and {len(members) - MAX_LINES} more: see report.html")
    lines += ["", "Details (what was sent, received and expected, and a curl line): report.html, junit.xml."]
    return "\n".join(lines) + "\n"


def write_markdown(
    path: Path,
    target: str,
    results: Sequence[CheckResult],
    started_at: datetime,
    finished_at: datetime,
    *,
    strict: bool = False,
) -> Path:
    """Write ``summary.md`` to ``path`` and return ``path``."""
    text = markdown_summary(target, results, started_at, finished_at, strict=strict)
    path.write_text(text, encoding="utf-8")
    return path
