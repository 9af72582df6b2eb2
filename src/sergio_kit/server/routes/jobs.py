"""``/v1/jobs``: list with cursor paging, create, bulk create, get, patch, delete."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from starlette.responses import JSONResponse, Response

from sergio_kit.server.http_errors import ApiError
from sergio_kit.server.routing import Call, Handler
from sergio_kit.server.schedule import past_date_problems, refuse_past_date
from sergio_kit.server.state import AppState
from sergio_kit.server.tenancy import not_yours
from sergio_kit.server.timefmt import rfc3339
from sergio_kit.server.validation import describe_errors

DEFAULT_PAGE = 20
MAX_PAGE = 100
_CURSOR = re.compile(r"^job_[A-Za-z0-9]{1,60}$")


def new_job(state: AppState, company_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Store a job made from validated ``JobCreate`` fields and announce it; return it."""
    now = rfc3339(state.clock.now())
    job = {
        "id": "job_" + secrets.token_hex(8),
        **fields,
        "status": "scheduled",
        "created_at": now,
        "updated_at": now,
    }
    state.db.insert_job(company_id, job)
    state.webhooks.emit(company_id, "job.created", job)
    return job


async def list_jobs(call: Call) -> Response:
    """A page of the company's jobs, oldest first; ``next_cursor`` continues it."""
    limit = _limit(call)
    if "contract.schemathesis" in call.faults and limit > 50:
        raise RuntimeError("page too large")  # the bug: a 500 for a documented value
    after = _cursor_position(call)
    company = None if "auth.tenant.lists" in call.faults else call.principal.company_id
    rows = call.state.db.list_jobs(company, after, limit + 1)
    page = rows[:limit]
    next_cursor = json.dumps(page[-1][0]) if len(rows) > limit else "null"
    # The stored documents are already JSON: splice them instead of decoding and re-encoding.
    body = '{"data":[' + ",".join(doc for _, doc in page) + '],"next_cursor":' + next_cursor + "}"
    return Response(body, media_type="application/json")


async def create_job(call: Call) -> Response:
    """Create one job."""
    body = await call.body()
    refuse_past_date(call.state, body)
    return JSONResponse(new_job(call.state, call.principal.company_id, body), status_code=201)


async def bulk_create(call: Call) -> Response:
    """Create up to 100 jobs; each invalid item is reported by index, the rest are created."""
    body = await call.body()
    validator = call.state.validators.for_component("JobCreate")
    created, errors = [], []
    for index, item in enumerate(body["jobs"]):
        problems = describe_errors(validator, item)
        dated = [] if problems else past_date_problems(call.state, item)
        if problems or dated:
            error = {
                "code": "validation_error",
                "message": "scheduled_date is before today" if dated else "job does not match JobCreate",
                "details": problems or dated,
            }
            errors.append({"index": index, "error": error})
        else:
            created.append(new_job(call.state, call.principal.company_id, item))
    return JSONResponse({"created": created, "errors": errors})


async def get_job(call: Call) -> Response:
    """One job of the caller's company (another company's job is 404, or 403 under cross-tenant-403)."""
    return JSONResponse(_find(call, any_company="auth.tenant.objects@read" in call.faults))


async def update_job(call: Call) -> Response:
    """Change some fields of a job."""
    job = _find(call, any_company="auth.tenant.objects" in call.faults)
    body = await call.body()
    refuse_past_date(call.state, body)
    job.update(body)
    job["updated_at"] = rfc3339(call.state.clock.now())
    call.state.db.replace_job(job)
    call.state.webhooks.emit(call.principal.company_id, "job.updated", job)
    return JSONResponse(job)


async def delete_job(call: Call) -> Response:
    """Delete a job."""
    job = _find(call)
    if "contract.stateful" not in call.faults:
        call.state.db.delete_job(job["id"])
    call.state.webhooks.emit(call.principal.company_id, "job.deleted", job)
    return Response(status_code=204)


def _find(call: Call, *, any_company: bool = False) -> dict[str, Any]:
    """The caller's company's job of the path (any company's under an ``auth.tenant.objects`` fault)."""
    job_id = call.path("job_id")
    job = call.state.db.get_job(None if any_company else call.principal.company_id, job_id)
    if job is None:
        raise not_yours(call.state, "job", lambda: call.state.db.get_job(None, job_id) is not None)
    return job


def _limit(call: Call) -> int:
    raw = call.request.query_params.get("limit")
    if raw is None:
        return DEFAULT_PAGE
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_PAGE):
        raise ApiError(422, f"limit must be an integer from 1 to {MAX_PAGE}")
    return int(raw)


def _cursor_position(call: Call) -> int:
    """The position after which the page starts: that of the job named by ``cursor``."""
    cursor = call.request.query_params.get("cursor")
    if cursor is None:
        return 0
    if not _CURSOR.match(cursor):
        raise ApiError(400, "invalid cursor: pass next_cursor from the previous page unchanged")
    position = call.state.db.job_position(call.principal.company_id, cursor)
    if position is None:
        raise ApiError(404, "the cursor names no job of yours")
    return position


HANDLERS: dict[str, Handler] = {
    "listJobs": list_jobs,
    "createJob": create_job,
    "bulkCreateJobs": bulk_create,
    "getJob": get_job,
    "updateJob": update_job,
    "deleteJob": delete_job,
}
