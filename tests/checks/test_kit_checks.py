"""The checks that prove the kit itself (not the server) fail when the kit is broken.

``webhook.verifier`` and ``transport.tls_verified`` have no server fault: here the kit's verifier
and the target's TLS context are swapped for broken versions, and each check must catch it. That
both pass with the kit as shipped is shown with every other check in ``test_check_proofs.py``.
"""

from __future__ import annotations

import hmac
import json
import re
import ssl
from collections.abc import Callable, Iterator

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import get_check
from sergio_kit.reports.findings import CheckFailed
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, embedded_target
from sergio_kit.target.target import Target
from sergio_kit.webhooks import signatures
from tests.support.clock import start_fresh_windows

Verifier = Callable[..., None]
_GENUINE = signatures.verify


@pytest.fixture
def kit_context(server: RunningServer, clock: TestClock) -> Iterator[CheckContext]:
    """A check context on the clean server, with every rate-limit window fresh."""
    start_fresh_windows(clock)
    context = CheckContext(embedded_target(server), max_examples=10)
    yield context
    context.close()
    context.target.close()


# -- broken verifiers ----------------------------------------------------------------------------


def ignores_the_timestamp(
    header: str | None, body: bytes, secret: str, *, now: float, tolerance: int = 300
) -> None:
    """Checks the MAC but accepts any timestamp (replays forever)."""
    _GENUINE(header, body, secret, now=now, tolerance=10**12)


def compares_with_equals(
    header: str | None, body: bytes, secret: str, *, now: float, tolerance: int = 300
) -> None:
    """Right in every answer, but compares MACs with ``==`` (timing leak)."""
    if header is None or not header.strip():
        raise signatures.SignatureError("missing signature header")
    timestamp, candidates = signatures._parse(header)
    if not candidates:
        raise signatures.SignatureError("unknown signature scheme")
    if abs(now - timestamp) > tolerance:
        raise signatures.SignatureError("timestamp out of tolerance")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, "sha256").hexdigest()
    if expected not in candidates:
        raise signatures.SignatureError("signature mismatch")


def verifies_parsed_json(
    header: str | None, body: bytes, secret: str, *, now: float, tolerance: int = 300
) -> None:
    """Verifies the body after parsing and re-serializing it, not the raw bytes."""
    try:
        canonical = json.dumps(json.loads(body), separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    _GENUINE(header, canonical, secret, now=now, tolerance=tolerance)


def accepts_any_scheme(
    header: str | None, body: bytes, secret: str, *, now: float, tolerance: int = 300
) -> None:
    """Treats any ``name=value`` item as a v1 signature."""
    if header is not None:
        header = ",".join(
            item if item.strip().startswith("t=") else "v1=" + item.partition("=")[2]
            for item in header.split(",")
        )
    _GENUINE(header, body, secret, now=now, tolerance=tolerance)


# -- webhook.verifier ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken", [ignores_the_timestamp, compares_with_equals, verifies_parsed_json, accepts_any_scheme]
)
def test_verifier_check_fails_on_a_broken_verifier(
    broken: Verifier, kit_context: CheckContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``sergio_kit.webhooks.signatures.verify`` replaced by a broken one, the check fails with a
    finding."""
    monkeypatch.setattr(signatures, "verify", broken)
    with pytest.raises(CheckFailed) as failure:
        get_check("webhook.verifier").run(kit_context)
    assert "verifier" in failure.value.finding.message


# -- transport.tls_verified ----------------------------------------------------------------------


def _unverified(self: Target) -> ssl.SSLContext:
    return ssl._create_unverified_context()


def _no_hostname_check(self: Target) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    return context


@pytest.mark.parametrize("broken", [_unverified, _no_hostname_check], ids=["verify-off", "no-hostname-check"])
def test_tls_check_fails_when_the_kit_does_not_verify(
    broken: Callable[[Target], ssl.SSLContext], kit_context: CheckContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``Target.ssl_context`` returning a non-verifying context, the check fails with a finding."""
    monkeypatch.setattr(Target, "ssl_context", broken)
    with pytest.raises(CheckFailed) as failure:
        get_check("transport.tls_verified").run(kit_context)
    assert re.search(
        "does not verify certificates and host names|accepted a certificate from an unknown CA",
        failure.value.finding.message,
    ), failure.value.finding.message
