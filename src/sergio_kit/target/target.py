"""The target under test: where it is, how to trust it, who to log in as, what it offers."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sergio_kit.config import DEFAULT_TIER_LIMITS
from sergio_kit.contract.document import Contract, packaged_contract
from sergio_kit.contract.samples import DEFAULT_SAMPLES, Samples, timestamp_from_http_date
from sergio_kit.target.clock import TestClock


@dataclass(frozen=True)
class Account:
    """Login credentials of one user (never printed: ``repr`` hides the password)."""

    email: str
    password: str = field(repr=False)


@dataclass
class Target:
    """A Sergio deployment (or the embedded reference server) and what the kit knows about it."""

    base_url: str
    account: Account
    ca_bundle: Path | None = None
    http_url: str | None = None
    clock: TestClock | None = None
    embedded: bool = False
    other_account: Account | None = None
    member_account: Account | None = None  # a non-admin user of the first company
    api_key: str | None = field(default=None, repr=False)  # supplied: jobs:read + jobs:write
    read_only_api_key: str | None = field(default=None, repr=False)  # supplied: jobs:read only
    jwt_secret: bytes | None = field(default=None, repr=False)
    jwt_private_key: bytes | None = field(default=None, repr=False)  # PEM: forges RS/ES-signed tokens
    jwt_public_key: bytes | None = None  # PEM, when the target publishes no key set the kit can fetch
    jwks_url: str | None = None  # its key set, where it is not the contract's JWKS operation
    receiver_cert: Callable[[Path], Path] | None = None  # issues a loopback cert the target trusts
    receiver_url: str | None = None  # the https URL the target delivers webhooks to (e.g. a tunnel)
    receiver_bind: tuple[str, int] | None = None  # where the kit's webhook receiver listens
    samples: Samples = DEFAULT_SAMPLES  # the test data of the jobs and webhooks the kit creates
    date_offset: float = field(default=0.0, repr=False)  # its Date header's time minus the local clock
    tier_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIER_LIMITS))  # per 60 s
    cassette_dir: Path | None = None  # the recorded cassettes the cassette group replays
    last_auth_call: float = field(default=0.0, repr=False)  # time.monotonic() of the kit's last one
    contract: Contract = field(default_factory=packaged_contract, repr=False)  # what it is held to

    def note_auth_call(self) -> None:
        """The kit is about to send an auth-tier request (login, refresh, logout)."""
        self.last_auth_call = time.monotonic()

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying TLS context: the CA bundle if given, else the system trust store."""
        if self.ca_bundle is not None:
            return ssl.create_default_context(cafile=str(self.ca_bundle))
        return ssl.create_default_context()

    def close(self) -> None:
        """Close the test-clock connection, if any."""
        if self.clock is not None:
            self.clock.close()

    def now(self) -> float:
        """The target's current time: its test clock when it has one, else the local clock corrected
        by the ``Date`` header of its last response the kit noted."""
        return self.clock.estimated_now() if self.clock is not None else time.time() + self.date_offset

    def today(self) -> date:
        """The target's UTC date (see :meth:`now`): sample jobs are scheduled a few days after it."""
        return datetime.fromtimestamp(self.now(), UTC).date()

    def note_date(self, header: str | None) -> None:
        """Learn the target's time from the ``Date`` header of one of its responses (a missing or
        malformed header teaches nothing)."""
        instant = timestamp_from_http_date(header)
        if instant is not None:
            self.date_offset = instant - time.time()
