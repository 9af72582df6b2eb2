"""``auth.tenant.lists``: no list of the main API shows another company's admin this company's objects."""

from __future__ import annotations

from sergio_kit.checks.context import OTHER, CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.checks.tenancy.listing import MAX_PAGES, pages
from sergio_kit.checks.tenancy.planted import garden
from sergio_kit.contract.document import Operation
from sergio_kit.reports.findings import CheckSkipped


@check("auth.tenant.lists", basis="documented")
def tenant_lists(ctx: CheckContext) -> str:
    """Every list of the main API (a bearer GET without path parameters, from the contract), read by
    another company's admin, never shows this company's objects: a job, a webhook and an API key made
    for the check, found by their ids or their own data, on any page read (the Zapier trigger's
    tenancy is ``apikey.tenant``'s).

    Each list is read at the largest ``limit`` the contract declares, following ``next_cursor`` for up
    to five pages.
    """
    lists = list_operations(ctx)
    if not lists:
        raise CheckSkipped(
            "the contract declares no list on the main API (a bearer GET without path parameters)"
        )
    ctx.account(OTHER)
    planted, missing = garden(ctx).plant_every_kind()
    if not planted:
        raise CheckSkipped("nothing to look for: " + "; ".join(missing))
    token = ctx.token(OTHER)
    read = 0
    for operation in lists:
        for response in pages(ctx, operation, token=token):
            read += 1
            for target in planted:
                shown = target.shown_in(response, by_id=True)
                if shown is not None:
                    ctx.fail(
                        f"{operation.label} as another company's admin lists this company's "
                        f"{target.kind.label} ({shown})",
                        response,
                        "only the caller's own company's objects",
                    )
    looked = ", ".join(target.kind.label for target in planted)
    detail = f"{len(lists)} list(s), {read} page(s) (at most {MAX_PAGES} each): no {looked} of this company"
    return detail + (f"; {'; '.join(missing)}" if missing else "")


def list_operations(ctx: CheckContext) -> list[Operation]:
    """The main API's lists: bearer ``GET`` operations without path parameters."""
    return [op for op in ctx.protected("bearerAuth") if op.method == "GET" and "{" not in op.path]
