"""Excerpts of leaky lines that show where a secret is and nothing of it.

A secret the scanner found is masked in every form a cassette writes it (raw, URL-encoded,
JSON-escaped, YAML-quoted); a secret that YAML folded across lines is masked piece by piece on each
line (:func:`fold_pieces`); and, as a last guard, any :data:`FRAGMENT` characters in a row that occur
in one of the file's secrets are masked too.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote, quote_plus

import yaml

__all__ = ["EXCERPT_WIDTH", "FRAGMENT", "MASK", "Masker", "fold_pieces", "premask", "written_forms"]

EXCERPT_WIDTH = 100
#: Any piece of a secret this long is masked wherever it appears in an excerpt.
FRAGMENT = 6
#: A fold is taken as cutting a secret only when the pieces on both lines make at least this much.
FOLD_MIN = 3
#: A mask the scanner puts in a secret's place: a placeholder numbered 0 (the redactor never is).
MASK = re.compile(r"<redacted:([a-z-]+):0>")
_PLACEHOLDERS = re.compile(r"(<redacted:[a-z-]+:\d+>)")


def written_forms(secret: str) -> set[str]:
    """``secret`` as a cassette may write it: raw, URL-encoded, JSON-escaped, YAML-quoted."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), secret.replace("'", "''")}
    forms.add(json.dumps(secret)[1:-1])
    with contextlib.suppress(yaml.YAMLError):
        dumped = yaml.dump(secret, default_style='"', width=10**6).strip()
        forms.add(dumped[1:-1] if dumped.startswith('"') else dumped)
    return {form for form in forms if form}


def _bounds(line: str) -> tuple[int, int]:
    """Where a folded scalar's text is on ``line``: after the indentation (and a double-quoted
    continuation's ``\\``), before a double-quoted fold's trailing ``\\`` and trailing spaces."""
    start = len(line) - len(line.lstrip())
    if line[start : start + 2] == "\\ ":
        start += 1
    end = len(line.rstrip())
    if end > start and line[end - 1] == "\\" and not line[:end].endswith("\\\\"):
        end -= 1
    return start, end


def _common(text: str, form: str, at: int) -> tuple[int, int]:
    """How much of ``text`` continues ``form`` from ``at`` (or from ``at + 1`` when the fold took a
    space there): ``(length, position in form)``."""
    best = (0, at)
    for position in (at, at + 1) if at < len(form) and form[at] == " " else (at,):
        length = 0
        while (
            length < len(text) and position + length < len(form) and text[length] == form[position + length]
        ):
            length += 1
        best = max(best, (length, position))
    return best


def fold_pieces(
    lines: Sequence[str], spans: Iterable[tuple[range, str, str]]
) -> dict[int, list[tuple[int, int, str]]]:
    """The pieces of secrets that YAML folded across lines: ``{line index: [(start, end, kind)]}``.

    ``spans``: ``(lines of a multi-line value (0-based), secret, kind)``. A piece is the end of a line
    that starts the secret (in one of its written forms) and the start of the next lines that go on
    with it; lines within the secret are pieces whole.
    """
    pieces: dict[int, list[tuple[int, int, str]]] = {}
    for rows, secret, kind in spans:
        for form in written_forms(secret):
            for index in rows:
                if index + 1 not in rows:
                    break
                start, end = _bounds(lines[index])
                text = lines[index][start:end]
                for cut in range(min(len(form) - 1, len(text)), 0, -1):
                    if text.endswith(form[:cut]):
                        found = _follow(lines, rows, index + 1, form, cut)
                        if found and cut + sum(e - s for _, s, e in found) >= min(FOLD_MIN, len(form)):
                            pieces.setdefault(index, []).append((end - cut, end, kind))
                            for row, piece_start, piece_end in found:
                                pieces.setdefault(row, []).append((piece_start, piece_end, kind))
                            break
    return pieces


def _follow(lines: Sequence[str], rows: range, index: int, form: str, at: int) -> list[tuple[int, int, int]]:
    """The pieces that go on with ``form`` from ``at``, line after line from ``index``."""
    found: list[tuple[int, int, int]] = []
    while index in rows and at < len(form):
        start, end = _bounds(lines[index])
        length, position = _common(lines[index][start:end], form, at)
        if not length:
            break
        found.append((index, start, start + length))
        at = position + length
        if start + length < end:
            break
        index += 1
    return found


def premask(line: str, pieces: Sequence[tuple[int, int, str]]) -> str:
    """``line`` with ``pieces`` replaced by scanner masks (placeholders numbered 0)."""
    for start, end, kind in sorted(set(pieces), reverse=True):
        line = line[:start] + f"<redacted:{kind}:0>" + line[end:]
    return line


class Masker:
    """Builds excerpts: masks shown as ``[kind]``, every secret of the file masked in its written
    forms, and every :data:`FRAGMENT` characters of one."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for secret in secrets if secret for form in written_forms(secret)}
        self.whole = sorted(forms, key=len, reverse=True)
        self.pieces = {form[i : i + FRAGMENT] for form in forms for i in range(len(form) - FRAGMENT + 1)}

    def excerpt(self, masked: str) -> str:
        """The excerpt of a line the locator masked, cut to :data:`EXCERPT_WIDTH` around the first mask."""
        parts = _PLACEHOLDERS.split(masked)  # text, placeholder, text, ...
        out: list[str] = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                out.append(self._mask(part))
            else:
                mask = MASK.fullmatch(part)
                out.append(f"[{mask.group(1)}]" if mask else part)
        shown = "".join(out).strip()
        first = shown.find("[")
        start = max(0, first - EXCERPT_WIDTH // 3) if first >= 0 else 0
        excerpt = shown[start : start + EXCERPT_WIDTH]
        return ("..." if start else "") + excerpt + ("..." if start + EXCERPT_WIDTH < len(shown) else "")

    def _mask(self, text: str) -> str:
        for form in self.whole:
            text = text.replace(form, "\x00")
        covered = [False] * len(text)
        for i in range(len(text) - FRAGMENT + 1):
            if text[i : i + FRAGMENT] in self.pieces:
                covered[i : i + FRAGMENT] = [True] * FRAGMENT
        out: list[str] = []
        for i, char in enumerate(text):
            if char == "\x00" or covered[i]:
                if not out or out[-1] != "[secret]":
                    out.append("[secret]")
            else:
                out.append(char)
        return "".join(out)
