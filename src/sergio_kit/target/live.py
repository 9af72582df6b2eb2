"""The :class:`~sergio_kit.target.target.Target` of a live deployment, built from validated settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from sergio_kit.config import KitConfig
from sergio_kit.errors import TargetUnreachableError
from sergio_kit.target.clock import TestClock
from sergio_kit.target.target import Account, Target


def live_target(settings: KitConfig) -> Target:
    """A :class:`Target` for ``settings.base_url`` (``load_config`` made sure a login is set); its
    test clock, when one is configured, is asked the time once, so a wrong URL or token fails here."""
    assert settings.base_url is not None and settings.email is not None and settings.password is not None
    other = None
    if settings.other_email is not None and settings.other_password is not None:
        other = Account(settings.other_email, settings.other_password)
    target = Target(
        base_url=settings.base_url,
        account=Account(settings.email, settings.password),
        ca_bundle=settings.ca_bundle,
        http_url=settings.http_url,
        other_account=other,
        api_key=settings.api_key,
        jwt_secret=settings.jwt_secret.encode() if settings.jwt_secret is not None else None,
        receiver_cert=_fixed_cert(settings.receiver_cert) if settings.receiver_cert is not None else None,
        tier_limits=dict(settings.tier_limits),
        cassette_dir=settings.cassettes,
    )
    if settings.clock_url is not None and settings.clock_token is not None:
        clock = TestClock(settings.clock_url, settings.clock_token, target.ssl_context())
        try:
            clock.now()
        except httpx.HTTPError as error:
            clock.close()
            raise TargetUnreachableError(
                f"the test clock at {settings.clock_url} did not answer ({error}): check "
                f"{settings.sources.get('clock_url', 'SERGIO_CLOCK_URL')} and the clock token"
            ) from None
        target.clock = clock
    return target


def _fixed_cert(path: Path) -> Callable[[Path], Path]:
    """A receiver-certificate source that always hands out the configured PEM."""
    return lambda _destination: path
