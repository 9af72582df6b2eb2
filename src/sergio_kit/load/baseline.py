"""The regression gate: ``--save-baseline FILE`` keeps a run's figures; ``--baseline FILE --tolerance 10%``
compares a new run with them.

A baseline file holds the run's ``figures.json`` data, its knee (capacity profile), the kit version,
the target, the profile and a description of the machine it ran on. A new run fails the gate when

- a p95 or p99 latency is worse than the baseline's by more than the tolerance (and by more than
  :data:`LATENCY_FLOOR_MS`, below which timer noise and Locust's 1-ms histogram buckets decide): for a
  fixed load per scope (every request, each tier, each operation both runs measured); for a step load
  at each number of users both runs held to the end (every request), so like is compared with like;
- the knee (capacity profile) is lower than the baseline's by more than the tolerance, or gone.

Plain Python, no locust import.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import platform
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sergio_kit import __version__
from sergio_kit.errors import SergioKitError
from sergio_kit.load.figures import complete_steps, ms, rate, scope_figures, scopes

KIND = "sergio-kit load baseline"
FORMAT = 1
LATENCY_FLOOR_MS = 5.0
DEFAULT_TOLERANCE = 0.10


def parse_tolerance(text: str) -> float:
    """``10%`` (or ``10``) as 0.10; one line on anything else."""
    number = text.strip().removesuffix("%").strip()
    try:
        value = float(number) / 100
    except ValueError:
        value = -1.0
    if not 0 <= value < 10:
        raise SergioKitError(
            f"--tolerance has value {text!r}: expected a percentage such as 10% (how much worse than the "
            "baseline a figure may be)"
        )
    return value


def machine() -> dict[str, Any]:
    """What the run ran on: host name, platform, processor, core count, Python."""
    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def baseline_document(
    data: Mapping[str, Any], knee: Mapping[str, Any] | None, *, target: str, profile: str
) -> dict[str, Any]:
    """The baseline file's content for a run's figures ``data`` and its ``knee``."""
    return {
        "kind": KIND,
        "format": FORMAT,
        "kit_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "target": target,
        "profile": profile,
        "machine": machine(),
        "knee": knee,
        "figures": dict(data),
    }


def check_baseline_path(path: Path) -> None:
    """Check, before the run, that :func:`save_baseline` will be able to write ``path``; one line
    (:class:`~sergio_kit.errors.SergioKitError`) naming the path, the reason and the fix otherwise.

    Nothing is left behind, neither file nor folder. A missing folder is fine when it can be made (the
    nearest existing one is a folder), as :func:`save_baseline` makes it. Writing is tried with a
    nameless temporary file in the nearest existing folder, so a read-only file system is caught too.
    """
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{os.strerror(errno.ENOTDIR)} ({folder} is a file)")
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise _unwritable(path, error) from None


def save_baseline(path: Path, document: Mapping[str, Any]) -> None:
    """Write a baseline file (its folder is created); an :class:`OSError` becomes one line
    (:class:`~sergio_kit.errors.SergioKitError`). The file is written whole next to ``path``, then
    renamed over it: a failed save never leaves a truncated baseline, nor spoils an earlier one."""
    text = json.dumps(document, indent=2) + "\n"
    target = path.resolve()  # a symbolic link's target is replaced, not the link
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    made = False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        made = True
        with open(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, target)
    except OSError as error:
        if made:
            with contextlib.suppress(OSError):
                partial.unlink()
        raise _unwritable(path, error) from None


def _unwritable(path: Path, error: OSError) -> SergioKitError:
    """The one line for a ``--save-baseline`` file that cannot be written: the path, why, the fix."""
    return SergioKitError(
        f"cannot write the baseline to {path}: {error.strerror or error} (give --save-baseline a file in "
        "a folder you can write to)"
    )


def read_baseline(path: Path, profile: str) -> dict[str, Any]:
    """A baseline file, checked before the run: it exists, is one, and has ``profile``'s figures."""
    fix = "give a file written by sergio-kit load --save-baseline"
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise SergioKitError(f"--baseline has value {str(path)!r}: no such file; {fix}") from None
    except (OSError, ValueError) as error:
        raise SergioKitError(
            f"--baseline has value {str(path)!r}: not readable JSON ({error}); {fix}"
        ) from None
    if not isinstance(document, dict) or document.get("kind") != KIND or "figures" not in document:
        raise SergioKitError(f"--baseline has value {str(path)!r}: not a load baseline; {fix}")
    if document.get("profile") != profile:
        raise SergioKitError(
            f"--baseline {path} was saved by a {document.get('profile')} run, this is a {profile} run: "
            f"compare runs of one profile (--profile {document.get('profile')})"
        )
    return document


@dataclass(frozen=True)
class Row:
    """One figure of both runs: what it is, its unit (``ms`` or ``req/s``), both values, and whether
    the new one is worse beyond the tolerance."""

    figure: str
    unit: str
    baseline: float | None
    current: float | None
    regressed: bool

    @property
    def change(self) -> str:
        """``+12%``, ``-3%`` or ``-``."""
        if self.baseline in (None, 0) or self.current is None:
            return "-"
        return f"{self.current / self.baseline - 1:+.0%}"

    def as_dict(self) -> dict[str, Any]:
        """The row as ``summary.json`` lists it."""
        return {
            "figure": self.figure,
            "unit": self.unit,
            "baseline": self.baseline,
            "current": self.current,
            "change": self.change,
            "regressed": self.regressed,
        }


@dataclass(frozen=True)
class Comparison:
    """A run against a baseline: the rows, the tolerance, and what the baseline was."""

    rows: tuple[Row, ...]
    tolerance: float
    baseline: Mapping[str, Any]

    @property
    def failed(self) -> bool:
        """Whether any figure regressed beyond the tolerance."""
        return any(row.regressed for row in self.rows)

    def lines(self) -> list[str]:
        """The side-by-side table, then the verdict."""
        meta = self.baseline
        host = (meta.get("machine") or {}).get("host", "?")
        lines = [
            f"baseline: sergio-kit {meta.get('kit_version')}, {meta.get('profile')} against "
            f"{meta.get('target')} on {host}, {meta.get('created')}; tolerance {self.tolerance:.0%}",
            f"{'figure':<34} {'baseline':>10} {'this run':>10} {'change':>7}",
        ]
        for row in self.rows:
            shown = ms if row.unit == "ms" else rate
            lines.append(
                f"{row.figure:<34} {shown(row.baseline):>10} {shown(row.current):>10} {row.change:>7}"
                + ("  REGRESSED" if row.regressed else "")
            )
        worse = sum(row.regressed for row in self.rows)
        lines.append(
            f"{'FAIL' if worse else 'PASS'} baseline: {worse} of {len(self.rows)} figure(s) worse than the "
            f"baseline beyond {self.tolerance:.0%}"
        )
        return lines

    def as_dict(self) -> dict[str, Any]:
        """The comparison as ``summary.json`` holds it."""
        meta = {
            key: self.baseline.get(key) for key in ("kit_version", "created", "target", "profile", "machine")
        }
        return {
            "baseline": meta,
            "tolerance": self.tolerance,
            "failed": self.failed,
            "rows": [row.as_dict() for row in self.rows],
        }


def _latency_row(figure: str, base: Any, current: Any, tolerance: float) -> Row:
    before = None if base is None else float(base)
    now = None if current is None else float(current)
    regressed = (
        before is not None
        and now is not None
        and now > before * (1 + tolerance)
        and now - before > LATENCY_FLOOR_MS
    )
    return Row(figure, "ms", before, now, regressed)


def compare(
    document: Mapping[str, Any],
    data: Mapping[str, Any],
    knee: Mapping[str, Any] | None,
    tolerance: float,
) -> Comparison:
    """This run's figures ``data`` (and ``knee``, for a step load) against the baseline ``document``."""
    rows: list[Row] = []
    before = document["figures"]
    if document.get("profile") == "capacity":
        base_knee, knee = document.get("knee") or {}, knee or {}
        if base_knee.get("rps") is not None:
            now = knee.get("rps")
            regressed = now is None or float(now) < float(base_knee["rps"]) * (1 - tolerance)
            rows.append(Row("knee throughput", "req/s", float(base_knee["rps"]), now, regressed))
        rows += _step_rows(complete_steps(before), complete_steps(data), tolerance)
    else:
        for _, scope, figures in scopes(before["run"]):
            now = scope_figures(data["run"], scope)
            if now is None:
                continue
            label = "all requests" if scope == "*" else scope
            for metric in ("p95", "p99"):
                if figures.get(metric) is not None and now.get(metric) is not None:
                    rows.append(_latency_row(f"{metric} {label}", figures[metric], now[metric], tolerance))
    return Comparison(tuple(rows), tolerance, document)


def _step_rows(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]], tolerance: float
) -> list[Row]:
    """p95 and p99 of every request at each number of users both step loads held to the end."""
    now = {int(step["users"]): step["figures"]["total"] for step in after}
    rows = []
    for step in before:
        users = int(step["users"])
        if users not in now:
            continue
        for metric in ("p95", "p99"):
            base, current = step["figures"]["total"].get(metric), now[users].get(metric)
            if base is not None and current is not None:
                rows.append(_latency_row(f"{metric} at {users} users", base, current, tolerance))
    return rows
