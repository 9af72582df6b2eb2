"""Probes of the ``contract`` faults: documented page sizes, a job's life cycle, the health answer."""

from __future__ import annotations

import re
from calendar import timegm
from time import strptime

from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.server.fault_probes.plumbing import (
    Probe,
    expect,
    expect_error,
    frozen,
    json_of,
    token_of,
)
from tests.support.api import JOB, bearer, client_for, seeded_accounts

_RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def probe_contract_schemathesis(server: RunningServer, clock: TestClock) -> None:
    """GET /v1/jobs honours every documented page size 1..100 and refuses 0 and 101 with 422."""
    with client_for(server) as client:
        token = token_of(client, seeded_accounts(server)["acme"]["member"], "setup")
        for limit in (1, 20, 50, 51, 99, 100):
            response = client.get("/v1/jobs", params={"limit": limit}, headers=bearer(token))
            expect(response, 200, f"GET /v1/jobs?limit={limit} (documented range 1..100)")
            body = json_of(response, f"limit={limit}")
            assert isinstance(body.get("data"), list) and len(body["data"]) <= limit, f"limit={limit}: {body}"
            assert body.get("next_cursor") is None or isinstance(body["next_cursor"], str), body
        for limit in (0, 101):
            response = client.get("/v1/jobs", params={"limit": limit}, headers=bearer(token))
            expect_error(response, 422, "validation_error", f"GET /v1/jobs?limit={limit} (outside 1..100)")


def probe_contract_stateful(server: RunningServer, clock: TestClock) -> None:
    """A created job can be fetched, and after DELETE answers 204 it is gone (404)."""
    with client_for(server) as client:
        headers = bearer(token_of(client, seeded_accounts(server)["acme"]["member"], "setup"))
        created = client.post("/v1/jobs", json=JOB, headers=headers)
        expect(created, 201, "create job")
        job = json_of(created, "create job")
        fetched = client.get(f"/v1/jobs/{job['id']}", headers=headers)
        expect(fetched, 200, "fetch the new job")
        assert json_of(fetched, "fetch") == job, f"fetched job differs from the created one: {fetched.text}"
        expect(client.delete(f"/v1/jobs/{job['id']}", headers=headers), 204, "delete the job")
        gone = client.get(f"/v1/jobs/{job['id']}", headers=headers)
        expect_error(gone, 404, "not_found", "fetch the job after DELETE answered 204")


def probe_contract_health(server: RunningServer, clock: TestClock) -> None:
    """GET /v1/health reports ok, 1.0.0 and the server time as RFC 3339 UTC with a trailing Z."""
    with client_for(server) as client, frozen(clock) as now:
        response = client.get("/v1/health")
        expect(response, 200, "GET /v1/health")
        body = json_of(response, "health")
        assert body.get("status") == "ok" and body.get("version") == "1.0.0", f"health body: {body}"
        stamp = body.get("timestamp")
        assert isinstance(stamp, str) and _RFC3339_Z.match(stamp), f"health timestamp {stamp!r} is not ...Z"
        seconds = timegm(strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
        assert abs(seconds - now) < 2, f"health timestamp {stamp} is not the server time {now}"


def probe_contract_declared(server: RunningServer, clock: TestClock) -> None:
    """GET /v1/webhooks, declared by the contract, is routed: 200 with the list."""
    with client_for(server) as client:
        headers = bearer(token_of(client, seeded_accounts(server)["acme"]["admin"], "setup"))
        response = client.get("/v1/webhooks", headers=headers)
        expect(response, 200, "GET /v1/webhooks (declared by the contract)")
        assert isinstance(json_of(response, "list webhooks").get("data"), list), response.text


PROBES: dict[str, Probe] = {
    "contract.schemathesis": probe_contract_schemathesis,
    "contract.stateful": probe_contract_stateful,
    "contract.health": probe_contract_health,
    "contract.declared": probe_contract_declared,
}
