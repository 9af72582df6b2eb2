"""Compressed bodies in recordings: ``Content-Encoding`` gzip, deflate and brotli, decoded as a client does.

The redactor decodes a body before scrubbing it (so no secret hides in compressed bytes) and the
scanner decodes what a cassette holds (a ``!!binary`` body, or one vcrpy wrote as text because its bytes
happened to be valid UTF-8) before searching it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import brotli  # type: ignore[import-untyped]

#: The ``Content-Encoding`` tokens :func:`decode_content` undoes.
DECODABLE = frozenset({"gzip", "x-gzip", "deflate", "br", "identity"})


def content_encodings(headers: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[str]:
    """The ``Content-Encoding`` tokens of ``headers`` (values a string or a list of strings), in the
    order they were applied, lower case."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    values: list[str] = []
    for name, value in items:
        if str(name).lower() == "content-encoding":
            values += [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    return [part.strip().lower() for value in values for part in value.split(",") if part.strip()]


def decode_content(raw: bytes, encodings: Sequence[str]) -> bytes | None:
    """``raw`` with ``encodings`` undone (the last applied first); ``None`` when one of them is not in
    :data:`DECODABLE` or the bytes do not decode."""
    if any(encoding not in DECODABLE for encoding in encodings):
        return None
    try:
        for encoding in reversed(encodings):
            if encoding in ("gzip", "x-gzip"):
                raw = zlib.decompress(raw, zlib.MAX_WBITS | 16)
            elif encoding == "deflate":
                raw = _inflate(raw)
            elif encoding == "br":
                raw = brotli.decompress(raw)
    except (zlib.error, brotli.error):
        return None
    return raw


def sniff_decompress(raw: bytes) -> bytes | None:
    """``raw`` decompressed when it is a gzip or zlib stream, or a brotli stream of UTF-8 text (brotli
    has no magic number: only a decoding that gives text counts); else ``None``."""
    if not raw:
        return None
    if raw[:2] == b"\x1f\x8b" or (raw[:1] == b"\x78" and int.from_bytes(raw[:2], "big") % 31 == 0):
        try:
            return zlib.decompress(raw, zlib.MAX_WBITS | 32)
        except zlib.error:
            return None
    try:
        decoded = bytes(brotli.decompress(raw))
        decoded.decode("utf-8")
    except (brotli.error, UnicodeDecodeError):
        return None
    return decoded


def _inflate(raw: bytes) -> bytes:
    try:
        return zlib.decompress(raw)
    except zlib.error:  # raw deflate, without the zlib header
        return zlib.decompress(raw, -zlib.MAX_WBITS)
