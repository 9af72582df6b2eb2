"""``/zapier/v1``: the Zapier surface, authenticated by ``X-API-Key`` scoped to one company."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from sergio_kit.server.http_errors import ApiError
from sergio_kit.server.routes.jobs import new_job
from sergio_kit.server.routing import Call, Handler
from sergio_kit.server.schedule import refuse_past_date

TRIGGER_PAGE = 100


def _require_scope(call: Call, scope: str) -> None:
    if scope not in call.principal.scopes:
        raise ApiError(403, f"this API key lacks the {scope} scope")


async def me(call: Call) -> Response:
    """Zapier's connection test: the key's company and scopes."""
    principal = call.principal
    body = {
        "company": {"id": principal.company_id, "name": call.state.db.company_name(principal.company_id)},
        "key_id": principal.id,
        "scopes": list(principal.scopes),
    }
    if "apikey.no_echo" in call.faults:
        body["api_key"] = principal.presented_key
    return JSONResponse(body)


async def new_job_trigger(call: Call) -> Response:
    """Polling trigger: the newest jobs first."""
    if "apikey.scope@trigger" not in call.faults:
        _require_scope(call, "jobs:read")
    company = None if "apikey.tenant" in call.faults else call.principal.company_id
    return JSONResponse(call.state.db.newest_jobs(company, TRIGGER_PAGE))


async def create_job_action(call: Call) -> Response:
    """Action: create a job."""
    if "apikey.scope" not in call.faults:
        _require_scope(call, "jobs:write")
    body = await call.body()
    refuse_past_date(call.state, body)
    return JSONResponse(new_job(call.state, call.principal.company_id, body), status_code=201)


HANDLERS: dict[str, Handler] = {
    "zapierMe": me,
    "zapierNewJobTrigger": new_job_trigger,
    "zapierCreateJob": create_job_action,
}
