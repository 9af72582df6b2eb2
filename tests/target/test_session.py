"""Logged-in sessions (``sergio_kit.target.session``) against the reference server: each account is
charged to the pacing ledger under its own role, and a refused login names the settings to fix."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sergio_kit.checks.context import MEMBER, OTHER, PRIMARY, CheckContext
from sergio_kit.errors import SergioKitError
from sergio_kit.target.embedded import RunningServer, embedded_target
from sergio_kit.target.pacing import principal_of
from sergio_kit.target.session import TokenSession
from sergio_kit.target.target import Account


def test_each_account_is_charged_under_its_role(server: RunningServer) -> None:
    """The primary admin, the other admin and the member log in as three principals, each known to the
    throttle by its role (the plan's and the contract cases' name for it)."""
    ctx = CheckContext(embedded_target(server))
    try:
        tokens = {tenant: ctx.token(tenant) for tenant in (PRIMARY, OTHER, MEMBER)}
        principals = {
            tenant: principal_of({"Authorization": f"Bearer {token}"}) for tenant, token in tokens.items()
        }
        assert len(set(principals.values())) == 3
        assert {ctx.throttle.roles[principal] for principal in principals.values()} == {
            PRIMARY,
            OTHER,
            MEMBER,
        }
        assert ctx.session(MEMBER).role == MEMBER
    finally:
        ctx.close()
        ctx.target.close()


def test_a_refused_member_login_names_the_member_settings(server: RunningServer) -> None:
    """A wrong member password is the user's mistake: one line naming SERGIO_MEMBER_EMAIL / _PASSWORD."""
    target = embedded_target(server)
    assert target.member_account is not None
    wrong = replace(target.member_account, password="not-the-password")
    ctx = CheckContext(target)
    try:
        session = TokenSession(target, wrong, ctx.throttle, MEMBER)
        try:
            with pytest.raises(SergioKitError, match="check SERGIO_MEMBER_EMAIL / SERGIO_MEMBER_PASSWORD"):
                session.token()
        finally:
            session.close()
    finally:
        ctx.close()
        target.close()


def test_without_a_member_the_member_checks_skip(server: RunningServer) -> None:
    """A target without a member account: asking for the member skips, naming the settings."""
    from sergio_kit.reports.findings import CheckSkipped

    target = embedded_target(server)
    target.member_account = None
    ctx = CheckContext(target)
    try:
        with pytest.raises(CheckSkipped, match="SERGIO_MEMBER_EMAIL"):
            ctx.account(MEMBER)
        assert isinstance(ctx.account(PRIMARY), Account)
    finally:
        ctx.close()
        target.close()
