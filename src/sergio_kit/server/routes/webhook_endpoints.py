"""``/v1/webhooks``: register (secret shown once), list, delete."""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlsplit

from starlette.responses import JSONResponse, Response

from sergio_kit.server.http_errors import ApiError
from sergio_kit.server.routing import Call, Handler
from sergio_kit.server.tenancy import not_yours
from sergio_kit.server.timefmt import rfc3339
from sergio_kit.server.webhooks import new_secret


async def create_webhook(call: Call) -> Response:
    """Register an HTTPS endpoint for job events; the response holds its signing secret."""
    data = await call.raw_json()
    url = data.get("url") if isinstance(data, dict) else None
    faults = call.faults
    if "webhook.https_only@public-host" in faults and isinstance(url, str) and private_host(url):
        raise ApiError(422, "webhook URLs may not point at loopback or private addresses")  # an SSRF filter
    lenient = "webhook.https_only" in faults or "webhook.https_only@public-host" in faults
    if lenient and isinstance(url, str) and url.startswith("http://"):
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
    shown = webhook if "webhook.registration" in call.faults else {**webhook, "secret": secret}
    return JSONResponse(shown, status_code=201, headers={"Cache-Control": "no-store"})


async def list_webhooks(call: Call) -> Response:
    """The company's endpoints, without their secrets."""
    show_secret = "webhook.secret_once" in call.faults
    company = None if "auth.tenant.lists@webhooks" in call.faults else call.principal.company_id
    data = [
        {**webhook, "secret": secret} if show_secret else webhook
        for webhook, secret in call.state.db.list_webhooks(company)
    ]
    return JSONResponse({"data": data})


async def delete_webhook(call: Call) -> Response:
    """Remove an endpoint."""
    webhook_id, db = call.path("webhook_id"), call.state.db
    any_company = "auth.tenant.objects@webhook-delete" in call.faults
    if not db.delete_webhook(None if any_company else call.principal.company_id, webhook_id):
        raise not_yours(call.state, "webhook", lambda: db.webhook_exists(webhook_id))
    return Response(status_code=204)


def private_host(url: str) -> bool:
    """Whether ``url``'s host is ``localhost`` or a loopback, private or link-local IP address: what
    the ``webhook.https_only@public-host`` fault's SSRF filter refuses (by name, without resolving)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


HANDLERS: dict[str, Handler] = {
    "createWebhook": create_webhook,
    "listWebhooks": list_webhooks,
    "deleteWebhook": delete_webhook,
}
