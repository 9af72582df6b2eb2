"""Password and API-key hashing: scrypt for passwords, SHA-256 for high-entropy keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str) -> str:
    """Hash a password with scrypt and a random salt, as ``scrypt$<salt>$<hash>``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + _b64(salt) + "$" + _b64(digest)


def verify_password(password: str, stored: str | None) -> bool:
    """Check ``password`` against a stored hash; with ``None`` burn the same time and say no."""
    if stored is None:
        hash_password(password)  # same cost for an unknown account: no timing oracle
        return False
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=_unb64(salt), **_SCRYPT)
    return hmac.compare_digest(candidate, _unb64(digest))


def hash_key(key: str) -> str:
    """SHA-256 of an API key (keys are random, so no salt or stretching is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
