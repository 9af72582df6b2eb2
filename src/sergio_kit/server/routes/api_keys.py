"""``/v1/api-keys``: the dashboard's key management (company admins only)."""

from __future__ import annotations

import secrets
import string

from starlette.responses import JSONResponse, Response

from sergio_kit.server.http_errors import ApiError
from sergio_kit.server.routing import Call, Handler
from sergio_kit.server.security.passwords import hash_key
from sergio_kit.server.storage import ApiKeyRecord, Database, KeySecret
from sergio_kit.server.tenancy import not_yours
from sergio_kit.server.timefmt import rfc3339

_ALPHANUMERIC = string.ascii_letters + string.digits
PREFIX_LENGTH = 12


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def new_key_secret(key_id: str) -> tuple[str, KeySecret]:
    """A fresh ``sk_test_<lookup id><secret>`` key and its stored (hashed) form."""
    lookup_id = _random(8)
    key = f"sk_test_{lookup_id}{_random(32)}"
    return key, KeySecret(lookup_id=lookup_id, key_id=key_id, key_hash=hash_key(key), active=True)


def create_key(
    db: Database, company_id: str, name: str, scopes: list[str], created_at: str
) -> tuple[ApiKeyRecord, str]:
    """Store a new key for ``company_id``; return its record and the key (shown once)."""
    key_id = "key_" + _random(12)
    key, secret = new_key_secret(key_id)
    record = ApiKeyRecord(key_id, company_id, name, tuple(scopes), key[:PREFIX_LENGTH], created_at, False)
    db.add_api_key(record, secret)
    return record, key


def _require_admin(call: Call) -> None:
    if call.principal.role != "admin":
        raise ApiError(403, "only a company admin can manage API keys")


async def list_keys(call: Call) -> Response:
    """The company's live keys, never with their secrets."""
    _require_admin(call)
    keys = call.state.db.list_api_keys(call.principal.company_id)
    return JSONResponse({"data": [record.public() for record in keys]})


async def create_api_key(call: Call) -> Response:
    """Create a key with the given scopes; the response is the only time the key is shown."""
    _require_admin(call)
    body = await call.body()
    now = rfc3339(call.state.clock.now())
    record, key = create_key(call.state.db, call.principal.company_id, body["name"], body["scopes"], now)
    return JSONResponse(
        {**record.public(), "key": key}, status_code=201, headers={"Cache-Control": "no-store"}
    )


async def rotate_key(call: Call) -> Response:
    """Issue a new key for the same id; the old key stops working at once (200, or 201 Created with
    the ``rotation-201`` variant)."""
    _require_admin(call)
    record = _find(call)
    key, secret = new_key_secret(record.id)
    db = call.state.db
    db.deactivate_key_secrets(record.id)
    db.add_key_secret(secret)
    db.set_key_prefix(record.id, key[:PREFIX_LENGTH])
    public = {**record.public(), "prefix": key[:PREFIX_LENGTH]}
    status = 201 if "rotation-201" in call.state.settings.variants else 200  # a new key: Created
    return JSONResponse({**public, "key": key}, status_code=status, headers={"Cache-Control": "no-store"})


async def revoke_key(call: Call) -> Response:
    """Revoke a key at once."""
    _require_admin(call)
    call.state.db.revoke_api_key(_find(call).id)
    return Response(status_code=204)


def _find(call: Call) -> ApiKeyRecord:
    key_id, db = call.path("key_id"), call.state.db
    record = db.api_key(key_id, call.principal.company_id)
    if record is None or record.revoked:
        raise not_yours(call.state, "API key", lambda: record is None and _live_key(db.api_key(key_id)))
    return record


def _live_key(record: ApiKeyRecord | None) -> bool:
    return record is not None and not record.revoked


HANDLERS: dict[str, Handler] = {
    "listApiKeys": list_keys,
    "createApiKey": create_api_key,
    "rotateApiKey": rotate_key,
    "revokeApiKey": revoke_key,
}
