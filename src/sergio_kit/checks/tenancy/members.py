"""``auth.member.admin_only``: a member (not an admin) of a company is refused what the contract keeps
for its admins."""

from __future__ import annotations

import httpx

from sergio_kit.checks.apikey import remove_made
from sergio_kit.checks.context import MEMBER, CheckContext
from sergio_kit.checks.operation_facts import assumed, filled, object_kind
from sergio_kit.checks.registry import check
from sergio_kit.checks.tenancy.planted import Garden, Planted, View, garden
from sergio_kit.contract.document import ADMIN_ONLY, Operation
from sergio_kit.reports.findings import CheckSkipped

CALLER = "as a member (not an admin)"
#: What a member's call of an admin-only operation may answer without a warning: 403, or 404 (which
#: shows nothing either).
REFUSALS = frozenset({403, 404})


@check("auth.member.admin_only", basis="recommended")
def member_admin_only(ctx: CheckContext) -> str:
    """A member (not an admin) of this company is refused every operation the contract marks
    admin-only (``x-sergio-admin-only: true``), gets none of its data and changes nothing (403
    expected; 404 keeps the rule too, another 4xx warns). Skips without a member
    (``SERGIO_MEMBER_EMAIL``) or when the contract marks nothing admin-only.

    The basis is the mark's: the packaged contract's marks (API-key management) are the kit's
    assumption (``x-sergio-assumed``), so a breach warns; a contract's own mark, not assumed, fails.
    Operations on one object act on objects made for the check, which the owner reads back after each
    call that may change them.
    """
    operations = [op for op in ctx.protected("bearerAuth") if op.admin_only]
    if not operations:
        raise CheckSkipped(f"the contract declares no admin-only operation ({ADMIN_ONLY}: true)")
    ctx.account(MEMBER)
    planted, untried = garden(ctx), []
    odd: list[tuple[str, httpx.Response]] = []
    for operation in sorted(operations, key=lambda op: (op.method == "DELETE", op.method != "GET")):
        kind = object_kind(operation)
        if kind is None and "{" in operation.path:
            untried.append(f"{operation.label} (no object of its kind to call it on)")
            continue
        try:
            target, before = planted.alive(kind) if kind is not None else (None, None)
        except CheckSkipped as why:
            untried.append(f"{operation.label} ({why})")
            continue
        response = call_as_member(ctx, planted, operation, target, before)
        if response.status_code not in REFUSALS:
            odd.append((operation.label, response))
    tried = len(operations) - len(untried)
    if tried == 0:
        raise CheckSkipped("no admin-only operation could be tried: " + "; ".join(untried))
    for label, response in odd:
        ctx.fail(
            f"{label} {CALLER} was refused with {response.status_code}",
            response,
            "403 (the contract keeps it for admins)",
            basis="recommended",
        )
    detail = f"{tried} admin-only operation(s) refused to a member"
    return detail + (f"; not tried: {'; '.join(untried)}" if untried else "")


def basis_of(ctx: CheckContext, operation: Operation) -> str:
    """The basis of ``operation``'s admin-only mark: ``recommended`` when the contract marks the
    operation assumed, else ``contract``."""
    return "recommended" if assumed(ctx.contract, operation) else "contract"


def call_as_member(
    ctx: CheckContext, planted: Garden, operation: Operation, target: Planted | None, before: View | None
) -> httpx.Response:
    """Call ``operation`` (on ``target`` when it names an object, which its owner saw as ``before``)
    as the member; fail when it was not refused, showed the object's data, or changed it (as its owner
    reads it back)."""
    basis = basis_of(ctx, operation)
    path = filled(operation, target.id) if target is not None else operation.path
    response = ctx.send(operation.method, path, token=ctx.token(MEMBER), json=ctx.sample_body(operation))
    remove_made(ctx, response)  # a key (or webhook) the member made after all
    if 200 <= response.status_code < 300:
        if target is not None and operation.method != "GET":
            planted.forget(target.kind.name)
        ctx.fail(
            f"{operation.label} {CALLER} was not refused: got {response.status_code}",
            response,
            "403 (the contract keeps it for admins)",
            basis=basis,
        )
    shown = target.shown_in(response) if target is not None else None
    if target is not None and shown is not None:
        ctx.fail(
            f"{operation.label} {CALLER} answered {response.status_code} with this company's "
            f"{target.kind.label}'s data ({shown})",
            response,
            "403 and none of the object's data",
            basis=basis,
        )
    after = (
        planted.view(target)
        if target is not None and before is not None and operation.method != "GET"
        else None
    )
    change = after.change_since(before, target.kind) if target and after and before else None
    if target is not None and change is not None:
        planted.forget(target.kind.name)
        ctx.fail(f"{operation.label} {CALLER} {change}", response, "the object unchanged", basis=basis)
    return response
