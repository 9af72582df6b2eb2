"""The :class:`~sergio_kit.target.target.Target` of a live deployment, built from validated settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from sergio_kit.config import KitConfig
from sergio_kit.contract.document import Contract
from sergio_kit.contract.samples import Samples
from sergio_kit.errors import TargetUnreachableError
from sergio_kit.target.clock import TestClock
from sergio_kit.target.contract import contract_in_force
from sergio_kit.target.target import Account, Target


def live_target(settings: KitConfig, contract: Contract | None = None) -> Target:
    """A :class:`Target` for ``settings.base_url`` (``load_config`` made sure a login is set), held to
    ``contract``, else to the contract in force (loaded here, so a bad one fails here); its test clock,
    when one is configured, is asked the time once, so a wrong URL or token fails here."""
    assert settings.base_url is not None and settings.email is not None and settings.password is not None
    other = None
    if settings.other_email is not None and settings.other_password is not None:
        other = Account(settings.other_email, settings.other_password)
    member = None
    if settings.member_email is not None and settings.member_password is not None:
        member = Account(settings.member_email, settings.member_password)
    target = Target(
        base_url=settings.base_url,
        account=Account(settings.email, settings.password),
        ca_bundle=settings.ca_bundle,
        http_url=settings.http_url,
        other_account=other,
        member_account=member,
        api_key=settings.api_key,
        read_only_api_key=settings.read_only_api_key,
        jwt_secret=settings.jwt_secret.encode() if settings.jwt_secret is not None else None,
        jwt_private_key=settings.jwt_private_key.read_bytes() if settings.jwt_private_key else None,
        jwt_public_key=settings.jwt_public_key.read_bytes() if settings.jwt_public_key else None,
        jwks_url=settings.jwks_url,
        receiver_cert=_fixed_cert(settings.receiver_cert) if settings.receiver_cert is not None else None,
        tier_limits=dict(settings.tier_limits),
        cassette_dir=settings.cassettes,
        contract=contract or contract_in_force(settings),
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
    return with_user_choices(target, settings)


def with_user_choices(target: Target, settings: KitConfig) -> Target:
    """``target`` (live or embedded) given what the user chose: the sample data of the jobs and
    webhooks the kit creates, and where the webhook receiver listens and is reached."""
    defaults = target.samples
    address = settings.sample_address
    target.samples = Samples(
        customer_id=settings.sample_customer_id or defaults.customer_id,
        service_type=settings.sample_service_type or defaults.service_type,
        address=dict(address) if address is not None else defaults.address,
        webhook_sink=settings.sample_webhook_sink or defaults.webhook_sink,
    )
    target.receiver_url = settings.receiver_url or target.receiver_url
    target.receiver_bind = settings.receiver_bind or target.receiver_bind
    return target


def _fixed_cert(path: Path) -> Callable[[Path], Path]:
    """A receiver-certificate source that always hands out the configured PEM."""
    return lambda _destination: path
