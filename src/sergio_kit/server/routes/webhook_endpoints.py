"""``/v1/webhooks``: register (secret shown once), list, delete."""

from __future__ import annotations

import secrets

from starlette.responses import JSONResponse, Response

from sergio_kit.server.routing import Call, Handler
from sergio_kit.server.tenancy import not_yours
from sergio_kit.server.timefmt import rfc3339
from sergio_kit.server.webhooks import new_secret


async def create_webhook(call: Call) -> Response:
    """Register an HTTPS endpoint for job events; the response holds its signing secret."""
    data = await call.raw_json()
    url = data.get("url") if isinstance(data, dict) else None
    if "webhook.https_only" in call.faults and isinstance(url, str) and url.startswith("http://"):
        # the bug: plain-HTTP URLs slip through (validated as if they were https)
        call.state.validators.validate("createWebhook", {**data, "url": "https://" + url[len("http://") :]})
    else:
        call.state.validators.validate("createWebhook", data)
    webhook = {
        "id": "whk_" + secrets.token_hex(8),
        "url": data["url"],
        "events": data["events"],
        "created_at": rfc3339(call.state.clock.now()),
    }
    secret = new_secret(standard_base64="base64-webhook-secrets" in call.state.settings.variants)
    call.state.db.add_webhook(call.principal.company_id, webhook, secret)
    return JSONResponse({**webhook, "secret": secret}, status_code=201, headers={"Cache-Control": "no-store"})


async def list_webhooks(call: Call) -> Response:
    """The company's endpoints, without their secrets."""
    show_secret = "webhook.registration" in call.faults
    data = [
        {**webhook, "secret": secret} if show_secret else webhook
        for webhook, secret in call.state.db.list_webhooks(call.principal.company_id)
    ]
    return JSONResponse({"data": data})


async def delete_webhook(call: Call) -> Response:
    """Remove an endpoint."""
    webhook_id, db = call.path("webhook_id"), call.state.db
    if not db.delete_webhook(call.principal.company_id, webhook_id):
        raise not_yours(call.state, "webhook", lambda: db.webhook_exists(webhook_id))
    return Response(status_code=204)


HANDLERS: dict[str, Handler] = {
    "createWebhook": create_webhook,
    "listWebhooks": list_webhooks,
    "deleteWebhook": delete_webhook,
}
