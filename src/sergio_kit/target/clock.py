"""Client of the reference server's test clock (``--test-clock``)."""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx

TOKEN_HEADER = "X-Sergio-Clock-Token"


class TestClock:
    """Read, advance and freeze a target's clock over HTTPS."""

    __test__ = False  # not a pytest test class

    def __init__(self, url: str, token: str, verify: ssl.SSLContext) -> None:
        self._url = url
        self._offset = 0.0
        self._client = httpx.Client(verify=verify, headers={TOKEN_HEADER: token}, timeout=10.0)

    def now(self) -> float:
        """The target's current time (epoch seconds), read over HTTPS."""
        return self._remember(float(self._get()["now"]))

    def estimated_now(self) -> float:
        """The target's time as of the last read or move, carried forward by the local clock."""
        return time.time() + self._offset

    def _remember(self, now: float) -> float:
        self._offset = now - time.time()
        return now

    def advance(self, seconds: float) -> float:
        """Move the target's clock forward; return the new time."""
        return self._remember(float(self._post({"advance": seconds})["now"]))

    def freeze(self) -> float:
        """Stop the target's clock; return the instant it stopped at."""
        return self._remember(float(self._post({"freeze": True})["now"]))

    def unfreeze(self) -> float:
        """Let the target's clock run again."""
        return self._remember(float(self._post({"freeze": False})["now"]))

    def _get(self) -> dict[str, Any]:
        response = self._client.get(self._url)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self._client.post(self._url, json=body)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def close(self) -> None:
        """Close the HTTP connection."""
        self._client.close()
