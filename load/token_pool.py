"""A token pool shared by every simulated user of one load process.

Each account logs in once, the first time a user needs it; every user of that account then shares
the token, and the pool refreshes it (rotating the refresh token) five minutes before it expires.
So the load itself makes a handful of auth-tier calls, and only the auth-tier user hammers login.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import gevent
import gevent.lock

from sergio_kit.contract.ratelimit import parse_http_date, retry_after_or_none

REFRESH_MARGIN = 300.0
DEFAULT_RETRY = 5.0  # seconds to wait on a 429 without a usable Retry-After


@dataclass
class Account:
    """Login credentials of one test account."""

    email: str
    password: str


@dataclass
class _Token:
    access: str
    refresh: str
    refresh_at: float


# (path, JSON body, request name) -> (status, JSON body or None, headers); the caller classifies it.
PostFn = Callable[[str, dict[str, Any], str], tuple[int, Any, dict[str, str]]]


class TokenPool:
    """Access tokens per account, fetched once and refreshed before expiry."""

    def __init__(self, worker_label: str) -> None:
        self.worker_label = worker_label
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, gevent.lock.Semaphore] = {}

    def token(self, account: Account, post: PostFn) -> str:
        """A valid access token for ``account``; logs in or refreshes through ``post`` when needed."""
        lock = self._locks.setdefault(account.email, gevent.lock.Semaphore())
        with lock:
            current = self._tokens.get(account.email)
            if current is not None and time.monotonic() < current.refresh_at:
                return current.access
            if current is not None:
                fresh = self._call(post, "/v1/auth/refresh", {"refresh_token": current.refresh}, "refresh")
            else:
                fresh = None
            if fresh is None:
                fresh = self._call(
                    post, "/v1/auth/login", {"email": account.email, "password": account.password}, "login"
                )
            if fresh is None:
                raise RuntimeError(f"token pool: could not log {account.email} in")
            self._tokens[account.email] = fresh
            return fresh.access

    def _call(self, post: PostFn, path: str, body: dict[str, Any], what: str) -> _Token | None:
        for _ in range(3):
            status, data, headers = post(path, body, f"token pool {what} [{self.worker_label}]")
            if status == 200 and isinstance(data, dict):
                lifetime = _lifetime(str(data.get("expires_at", "")), headers.get("date"))
                refresh_at = time.monotonic() + max(lifetime - REFRESH_MARGIN, 10.0)
                refresh = str(data.get("refresh_token", body.get("refresh_token", "")))
                return _Token(data["token"], refresh, refresh_at)
            if status == 429:
                wait = retry_after_or_none(headers.get("retry-after"), headers.get("date"))
                gevent.sleep(DEFAULT_RETRY if wait is None else max(wait, 0.0))
                continue
            return None
        return None


def _lifetime(expires_at: str, date: str | None) -> float:
    """Seconds the token lives, measured on the server's clock (``expires_at`` minus ``Date``)."""
    try:
        expiry = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 3600.0
    now = time.time()
    if date:
        with contextlib.suppress(ValueError):
            now = parse_http_date(date)
    return expiry - now
