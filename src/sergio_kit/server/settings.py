"""Settings of one reference-server run, built from the ``serve`` command line."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from sergio_kit.contract.document import TIERS
from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS
from sergio_kit.server.faults import Faults
from sergio_kit.server.security.keys import ALGORITHMS, DEFAULT_ALGORITHM
from sergio_kit.server.variants import Variants

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
ISSUER = "https://api.sergio.app"
AUDIENCE = "sergio-api"
VERSION = "1.0.0"
MAX_BODY_BYTES = 1024 * 1024
#: How long an idle keep-alive connection stays open (uvicorn's default of 5 s is shorter than a burst
#: on a busy machine takes to get going).
KEEP_ALIVE_SECONDS = 75


@dataclass
class Settings:
    """Everything one server run needs to know; immutable once the server starts."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8443
    http_port: int | None = None
    test_clock: bool = False
    faults: Faults = field(default_factory=Faults)
    variants: Variants = field(default_factory=Variants)  # allowed choices, not faults
    limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIER_LIMITS))
    ready_file: Path | None = None
    webhook_retry_delays: tuple[float, ...] = (0.5, 2.0, 5.0)
    jwt_alg: str = DEFAULT_ALGORITHM  # the one algorithm tokens are signed and verified with
    delays: dict[str, float] = field(default_factory=dict)  # tier -> seconds added to each of its requests

    def __post_init__(self) -> None:
        require_loopback(self.host)
        if self.jwt_alg not in ALGORITHMS:
            raise ValueError(f"--jwt-alg {self.jwt_alg!r}: expected one of {', '.join(ALGORITHMS)}")
        for tier in (*self.limits, *self.delays):
            if tier not in TIERS:
                raise ValueError(f"unknown rate-limit tier {tier!r}; tiers are {', '.join(TIERS)}")


def require_loopback(host: str) -> None:
    """Refuse to listen anywhere but loopback: the server has known test passwords."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"--host {host!r} is not an IP address; use 127.0.0.1, ::1 or localhost") from None
    if not address.is_loopback:
        raise ValueError(
            f"--host {host} is not a loopback address: the reference server seeds known test "
            "passwords and only listens on 127.0.0.0/8, ::1 or localhost"
        )


def parse_limit(text: str) -> tuple[str, int]:
    """Parse ``TIER=N`` (for ``--limit``) into a tier and a per-window limit."""
    tier, sep, value = text.partition("=")
    if not sep or tier not in TIERS or not value.isdigit() or int(value) < 1:
        raise ValueError(f"--limit {text!r}: expected TIER=N with TIER in {', '.join(TIERS)} and N >= 1")
    return tier, int(value)
