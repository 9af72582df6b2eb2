"""The contract run's clean-up (``sergio_kit.checks.contract.leftovers``) against the reference server:
it deletes the webhooks the fuzzing registered, never one that existed before nor one the checks'
context made meanwhile (in a live run the auth lane works beside the contract and removes its own)."""

from __future__ import annotations

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.contract.leftovers import Leftovers
from sergio_kit.target.embedded import RunningServer, embedded_target


def test_leftovers_spare_what_existed_and_what_the_context_made(server: RunningServer) -> None:
    """Of three webhooks (one before the snapshot, one the context made after it, one registered
    directly after it) only the third is deleted; the context's own is still there until it closes."""
    ctx = CheckContext(embedded_target(server))
    try:
        token = ctx.token()
        body = ctx.target.samples.webhook(["job.created"])
        before = ctx.send("POST", "/v1/webhooks", token=token, json=body).json()["id"]
        leftovers = Leftovers(ctx.client, ctx.session(), ctx.throttle, ctx.target.contract)
        leftovers.snapshot()
        the_contexts = ctx.resource("webhook_id")
        fuzzed = ctx.send("POST", "/v1/webhooks", token=token, json=body).json()["id"]

        assert leftovers.remove_new(keep=ctx.made()) == 1

        listed = {item["id"] for item in ctx.send("GET", "/v1/webhooks", token=token).json()["data"]}
        assert fuzzed not in listed
        assert {before, the_contexts} <= listed
        ctx.send("DELETE", f"/v1/webhooks/{before}", token=token)
    finally:
        ctx.close()
        ctx.target.close()
