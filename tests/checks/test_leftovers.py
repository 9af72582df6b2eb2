"""The contract run's clean-up (``sergio_kit.checks.contract.leftovers``) against the reference server:
it deletes the webhooks the fuzzing registered, never one that existed before nor one the checks
made through their context meanwhile (in a live run the lanes work beside the contract)."""

from __future__ import annotations

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.contract.leftovers import Leftovers
from sergio_kit.target.embedded import RunningServer, embedded_target


def test_leftovers_spare_what_existed_and_what_the_checks_made(server: RunningServer) -> None:
    """Of four webhooks (one before the snapshot; after it, one the context made for the run, one a
    check registered through the context, one registered past the context as Schemathesis does) only
    the last is deleted."""
    ctx = CheckContext(embedded_target(server))
    try:
        token = ctx.token()
        body = ctx.target.samples.webhook(["job.created"])
        before = ctx.send("POST", "/v1/webhooks", token=token, json=body).json()["id"]
        leftovers = Leftovers(ctx.client, ctx.session(), ctx.throttle, ctx.target.contract)
        leftovers.snapshot()
        the_runs = ctx.resource("webhook_id")
        a_checks = ctx.send("POST", "/v1/webhooks", token=token, json=body).json()["id"]
        fuzzed = ctx.client.post("/v1/webhooks", json=body, headers={"Authorization": f"Bearer {token}"})

        assert leftovers.remove_new(keep=ctx.made()) == 1

        listed = {item["id"] for item in ctx.send("GET", "/v1/webhooks", token=token).json()["data"]}
        assert fuzzed.json()["id"] not in listed
        assert {before, the_runs, a_checks} <= listed
        for webhook_id in (before, a_checks):
            ctx.send("DELETE", f"/v1/webhooks/{webhook_id}", token=token)
    finally:
        ctx.close()
        ctx.target.close()
