"""Scrub secrets from vcrpy recordings before they are written: stable ``<redacted:KIND:N>`` placeholders.

One :class:`CassetteRedactor` per cassette; its two methods are vcrpy's ``before_record_request`` and
``before_record_response`` hooks. The same secret always gets the same placeholder within that
cassette (a token in a login response and in later ``Authorization`` headers), so re-recording gives a
small diff and replayed flows stay consistent. The secret patterns live in
:mod:`sergio_kit.reports.redaction`.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sergio_kit.reports.redaction import API_KEY, JWT, SECRET_FIELDS, WEBHOOK_SECRET

PLACEHOLDER = re.compile(r"<redacted:([a-z-]+):(\d+)>")
#: Known secrets shorter than this are ignored: they would match ordinary text everywhere.
MIN_KNOWN_SECRET = 4
#: Headers whose values are secrets, and the kind their placeholder gets when no pattern says more.
HEADER_KINDS = {
    "authorization": "secret",
    "x-api-key": "api-key",
    "cookie": "cookie",
    "set-cookie": "cookie",
    "x-sergio-signature": "signature",
    "x-sergio-clock-token": "clock-token",
}
_PATTERN_KINDS = {"jwt": "jwt", "apikey": "api-key", "whsec": "webhook-secret", "known": "password"}


def usable_known_secrets(known_secrets: Iterable[str]) -> list[str]:
    """The distinct known secrets worth searching for (at least :data:`MIN_KNOWN_SECRET` long),
    longest first so a secret containing another is matched whole."""
    return sorted({s for s in known_secrets if len(s) >= MIN_KNOWN_SECRET}, key=len, reverse=True)


def secret_pattern(known_secrets: Iterable[str] = ()) -> re.Pattern[str]:
    """One pattern for placeholders (group ``ph``, to skip), JWTs (``jwt``), API keys (``apikey``),
    webhook secrets (``whsec``) and the literal ``known_secrets`` (``known``); see :func:`hit_kind`."""
    parts = [
        f"(?P<ph>{PLACEHOLDER.pattern})",
        f"(?P<jwt>{JWT.pattern})",
        f"(?P<apikey>{API_KEY.pattern})",
        f"(?P<whsec>{WEBHOOK_SECRET.pattern})",
    ]
    known = usable_known_secrets(known_secrets)
    if known:
        parts.append("(?P<known>" + "|".join(re.escape(secret) for secret in known) + ")")
    return re.compile("|".join(parts))


def hit_kind(match: re.Match[str]) -> str | None:
    """The placeholder kind of a :func:`secret_pattern` match; ``None`` for an existing placeholder."""
    group = match.lastgroup
    return None if group in (None, "ph") else _PATTERN_KINDS[group]


def pattern_kind(value: str) -> str | None:
    """``jwt``, ``api-key`` or ``webhook-secret`` when the whole of ``value`` is one, else ``None``."""
    for pattern, kind in ((JWT, "jwt"), (API_KEY, "api-key"), (WEBHOOK_SECRET, "webhook-secret")):
        if pattern.fullmatch(value):
            return kind
    return None


def split_header(name: str, value: str) -> list[tuple[str, bool]]:
    """``value`` cut into ``(text, is_secret)`` segments that join back to it.

    ``Authorization``: the credential after the scheme; ``Cookie``: every cookie value;
    ``Set-Cookie``: the cookie value, not its attributes; the other secret headers: the whole value.
    """
    lower = name.lower()
    if lower not in HEADER_KINDS:
        return [(value, False)]
    if lower == "authorization":
        scheme = re.match(r"(\s*[A-Za-z][\w.+-]*\s+)(\S.*?)(\s*)$", value)
        if scheme is None:
            return [(value, True)]
        return [(scheme.group(1), False), (scheme.group(2), True), (scheme.group(3), False)]
    if lower in ("cookie", "set-cookie"):
        segments: list[tuple[str, bool]] = []
        pieces = re.split(r"(;\s*)", value)
        for index, piece in enumerate(pieces):
            if index % 2 or (lower == "set-cookie" and index > 0):
                segments.append((piece, False))
                continue
            cookie_name, equals, cookie_value = piece.partition("=")
            segments += [(cookie_name + equals, False), (cookie_value, True)] if equals else [(piece, True)]
        return segments
    return [(value, True)]


class CassetteRedactor:
    """vcrpy hooks that replace every secret of one cassette by a stable placeholder.

    ``known_secrets``: literal strings to scrub anywhere (the passwords of the accounts in use),
    replaced by ``<redacted:password:N>``.
    """

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self._known = set(usable_known_secrets(known_secrets))
        self._pattern = secret_pattern(self._known)
        self._placeholders: dict[str, str] = {}
        self._counts: Counter[str] = Counter()

    def placeholder(self, secret: str, kind: str) -> str:
        """The placeholder of ``secret``: the one it already has, else the next number of ``kind``."""
        existing = PLACEHOLDER.fullmatch(secret)
        if existing:  # already redacted: keep it, and never hand its number out again
            self._counts[existing.group(1)] = max(self._counts[existing.group(1)], int(existing.group(2)))
            return secret
        if secret not in self._placeholders:
            self._counts[kind] += 1
            self._placeholders[secret] = f"<redacted:{kind}:{self._counts[kind]}>"
        return self._placeholders[secret]

    def scrub_text(self, text: str) -> str:
        """``text`` with every JWT, API key, webhook secret and known secret replaced."""

        def replace(match: re.Match[str]) -> str:
            kind = hit_kind(match)
            return match.group(0) if kind is None else self.placeholder(match.group(0), kind)

        return self._pattern.sub(replace, text)

    def redact_value(self, value: str, kind: str) -> str:
        """A whole secret value: its placeholder, of the kind its shape says (else ``kind``)."""
        if not value:
            return value
        if value in self._known:
            return self.placeholder(value, "password")
        return self.placeholder(value, pattern_kind(value) or kind)

    def scrub_header(self, name: str, value: str) -> str:
        """One header value with its secret parts replaced and the rest scrubbed as text."""
        kind = HEADER_KINDS.get(name.lower(), "secret")
        return "".join(
            self.redact_value(text, kind) if secret else self.scrub_text(text)
            for text, secret in split_header(name, value)
        )

    def scrub_json(self, data: Any) -> Any:
        """A decoded JSON document with secret fields (at any depth) and secret-looking strings replaced."""
        if isinstance(data, dict):
            return {key: self._scrub_field(key, value) for key, value in data.items()}
        if isinstance(data, list):
            return [self.scrub_json(item) for item in data]
        if isinstance(data, str):
            return self.scrub_text(data)
        return data

    def _scrub_field(self, key: str, value: Any) -> Any:
        if key.lower() not in SECRET_FIELDS:
            return self.scrub_json(value)
        kind = "password" if key.lower() == "password" else "secret"
        if isinstance(value, str):
            return self.redact_value(value, kind)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.redact_value(json.dumps(value), kind)
        return self.scrub_json(value)

    def scrub_body(self, body: bytes | str | None) -> bytes | str | None:
        """A request or response body: JSON scrubbed field by field, anything else as text."""
        if body is None or body in (b"", ""):
            return body
        as_bytes = isinstance(body, bytes)
        if isinstance(body, bytes):
            try:
                text, encoding = body.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:  # binary: latin-1 maps every byte to one character and back
                text, encoding = body.decode("latin-1"), "latin-1"
        else:
            text, encoding = body, "utf-8"
        scrubbed = self._scrub_document(text)
        if scrubbed == text:
            return body
        return scrubbed.encode(encoding) if as_bytes else scrubbed

    def _scrub_document(self, text: str) -> str:
        if text.lstrip()[:1] in ("{", "["):
            try:
                data = json.loads(text)
            except ValueError:
                pass
            else:
                scrubbed = self.scrub_json(data)
                if scrubbed == data:
                    return text
                return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))
        return self.scrub_text(text)

    def before_record_request(self, request: Any) -> Any:
        """vcrpy hook: scrub a ``vcr.request.Request`` (URL, headers, body) and return it."""
        request.uri = self.scrub_text(request.uri)
        for name, value in list(request.headers.items()):
            request.headers[name] = self.scrub_header(name, str(value))
        body = request.body
        if isinstance(body, bytes | str):
            scrubbed = self.scrub_body(body)
            if scrubbed is not body:
                request.body = scrubbed
                set_length(request.headers, request.body)
        return request

    def before_record_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy hook: scrub a recorded response (``status``, ``headers``, ``body``) and return it.

        A body still compressed (``Content-Encoding`` gzip or deflate) is decoded first; one in an
        encoding this cannot decode is replaced by a placeholder rather than written unchecked.
        """
        headers: dict[str, list[str]] = response.get("headers") or {}
        body = response.get("body") or {}
        raw = body.get("string")
        if isinstance(raw, bytes | str):
            decoded = _decode(headers, raw) if isinstance(raw, bytes) else None
            if decoded is not None:
                raw = decoded
            elif _encodings(headers):
                raw = self.placeholder(f"undecodable body {id(response)}", "secret").encode()
                _drop_header(headers, "content-encoding")
            scrubbed = self.scrub_body(raw)
            if scrubbed is not body.get("string"):
                body["string"] = scrubbed
                set_length(headers, scrubbed)
        for name, values in headers.items():
            headers[name] = [self.scrub_header(name, str(value)) for value in values]
        return response


def _encodings(headers: dict[str, list[str]]) -> list[str]:
    values = [v for name, found in headers.items() if name.lower() == "content-encoding" for v in found]
    return [part.strip().lower() for value in values for part in value.split(",") if part.strip()]


def _decode(headers: dict[str, list[str]], raw: bytes) -> bytes | None:
    """``raw`` decompressed per ``Content-Encoding`` (header removed), or ``None`` if not encoded or
    not decodable."""
    encodings = _encodings(headers)
    if not encodings or any(e not in ("gzip", "x-gzip", "deflate", "identity") for e in encodings):
        return None
    try:
        for encoding in reversed(encodings):
            if encoding in ("gzip", "x-gzip"):
                raw = zlib.decompress(raw, zlib.MAX_WBITS | 16)
            elif encoding == "deflate":
                try:
                    raw = zlib.decompress(raw)
                except zlib.error:  # raw deflate, without the zlib header
                    raw = zlib.decompress(raw, -zlib.MAX_WBITS)
    except zlib.error:
        return None
    _drop_header(headers, "content-encoding")
    set_length(headers, raw)
    return raw


def _drop_header(headers: Any, wanted: str) -> None:
    for name in [name for name in headers if name.lower() == wanted]:
        del headers[name]


def set_length(headers: Any, body: bytes | str | None) -> None:
    """Make an existing ``Content-Length`` header agree with ``body``."""
    size = len(body.encode() if isinstance(body, str) else body or b"")
    for name in list(headers):
        if name.lower() == "content-length":
            headers[name] = [str(size)] if isinstance(headers[name], list) else str(size)
