"""Sign and verify Sergio webhook deliveries (``X-Sergio-Signature``).

The header is ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``: the MAC covers
the timestamp and the exact bytes sent, so a receiver must verify the raw body before parsing it.
A receiver also rejects a timestamp more than ``tolerance`` seconds away from its own clock, which
bounds how long a captured delivery can be replayed.

The HMAC key is the secret string itself (its UTF-8 bytes, ``whsec_`` included), as the documentation
publishes ``HMAC-SHA256(secret, ...)``, whatever alphabet the secret uses (hex, or base64 with ``+``,
``/`` and ``=``): unlike Standard Webhooks, nothing is base64-decoded first.

This is the kit's own implementation, written from the contract: the reference server keeps its
own signer, so a bug in one cannot hide the same bug in the other.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["DEFAULT_TOLERANCE", "SCHEME", "SignatureError", "sign", "verify"]

SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds a timestamp may lie in the past or the future


class SignatureError(ValueError):
    """A delivery's signature was rejected; :attr:`reason` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    """The lowercase hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with the ``secret`` string."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Sergio-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},{SCHEME}={_mac(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    """Split a header into its timestamp and its ``v1`` signatures (possibly none)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key or not value:
            raise SignatureError(f"unparsable signature header: item {item.strip()!r} is not key=value")
        if key == "t":
            if timestamp is not None or not (value.isascii() and value.isdigit()):
                raise SignatureError(f"unparsable signature header: bad timestamp {value!r}")
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("unparsable signature header: no t=<timestamp>")
    return timestamp, signatures


def verify(
    header: str | None,
    body: bytes,
    secret: str,
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE,
) -> None:
    """Accept a delivery whose ``X-Sergio-Signature`` ``header`` matches the raw ``body``, or raise.

    ``now`` is the receiver's current time in unix seconds. Raises :class:`SignatureError` for a
    missing or unparsable header, a header without a ``v1`` signature, a timestamp more than
    ``tolerance`` seconds before or after ``now``, and a signature that does not match. The
    comparison runs in constant time.
    """
    if header is None or not header.strip():
        raise SignatureError("missing signature header")
    timestamp, signatures = _parse(header)
    if not signatures:
        raise SignatureError(f"unknown signature scheme: no {SCHEME}= signature in the header")
    if now - timestamp > tolerance:
        raise SignatureError(f"stale timestamp: {now - timestamp:.0f} s old, tolerance {tolerance} s")
    if timestamp - now > tolerance:
        raise SignatureError(f"future timestamp: {timestamp - now:.0f} s ahead, tolerance {tolerance} s")
    expected = _mac(secret, timestamp, body).encode()
    matched = False
    for candidate in signatures:
        # compare every candidate, so the time taken does not reveal which one matched
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    if not matched:
        raise SignatureError("signature mismatch")
