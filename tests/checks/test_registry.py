"""The check registry: every check declares the basis of its main rule, and only a known one."""

from __future__ import annotations

import pytest

from sergio_kit.checks.ratelimit.probe import JUDGES
from sergio_kit.checks.ratelimit.tiers import RULE_BASES
from sergio_kit.checks.registry import all_checks, check, get_check
from sergio_kit.reports.findings import BASES

#: Checks whose basis follows from the project's sources on the Sergio API: what the published
#: documentation says, a MUST of an RFC, and the kit's assumptions and best practices.
ANCHORS = {
    "auth.login.shape": "documented",
    "auth.login.enumeration": "recommended",
    "auth.jwt.alg_none": "standard",
    "auth.jwt.expired": "standard",
    "refresh.rotation": "recommended",
    "refresh.reuse": "recommended",
    "apikey.revoked": "documented",
    "transport.https_only": "documented",
    "webhook.signature": "documented",
    "ratelimit.read.boundary": "documented",
    "ratelimit.read.headers": "recommended",
    "ratelimit.read.body": "recommended",
    "ratelimit.window": "recommended",
    "ratelimit.relogin_bypass": "recommended",
    "cassette.replay": "contract",
}


def test_every_check_declares_a_known_basis() -> None:
    """Each registered check has one of the bases, and the catalogue uses more than one."""
    bases = {spec.check_id: spec.basis for spec in all_checks()}
    assert bases and set(bases.values()) <= set(BASES)
    assert set(bases.values()) >= {"documented", "standard", "recommended"}


@pytest.mark.parametrize(("check_id", "basis"), sorted(ANCHORS.items()))
def test_anchor_checks_have_the_basis_of_their_rule(check_id: str, basis: str) -> None:
    """The checks whose rule's source is plain have that basis."""
    assert get_check(check_id).basis == basis


def test_every_per_tier_rule_has_a_basis() -> None:
    """Each of the five per-tier rules has a basis, and every tier's check of it carries that one."""
    assert set(RULE_BASES) == set(JUDGES)
    for spec in all_checks():
        parts = spec.check_id.split(".")
        if spec.group == "ratelimit" and parts[-1] in RULE_BASES and len(parts) == 3:
            assert spec.basis == RULE_BASES[parts[-1]], spec.check_id


def test_basis_is_required_and_checked() -> None:
    """``@check`` without a basis, or with an unknown one, is refused before anything is registered."""
    with pytest.raises(TypeError):
        check("auth.sergio_kit_test")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown basis 'assumed'"):
        check("auth.sergio_kit_test", basis="assumed")
    assert "auth.sergio_kit_test" not in {spec.check_id for spec in all_checks()}
