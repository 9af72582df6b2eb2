"""The contract's state machine (``contract.stateful``) destroys only what it created.

Schemathesis's dependency analysis infers links from a listing into a delete (``GET /v1/jobs`` ->
``DELETE /v1/jobs/{job_id}``): followed against a staging deployment they delete the team's own jobs
and webhooks, and in a live run the objects other checks are using (a live run once saw its shared
job deleted mid-run). The kit keeps the contract's links and those from Location headers only.
"""

from __future__ import annotations

from sergio_kit.checks.contract.wiring import load_contract
from sergio_kit.contract.document import packaged_contract


def _links() -> list[tuple[str, str, str]]:
    """(source, status, target) of every link rule of the packaged contract's state machine; a rule is
    named ``{source}___{status}_{link name}__{target}`` (methods and paths with ``_`` for ``/``)."""
    machine = load_contract(packaged_contract()).as_state_machine()
    links = []
    for name in dir(machine):
        if "___" not in name or name.startswith("_"):
            continue
        source, rest = name.split("___", 1)
        status_and_link, target = rest.split("__", 1)
        links.append((source, status_and_link.split("_", 1)[0], target))
    return links


def _destroys(target: str) -> bool:
    return target.startswith("DELETE_") or target.endswith("_rotate")


def test_every_destructive_link_starts_at_an_object_the_machine_made() -> None:
    """Each link into a DELETE or a key rotation starts at a POST that made (201) or rotated (200) the
    object, none at a listing or a read; the machine still deletes what it creates."""
    destructive = [(source, status, target) for source, status, target in _links() if _destroys(target)]
    assert ("POST_v1_jobs", "201", "DELETE_v1_jobs_job_id_") in destructive
    assert ("POST_v1_webhooks", "201", "DELETE_v1_webhooks_webhook_id_") in destructive
    strays = [
        (source, status, target)
        for source, status, target in destructive
        if not source.startswith("POST_") or status not in {"200", "201"}
    ]
    assert not strays, f"links that may destroy objects the run did not make: {strays}"
