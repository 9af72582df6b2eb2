"""Scrub secrets from vcrpy recordings before they are written: stable ``<redacted:KIND:N>`` placeholders.

One :class:`CassetteRedactor` per cassette; its two methods are vcrpy's ``before_record_request`` and
``before_record_response`` hooks. The same secret always gets the same placeholder within that
cassette (a token in a login response and in later ``Authorization`` headers, a password in a JSON
login, a form and a ``Basic`` credential), so re-recording gives a small diff and replayed flows stay
consistent. What is a secret is decided by :class:`~sergio_kit.cassettes.locate.SecretLocator`, the
same walk the scanner makes: URIs (query parameters), headers (``Basic`` credentials, cookies), JSON,
URL-encoded and multipart bodies, compressed or not (gzip, deflate, brotli).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sergio_kit.cassettes.encodings import content_encodings, decode_content
from sergio_kit.cassettes.locate import (
    HEADER_KINDS,
    MIN_KNOWN_SECRET,
    PLACEHOLDER,
    Found,
    SecretLocator,
    pattern_kind,
    split_header,
    usable_known_secrets,
)

__all__ = [
    "HEADER_KINDS",
    "MIN_KNOWN_SECRET",
    "PLACEHOLDER",
    "CassetteRedactor",
    "pattern_kind",
    "set_length",
    "split_header",
    "usable_known_secrets",
]


class CassetteRedactor:
    """vcrpy hooks that replace every secret of one cassette by a stable placeholder.

    ``known_secrets``: literal strings to scrub anywhere (the passwords of the accounts in use), also
    URL-encoded or JSON-escaped, replaced by ``<redacted:password:N>``.
    """

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self._locator = SecretLocator(known_secrets)
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

    def _replace(self, found: Found) -> str:
        return self.placeholder(found.secret, found.kind)

    def _reserve(self, text: str) -> None:
        """Never hand out again the numbers of the placeholders ``text`` already holds."""
        for existing in PLACEHOLDER.finditer(text):
            self._counts[existing.group(1)] = max(self._counts[existing.group(1)], int(existing.group(2)))

    def scrub_text(self, text: str) -> str:
        """``text`` with every JWT, API key, webhook secret, known secret, ``name=value`` or
        ``"name": "value"`` of a secret name, ``Basic`` credential and URL password replaced."""
        self._reserve(text)
        return self._locator.text(text, self._replace)

    def redact_value(self, value: str, kind: str) -> str:
        """A whole secret value: its placeholder, of the kind its shape says (else ``kind``)."""
        self._reserve(value)
        return self._locator.value(value, kind, "", self._replace)

    def scrub_header(self, name: str, value: str) -> str:
        """One header value with its secret parts replaced and the rest scrubbed as text."""
        self._reserve(value)
        return self._locator.header(name, value, self._replace)

    def scrub_uri(self, uri: str) -> str:
        """A request URI with secret query parameters, URL passwords and tokens replaced."""
        self._reserve(uri)
        return self._locator.uri(uri, self._replace)

    def scrub_json(self, data: Any) -> Any:
        """A decoded JSON document with secret fields (at any depth) and secret-looking strings replaced."""
        self._reserve(json.dumps(data))
        return self._locator.json(data, self._replace)

    def scrub_body(self, body: bytes | str | None) -> bytes | str | None:
        """A request or response body: JSON field by field, URL-encoded or multipart forms part by part,
        anything else as text. Bytes that are not UTF-8 keep every byte (``surrogateescape``)."""
        if body is None or body in (b"", ""):
            return body
        text = body.decode("utf-8", errors="surrogateescape") if isinstance(body, bytes) else body
        self._reserve(text)
        scrubbed = self._locator.body(text, self._replace)
        if scrubbed == text:
            return body
        return scrubbed.encode("utf-8", errors="surrogateescape") if isinstance(body, bytes) else scrubbed

    def before_record_request(self, request: Any) -> Any:
        """vcrpy hook: scrub a ``vcr.request.Request`` (URI, headers, body) and return it.

        A body sent compressed (``Content-Encoding`` gzip, deflate or br) is decoded first, and the header
        dropped; one in an encoding this cannot decode is replaced by a placeholder.
        """
        request.uri = self.scrub_uri(request.uri)
        body = request.body
        if isinstance(body, bytes | str):
            headers = request.headers
            raw = self._decoded(headers, body.encode() if isinstance(body, str) else body)
            scrubbed = self.scrub_body(raw)
            if scrubbed is not body and scrubbed != body:
                request.body = scrubbed
                set_length(headers, request.body)
        for name, value in list(request.headers.items()):
            request.headers[name] = self.scrub_header(name, str(value))
        return request

    def before_record_response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy hook: scrub a recorded response (``status``, ``headers``, ``body``) and return it.

        A body still compressed (``Content-Encoding`` gzip, deflate or br) is decoded first and the
        header dropped; one in an encoding this cannot decode is replaced by a placeholder rather than
        written unchecked.
        """
        headers: dict[str, list[str]] = response.get("headers") or {}
        body = response.get("body") or {}
        raw = body.get("string")
        if isinstance(raw, bytes | str):
            decoded = self._decoded(headers, raw) if isinstance(raw, bytes) else raw
            scrubbed = self.scrub_body(decoded)
            if scrubbed is not raw and scrubbed != raw:
                body["string"] = scrubbed
                set_length(headers, scrubbed)
        for name, values in headers.items():
            headers[name] = [self.scrub_header(name, str(value)) for value in values]
        return response

    def _decoded(self, headers: Any, raw: bytes) -> bytes:
        """``raw`` decoded per the ``Content-Encoding`` of ``headers`` (the header dropped), a
        placeholder when it cannot be decoded, ``raw`` itself when not encoded."""
        encodings = content_encodings(headers)
        if not encodings:
            return raw
        decoded = decode_content(raw, encodings)
        if decoded is None:
            decoded = self.placeholder(f"undecodable body {id(raw)}", "secret").encode()
        _drop_header(headers, "content-encoding")
        set_length(headers, decoded)
        return decoded


def _drop_header(headers: Any, wanted: str) -> None:
    for name in [name for name in headers if name.lower() == wanted]:
        del headers[name]


def set_length(headers: Any, body: bytes | str | None) -> None:
    """Make an existing ``Content-Length`` header agree with ``body``."""
    size = len(body.encode() if isinstance(body, str) else body or b"")
    for name in list(headers):
        if name.lower() == "content-length":
            headers[name] = [str(size)] if isinstance(headers[name], list) else str(size)
