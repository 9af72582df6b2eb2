"""``contract.declared``: every operation the contract in force declares is routed by the target.

One valid call per operation (real ids of objects the kit made, valid bodies, the credentials its
security scheme asks for); an answer of 404 or 405 means the target does not serve what its contract
declares. Destructive operations (a ``DELETE``, an action ``POST`` on an object such as a key
rotation) act on objects made for the purpose, never on those other checks share; whatever a call
creates is removed when the context closes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from sergio_kit.checks.context import KEY_MANAGEMENT, CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.contract.document import Operation
from sergio_kit.reports.findings import CheckSkipped

UNROUTED = frozenset({404, 405})
KEY_SCOPES = ("jobs:read", "jobs:write")
#: The collection that makes each path id, and where the made object is deleted.
MAKERS = {"job_id": "/v1/jobs", "webhook_id": "/v1/webhooks", "key_id": "/v1/api-keys"}
#: Operations that create objects, and the path that deletes what they created (``{}``: its id).
CREATED = {
    "POST /v1/jobs": "/v1/jobs/{}",
    "POST /zapier/v1/actions/create-job": "/v1/jobs/{}",
    "POST /v1/webhooks": "/v1/webhooks/{}",
    "POST /v1/api-keys": "/v1/api-keys/{}",
}
BULK = "POST /v1/jobs/bulk"
_PARAMETER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Unserved:
    """An operation the kit did not call, and why (what it lacks)."""

    label: str
    reason: str


@check("contract.declared", basis="contract")
def declared(ctx: CheckContext) -> None:
    """Every operation the contract declares is routed: one valid call each (real ids, the scheme's
    credentials), none answered 404 or 405. In live mode an operation the run already saw answer 2xx
    is not called again (the quotas are small; a 2xx proves the route)."""
    unrouted: list[tuple[str, httpx.Response]] = []
    unserved: list[Unserved] = []
    for operation in ctx.operations:
        seen = ctx.throttle.answered.get(operation.label, set())
        if ctx.live_budget is not None and any(200 <= status < 300 for status in seen):
            continue
        try:
            headers = credentials(ctx, operation)
            path = filled_path(ctx, operation)
        except CheckSkipped as reason:
            unserved.append(Unserved(operation.label, str(reason)))
            continue
        response = ctx.send(operation.method, path, headers=headers, json=ctx.sample_body(operation))
        remove_created(ctx, operation, response)
        if response.status_code in UNROUTED:
            unrouted.append((operation.label, response))
    if unrouted:
        labels = ", ".join(f"{label} ({response.status_code})" for label, response in unrouted)
        ctx.fail(
            f"{len(unrouted)} declared operation(s) not served: {labels}"
            + (f"; not called: {_listed(unserved)}" if unserved else ""),
            unrouted[0][1],
            "every declared operation routed (404 only for an unknown object, 405 only for an "
            "undeclared method)",
        )
    if unserved:
        served = len(ctx.operations) - len(unserved)
        raise CheckSkipped(f"{served} declared operation(s) served; not called: {_listed(unserved)}")


def credentials(ctx: CheckContext, operation: Operation) -> dict[str, str]:
    """The headers that authorize ``operation``: none for a public one, else those of the first of its
    schemes the kit can satisfy (a bearer token, an API key in its header); skips naming what is
    missing when it can satisfy none."""
    if not operation.security:
        return {}
    schemes: Mapping[str, Any] = ctx.contract.document.get("components", {}).get("securitySchemes", {})
    lacking = []
    for name in operation.security:
        scheme = schemes.get(name, {})
        kind = (scheme.get("type"), str(scheme.get("scheme", "")).lower(), scheme.get("in"))
        try:
            if kind[:2] == ("http", "bearer"):
                return {"Authorization": f"Bearer {ctx.token()}"}
            if kind[0] == "apiKey" and kind[2] == "header":
                return {str(scheme["name"]): own_key(ctx)}
        except CheckSkipped as reason:
            lacking.append(f"{name}: {reason}")
            continue
        lacking.append(f"{name}: a {scheme.get('type', 'undeclared')} scheme the kit cannot satisfy")
    raise CheckSkipped("; ".join(lacking))


def own_key(ctx: CheckContext) -> str:
    """An API key for this check alone (made through key management and revoked at close, else the one
    the user supplied): the contract group's clean-up removes every key made while it runs, so a key
    the context shares with later checks must not be made here."""
    if not ctx.offers(KEY_MANAGEMENT):
        return ctx.api_key(KEY_SCOPES)[1]
    if "declared_key" not in ctx.memo:
        created = ctx.create_api_key(KEY_SCOPES, "sergio-kit contract.declared").json()
        ctx.remove_later("primary", f"/v1/api-keys/{created['id']}")
        ctx.memo["declared_key"] = str(created["key"])
    return str(ctx.memo["declared_key"])


def filled_path(ctx: CheckContext, operation: Operation) -> str:
    """``operation``'s path with real ids: for a destructive operation (``DELETE``, or a ``POST`` on an
    object) of objects made for the purpose, else of the run's shared ones; skips when a path
    parameter names nothing the kit can make."""
    destructive = operation.method == "DELETE" or (operation.method == "POST" and "{" in operation.path)
    path = operation.path
    for name in _PARAMETER.findall(operation.path):
        if name not in MAKERS:
            raise CheckSkipped(f"the kit cannot make a {{{name}}} to call it with")
        resource_id = own_object(ctx, name) if destructive else ctx.resource(name)
        path = path.replace("{" + name + "}", resource_id)
    return path


def own_object(ctx: CheckContext, name: str) -> str:
    """A new object for the path parameter ``name`` (a job, webhook or API key), removed at close."""
    collection = MAKERS[name]
    maker = ctx.require(f"POST {collection}", f"to make a {name.removesuffix('_id')} to call it on")
    response = ctx.send("POST", collection, token=ctx.token(), json=ctx.sample_body(maker))
    ctx.setup_step(response, range(200, 300), f"could not make a {name.removesuffix('_id')} to call on")
    resource_id = str(response.json()["id"])
    ctx.remove_later("primary", f"{collection}/{resource_id}")
    return resource_id


def remove_created(ctx: CheckContext, operation: Operation, response: httpx.Response) -> None:
    """Remove what a successful call of a creating operation made, when the context closes."""
    if not response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    if operation.label == BULK:
        for job in body.get("created", []):
            if isinstance(job, dict) and "id" in job:
                ctx.remove_later("primary", f"/v1/jobs/{job['id']}")
    elif operation.label in CREATED and "id" in body:
        ctx.remove_later("primary", CREATED[operation.label].format(body["id"]))


def _listed(unserved: list[Unserved]) -> str:
    return "; ".join(f"{item.label} ({item.reason})" for item in unserved)
