"""``auth.tenant.objects``: another company's admin gets no data of this company's objects and changes
none of them, on every operation with an object's id in its path."""

from __future__ import annotations

import httpx

from sergio_kit.checks.apikey import BOTH_SCOPES
from sergio_kit.checks.context import OTHER, CheckContext
from sergio_kit.checks.operation_facts import filled, object_kind
from sergio_kit.checks.registry import check
from sergio_kit.checks.tenancy.planted import Garden, garden
from sergio_kit.contract.document import Operation
from sergio_kit.reports.findings import CheckSkipped

CALLER = "as another company's admin"
REFUSED = "none of the object's data and no change (403 or 404)"


@check("auth.tenant.objects", basis="documented")
def tenant_objects(ctx: CheckContext) -> str:
    """Another company's admin, on every operation whose path names one object (from the contract,
    every method), gets none of this company's object's data and changes nothing: its owner reads it
    back unchanged (403 and 404 both keep the rule; 404, which does not tell the object exists, is
    recommended, and so is a refusal rather than a 2xx that did nothing).

    A job, a webhook and an API key are made for it (each marked with data only its owner knows);
    reads are tried first, deletions last, and the owner reads the object back after each call that
    may change it. On the Zapier surface the other company's key (both scopes) is the caller.
    """
    attempts = sorted(
        ((operation, kind) for operation in ctx.operations if (kind := attackable(operation)) is not None),
        key=lambda attempt: (attempt[0].method == "DELETE", attempt[0].method != "GET"),
    )
    if not attempts:
        raise CheckSkipped("the contract declares no operation on one job, webhook or API key by its id")
    ctx.account(OTHER)
    planted, untried, unread = garden(ctx), [], []
    refusals: list[tuple[str, httpx.Response]] = []
    for operation, kind in attempts:
        try:
            response, read_back = attack(ctx, planted, operation, kind)
        except CheckSkipped as why:
            untried.append(f"{operation.label} ({why})")
            continue
        refusals.append((operation.label, response))
        if not read_back and operation.method != "GET":
            unread.append(operation.label)
    if not refusals:
        raise CheckSkipped("no operation could be tried: " + "; ".join(untried))
    judge_refusals(ctx, refusals)
    detail = f"{len(refusals)} operation(s) gave another company's admin no data and no change"
    if unread:
        detail += f"; not read back (the contract declares no read of the object): {', '.join(unread)}"
    return detail + (f"; not tried: {'; '.join(untried)}" if untried else "")


def attackable(operation: Operation) -> str | None:
    """The kind of object ``operation`` acts on by id, when a caller of another company can call it
    (a bearer or API-key operation); else ``None``."""
    kind = object_kind(operation)
    secured = {"bearerAuth", "apiKeyAuth"} & set(operation.security)
    return kind if secured else None


def attack(
    ctx: CheckContext, planted: Garden, operation: Operation, kind: str
) -> tuple[httpx.Response, bool]:
    """Call ``operation`` as the other company on the planted object of ``kind`` (as its owner sees it
    just before); fail when the answer shows the object's data or (for anything but a read) its owner
    sees it changed. Returns the answer, and whether the owner read the object back."""
    target, before = planted.alive(kind)
    path, body = filled(operation, target.id), ctx.sample_body(operation)
    if "bearerAuth" in operation.security:
        response = ctx.send(operation.method, path, token=ctx.token(OTHER), json=body)
    else:
        _, key = ctx.api_key(BOTH_SCOPES, OTHER)
        response = ctx.send(operation.method, path, api_key=key, json=body)
    shown = target.shown_in(response)
    if shown is not None:
        planted.forget(target.kind.name)
        ctx.fail(
            f"{operation.label} {CALLER} answered {response.status_code} with this company's "
            f"{target.kind.label}'s data ({shown})",
            response,
            REFUSED,
        )
    after = planted.view(target) if before is not None and operation.method != "GET" else None
    change = after.change_since(before, target.kind) if after is not None and before is not None else None
    if change is not None:
        planted.forget(target.kind.name)
        ctx.fail(f"{operation.label} {CALLER} {change}", response, REFUSED)
    return response, after is not None


def judge_refusals(ctx: CheckContext, refusals: list[tuple[str, httpx.Response]]) -> None:
    """The recommended rules of refusals that kept the data and the object safe: no 2xx (a caller
    cannot tell it was refused), and 404 rather than 403 (a 403 tells the object exists)."""
    for label, response in refusals:
        if 200 <= response.status_code < 300:
            ctx.fail(
                f"{label} {CALLER} answered {response.status_code} (it showed no data and changed "
                "nothing, but did not say it refused)",
                response,
                "404 (another company's object is not found)",
                basis="recommended",
            )
    for label, response in refusals:
        if response.status_code == 403:
            ctx.fail(
                f"{label} {CALLER} answered 403, not 404: the answer tells this company's object exists",
                response,
                "404 (another company's object is not found)",
                basis="recommended",
            )
