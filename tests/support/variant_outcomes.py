"""What each check reports on the reference server with each variant on: anything but ``passed``.

A variant is a choice the published docs allow (``sergio_kit.server.variants``), so no check may
fail on it: where the variant breaks a recommended rule the check warns, where it takes away what a
check needs the check skips, with a reason naming it. Everything not listed here passes. The groups
a variant can touch are listed too: the per-variant proof runs those groups' checks (every check runs
with all variants on together).
"""

from __future__ import annotations

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import get_check
from sergio_kit.checks.verdict import verdict
from sergio_kit.contract.document import TIERS
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.server.variants import VARIANTS

EVERY_VARIANT = tuple(VARIANTS)

#: The check groups whose rules a variant touches (or families of checks: an id prefix, ``auth.tenant``).
GROUPS: dict[str, frozenset[str]] = {
    "refresh-without-rotation": frozenset({"auth", "refresh"}),
    "fixed-window": frozenset({"ratelimit"}),
    "token-buckets": frozenset({"ratelimit"}),
    "no-ratelimit-headers": frozenset({"ratelimit"}),
    "legacy-ratelimit-headers": frozenset({"ratelimit"}),
    "ratelimit-policy-only": frozenset({"ratelimit"}),
    "cross-tenant-403": frozenset({"apikey", "webhook", "auth.tenant"}),
    "no-key-management": frozenset({"apikey", "ratelimit", "auth.tenant", "auth.member"}),
    "no-logout": frozenset({"refresh"}),
    "no-bulk": frozenset({"ratelimit"}),
    "future-dates-only": frozenset({"apikey", "webhook", "ratelimit"}),
    "rotation-201": frozenset({"apikey"}),
    "base64-webhook-secrets": frozenset({"webhook"}),
    "cacheable-login": frozenset({"auth", "refresh"}),
    "company-from-database": frozenset({"auth", "apikey"}),
}

#: variant -> {check id: (status, a word its finding or skip reason must contain)}; every other
#: check of the variant's groups passes.
OUTCOMES: dict[str, dict[str, tuple[str, str]]] = {
    **{variant: {} for variant in VARIANTS},
    "refresh-without-rotation": {
        "refresh.rotation": ("warned", "does not rotate"),
        "refresh.reuse": ("skipped", "does not rotate"),
        "refresh.race": ("skipped", "does not rotate"),
    },
    "no-logout": {"refresh.logout": ("skipped", "POST /v1/auth/logout")},
    "cacheable-login": {"auth.login.shape": ("warned", "no-store")},
    "cross-tenant-403": {"auth.tenant.objects": ("warned", "403")},
    "fixed-window": {"ratelimit.window": ("warned", "admitted")},
    "token-buckets": {"ratelimit.relogin_bypass": ("warned", "with a fresh login's token")},
    "no-ratelimit-headers": {
        f"ratelimit.{tier}.headers": ("warned", "no rate-limit headers") for tier in TIERS
    },
    "no-bulk": {
        f"ratelimit.bulk.{rule}": ("skipped", "POST /v1/jobs/bulk")
        for rule in ("boundary", "retry_after", "retry_after_honest", "headers", "body")
    },
    "no-key-management": {
        "apikey.rotated": ("skipped", "POST /v1/api-keys/{key_id}/rotate"),
        "apikey.revoked": ("skipped", "DELETE /v1/api-keys/{key_id}"),
        "auth.member.admin_only": ("skipped", "declares no admin-only operation"),
    },
}

#: Faults that live in what a variant takes away, so no check can meet them with that variant on:
#: fault id -> the variant; they are proven with every other variant on. (A check that skips for a
#: variant is told apart by its outcome above.)
UNREACHABLE_FAULTS: dict[str, str] = {
    "refresh.property": "no-logout",  # the fault is in the logout route the variant removes
    # the fault is in the RateLimit fields the variant does not send (the check warns for the variant)
    **{f"ratelimit.{tier}.headers": "no-ratelimit-headers" for tier in TIERS},
    "ratelimit.read.headers@quota-only": "no-ratelimit-headers",
    "ratelimit.webhook.headers@remaining-only": "no-ratelimit-headers",
    # the faults in the bulk tier's own requests, of which the variant leaves none
    **{
        fault_id: "no-bulk"
        for fault_id in (
            "ratelimit.concurrency@bulk",
            "ratelimit.isolation.tiers@bulk-write",
            "ratelimit.isolation.tiers@webhook-bulk",
        )
    },
    # the faults in key management, which the variant removes (apikey.scope@trigger: no write-only key
    # is supplied without it)
    **{
        fault_id: "no-key-management"
        for fault_id in (
            "apikey.hint",
            "apikey.scope@trigger",
            "auth.member.admin_only",
            "auth.member.admin_only@rotate",
            "auth.tenant.lists@api-keys",
            "auth.tenant.objects@rotate",
        )
    },
}


def touches(variant: str, check_id: str) -> bool:
    """Whether ``variant`` touches the rules of ``check_id``: its group, or a family of checks its id
    starts with, is among the variant's :data:`GROUPS`."""
    return any(check_id == name or check_id.startswith(name + ".") for name in GROUPS[variant])


def expected_outcome(check_id: str, variants: tuple[str, ...]) -> tuple[str, str]:
    """What ``check_id`` reports with ``variants`` on: ``skipped`` beats ``warned`` beats ``passed``."""
    found = [OUTCOMES[variant][check_id] for variant in variants if check_id in OUTCOMES[variant]]
    for status in ("skipped", "warned"):
        for outcome in found:
            if outcome[0] == status:
                return outcome
    return ("passed", "")


def outcome_of(check_id: str, context: CheckContext) -> tuple[str, str]:
    """``(status, detail)`` of one run of ``check_id`` on ``context``: passed, warned or failed (with
    the finding's message; the broken rule's basis sets the verdict), or skipped (with the reason)."""
    spec = get_check(check_id)
    try:
        spec.run(context)
    except CheckSkipped as skip:
        return "skipped", str(skip)
    except CheckFailed as failure:
        return verdict(failure.basis or spec.basis, None), failure.finding.message
    return "passed", ""
