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
#: The ``apikey.hint`` fault's prefix: ``sk_test_``, the lookup id and 12 characters of the secret.
LEAKY_PREFIX_LENGTH = 28


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def new_key_secret(key_id: str) -> tuple[str, KeySecret]:
    """A fresh ``sk_test_<lookup id><secret>`` key and its stored (hashed) form."""
    lookup_id = _random(8)
    key = f"sk_test_{lookup_id}{_random(32)}"
    return key, KeySecret(lookup_id=lookup_id, key_id=key_id, key_hash=hash_key(key), active=True)


def create_key(
    db: Database,
    company_id: str,
    name: str,
    scopes: list[str],
    created_at: str,
    prefix_length: int = PREFIX_LENGTH,
) -> tuple[ApiKeyRecord, str]:
    """Store a new key for ``company_id`` (its first ``prefix_length`` characters its visible
    prefix); return its record and the key (shown once)."""
    key_id = "key_" + _random(12)
    key, secret = new_key_secret(key_id)
    record = ApiKeyRecord(key_id, company_id, name, tuple(scopes), key[:prefix_length], created_at, False)
    db.add_api_key(record, secret)
    return record, key


def _require_admin(call: Call) -> None:
    if "auth.member.admin_only" in call.faults:
        return  # the bug: any user of the company manages its keys
    if call.principal.role != "admin":
        raise ApiError(403, "only a company admin can manage API keys")


async def list_keys(call: Call) -> Response:
    """The company's live keys, never with their secrets."""
    _require_admin(call)
    company = None if "auth.tenant.lists@api-keys" in call.faults else call.principal.company_id
    keys = call.state.db.list_api_keys(company)
    return JSONResponse({"data": [record.public() for record in keys]})


async def create_api_key(call: Call) -> Response:
    """Create a key with the given scopes; the response is the only time the key is shown."""
    _require_admin(call)
    body = await call.body()
    now = rfc3339(call.state.clock.now())
    company, name, scopes = call.principal.company_id, body["name"], body["scopes"]
    record, key = create_key(call.state.db, company, name, scopes, now, _prefix_length(call))
    return JSONResponse(
        {**record.public(), "key": key}, status_code=201, headers={"Cache-Control": "no-store"}
    )


async def rotate_key(call: Call) -> Response:
    """Issue a new key for the same id; the old key stops working at once (200, or 201 Created with
    the ``rotation-201`` variant)."""
    if "auth.member.admin_only@rotate" not in call.faults:
        _require_admin(call)
    record = _find(call, any_company="auth.tenant.objects@rotate" in call.faults)
    key, secret = new_key_secret(record.id)
    db, prefix = call.state.db, key[: _prefix_length(call)]
    db.deactivate_key_secrets(record.id)
    db.add_key_secret(secret)
    db.set_key_prefix(record.id, prefix)
    public = {**record.public(), "prefix": prefix}
    status = 201 if "rotation-201" in call.state.settings.variants else 200  # a new key: Created
    return JSONResponse({**public, "key": key}, status_code=status, headers={"Cache-Control": "no-store"})


async def revoke_key(call: Call) -> Response:
    """Revoke a key at once."""
    _require_admin(call)
    call.state.db.revoke_api_key(_find(call).id)
    return Response(status_code=204)


def _prefix_length(call: Call) -> int:
    """How many of a new key's characters its visible prefix shows."""
    return LEAKY_PREFIX_LENGTH if "apikey.hint" in call.faults else PREFIX_LENGTH


def _find(call: Call, *, any_company: bool = False) -> ApiKeyRecord:
    key_id, db = call.path("key_id"), call.state.db
    record = db.api_key(key_id, None if any_company else call.principal.company_id)
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
