"""The baseline: a bare Starlette JSON endpoint on uvicorn with the same TLS and settings as the server."""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

JOB = {
    "id": "job_0123456789abcdef",
    "customer_id": "cust_bench",
    "service_type": "exterior_windows",
    "scheduled_date": "2026-02-15",
    "scheduled_time": "09:00",
    "address": {"street": "1 Bench Row", "city": "Springfield", "state": "IL", "zip": "62701"},
    "status": "scheduled",
    "created_at": "2026-11-27T12:00:00Z",
    "updated_at": "2026-11-27T12:00:00Z",
}
PAGE = {"data": [JOB] * 20, "next_cursor": None}


async def jobs(request: Request) -> JSONResponse:
    """A fixed JSON body of the same size as the server's page of 20 jobs."""
    return JSONResponse(PAGE)


app = Starlette(routes=[Route("/v1/jobs", jobs)])

if __name__ == "__main__":
    port, certfile = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        ssl_certfile=certfile,
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="off",
    )
