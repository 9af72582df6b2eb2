"""Signed webhook deliveries: real HTTPS POSTs in the background, retried on failure.

Each delivery carries ``X-Sergio-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>`` computed over the exact bytes sent, keyed with the secret string itself.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sergio_kit.server.clock import Clock
from sergio_kit.server.faults import Faults
from sergio_kit.server.timefmt import rfc3339

log = logging.getLogger("sergio_kit.server.webhooks")
PER_ENDPOINT = 4  # deliveries in flight to one endpoint


def new_secret(*, standard_base64: bool = False) -> str:
    """A fresh signing secret: ``whsec_`` + 48 hex digits, or, with ``standard_base64`` (the
    ``base64-webhook-secrets`` variant), ``whsec_`` + the standard base64 of 32 random bytes (44
    characters from ``A-Za-z0-9+/``, the last one ``=``), as Standard Webhooks makes them. Either way
    the whole string, prefix included, is the HMAC key, as the documentation publishes it."""
    if standard_base64:
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Sergio-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass
class DeliveryStats:
    """Counts of delivery outcomes, for diagnostics."""

    delivered: int = 0
    failed: int = 0
    attempts: int = 0
    recent: list[dict[str, Any]] = field(default_factory=list)


class WebhookDispatcher:
    """Queues events and POSTs them to every subscribed endpoint."""

    def __init__(
        self,
        *,
        clock: Clock,
        faults: Faults,
        ca_file: Path,
        retry_delays: tuple[float, ...],
        endpoints_for: Callable[[str, str], list[tuple[dict[str, Any], str]]],
    ) -> None:
        self._clock = clock
        self._faults = faults
        self._retry_delays = retry_delays
        self._endpoints_for = endpoints_for
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=str(ca_file))
        timeout = httpx.Timeout(5.0, connect=2.0)
        self._client = httpx.AsyncClient(verify=context, timeout=timeout, follow_redirects=False)
        self._tasks: set[asyncio.Task[None]] = set()
        # Per endpoint, so a dead or slow endpoint never delays deliveries to the others.
        self._limits: dict[str, asyncio.Semaphore] = {}
        self.stats = DeliveryStats()

    def emit(self, company_id: str, event_type: str, job: dict[str, Any]) -> None:
        """Queue ``event_type`` about ``job`` for each of the company's subscribed endpoints."""
        event = {
            "id": "evt_" + secrets.token_hex(10),
            "type": event_type,
            "created_at": rfc3339(self._clock.now()),
            "data": {"object": job},
        }
        for endpoint, secret in self._endpoints_for(company_id, event_type):
            task = asyncio.create_task(self._deliver(endpoint, secret, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, endpoint: dict[str, Any], secret: str, event: dict[str, Any]) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        signed_over = body
        if "webhook.signature" in self._faults:
            signed_over = json.dumps(event, sort_keys=True).encode()  # the bug: not the bytes sent
        delivery_id = "dlv_" + secrets.token_hex(10)
        for attempt, delay in enumerate((0.0, *self._retry_delays)):
            if delay:
                await asyncio.sleep(delay)
            timestamp = int(self._clock.now())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Sergio-Webhooks/1.0",
                "X-Sergio-Event": event["type"],
                "X-Sergio-Delivery": delivery_id,
                "X-Sergio-Signature": sign(secret, timestamp, signed_over),
            }
            self.stats.attempts += 1
            async with self._limits.setdefault(endpoint["id"], asyncio.Semaphore(PER_ENDPOINT)):
                try:
                    response = await self._client.post(endpoint["url"], content=body, headers=headers)
                    status: int | str = response.status_code
                except (httpx.HTTPError, ssl.SSLError, OSError) as error:
                    status = type(error).__name__
            if isinstance(status, int) and 200 <= status < 300:
                self.stats.delivered += 1
                self._remember(endpoint, delivery_id, attempt, status)
                return
        self.stats.failed += 1
        self._remember(endpoint, delivery_id, attempt, status)

    def _remember(self, endpoint: dict[str, Any], delivery_id: str, attempt: int, status: int | str) -> None:
        self.stats.recent.append(
            {"webhook_id": endpoint["id"], "delivery": delivery_id, "attempts": attempt + 1, "status": status}
        )
        del self.stats.recent[:-50]

    async def aclose(self) -> None:
        """Cancel pending deliveries and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()
