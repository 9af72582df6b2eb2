"""The kit's judgement of the auth, refresh and tenancy variants: a deployment that does not rotate
refresh tokens, has no logout, lets token responses be cached, takes the company from its database or
answers 403 across tenants gets warnings and skips that say why, never a failure; and the checks
still catch their faults with those variants on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.target.embedded import embedded_target
from tests.support.fault_servers import FaultServers, server_key
from tests.support.variant_outcomes import outcome_of

NO_ROTATION = "refresh-without-rotation"
NOT_ROTATING = "does not rotate refresh tokens"

#: (variants, faults, check id, expected status, a word the finding or skip reason holds): each fault
#: with the one variant it meets (without a fault, every variant's outcomes are proven in
#: test_variant_proofs.py)
CASES = [
    ((NO_ROTATION,), ("refresh.rotation",), "refresh.rotation", "failed", "refused"),
    ((NO_ROTATION,), ("refresh.logout",), "refresh.logout", "warned", "after logout"),
    ((NO_ROTATION,), ("refresh.property",), "refresh.property", "warned", "logout"),
    (("company-from-database",), ("auth.jwt.claim_fuzz",), "auth.jwt.claim_fuzz", "warned", "500"),
    (
        ("company-from-database",),
        ("auth.jwt.claim_fuzz@cid-trusted",),
        "auth.jwt.claim_fuzz",
        "failed",
        "another",
    ),
    (("cross-tenant-403",), ("apikey.tenant",), "apikey.tenant", "failed", "sees the other company"),
]


@contextmanager
def context_on(variant_server: FaultServers, key: str) -> Iterator[CheckContext]:
    """A check context on the shared server of ``key``."""
    with variant_server.use(key) as server:
        context = CheckContext(embedded_target(server), max_examples=5)
        try:
            yield context
        finally:
            context.close()
            context.target.close()


@pytest.mark.parametrize(
    ("server_key", "check_id", "status", "word"),
    [
        pytest.param(
            server_key(faults, variants),
            check_id,
            status,
            word,
            id=f"{server_key(faults, variants)}-{check_id}",
        )
        for variants, faults, check_id, status, word in CASES
    ],
)
def test_check_outcome_with_the_variant(
    server_key: str, check_id: str, status: str, word: str, variant_server: FaultServers
) -> None:
    """The check reports ``status`` with the variant (and fault) on, and says why."""
    with context_on(variant_server, server_key) as context:
        found, detail = outcome_of(check_id, context)
    assert found == status, f"{check_id}: {found}: {detail}"
    assert word.lower() in detail.lower(), detail


@pytest.mark.parametrize("server_key", [server_key(variants=(NO_ROTATION,))])
def test_the_session_refreshes_with_the_same_refresh_token(
    server_key: str, variant_server: FaultServers
) -> None:
    """Without rotation the kit's session keeps its refresh token: one login, then refreshes, each
    giving a token that works."""
    with context_on(variant_server, server_key) as context:
        clock = context.clock()
        session = context.session()
        for _ in range(3):
            token = context.token()
            assert context.send("GET", "/v1/jobs", token=token).status_code == 200
            clock.advance(3600 - 60)  # within the session's renewal margin: the next token() refreshes
        assert (session.logins, session.refreshes) == (1, 2)
