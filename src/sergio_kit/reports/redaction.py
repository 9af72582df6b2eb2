"""Mask secrets in text and headers before anything is printed, logged or written to a report.

Tokens (JWTs), refresh tokens, API keys (``sk_live_``/``sk_test_``), webhook secrets (``whsec_``,
base64 or base64url) and passwords in JSON bodies are replaced by a short, stable, non-reversible marker.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
API_KEY = re.compile(r"\bsk_(?:live|test)_[A-Za-z0-9]{8,}")
#: ``whsec_`` + base64 or base64url characters (``+/`` or ``-_``, ``=`` padding, ``\/`` where a JSON
#: encoder escapes ``/``), as Standard Webhooks makes them: the whole secret, not a prefix up to a ``+``.
WEBHOOK_SECRET = re.compile(r"\bwhsec_(?:[A-Za-z0-9+/_-]|\\/){8,}={0,2}")
#: JSON, form and query field names whose values are secrets (compared case-insensitively).
SECRET_FIELDS = frozenset(
    {
        "password",
        "token",
        "refresh_token",
        "access_token",
        "id_token",
        "key",
        "secret",
        "api_key",
        "client_secret",
    }
)
JSON_SECRET_FIELD = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_FIELDS)) + r')"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE
)
SECRET_HEADERS = {
    "authorization",
    "x-api-key",
    "cookie",
    "set-cookie",
    "x-sergio-signature",
    "x-sergio-clock-token",
}


def _marker(kind: str, secret: str) -> str:
    digest = hashlib.sha256(secret.encode()).hexdigest()[:8]
    return f"[{kind} {digest}]"


def mask_text(text: str) -> str:
    """``text`` with every recognisable secret replaced by a marker."""
    text = JWT.sub(lambda m: _marker("jwt", m.group(0)), text)
    text = API_KEY.sub(lambda m: _marker("api-key", m.group(0)), text)
    text = WEBHOOK_SECRET.sub(lambda m: _marker("webhook-secret", m.group(0)), text)
    return JSON_SECRET_FIELD.sub(lambda m: f'{m.group(1)}"[masked]"', text)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with secret-bearing values masked (the scheme of ``Authorization`` is kept)."""
    masked = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme, _, credential = value.partition(" ")
            if name.lower() == "authorization" and credential:
                value = f"{scheme} {_marker('credential', credential)}"
            else:
                value = _marker("credential", value)
        masked[name] = mask_text(value)
    return masked
