"""A step that only prepares a check (an object to test with) and breaks ends the check as undecided
(``error``), never ``failed``: the rule the check is about was not judged. Against the reference
server, with the kit's sample job made invalid so that making it is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import get_check
from sergio_kit.reports.findings import CheckUndecided
from sergio_kit.target.embedded import RunningServer, embedded_target

REFUSED_SETUP = (
    r"could not create a job to test with: got 4\d\d from POST /v1/jobs; the check's rule was not judged"
)


@pytest.fixture
def broken_samples(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[CheckContext]:
    """A context whose sample job the server refuses (no customer, no address)."""
    ctx = CheckContext(embedded_target(server))
    monkeypatch.setattr(ctx, "job", lambda **changes: {"notes": "sergio-kit: no customer, no address"})
    try:
        yield ctx
    finally:
        ctx.close()
        ctx.target.close()


def test_an_object_to_test_with_that_cannot_be_made_is_undecided(broken_samples: CheckContext) -> None:
    """``resource`` raises :class:`CheckUndecided` naming the step, the status and the request."""
    with pytest.raises(CheckUndecided, match=REFUSED_SETUP):
        broken_samples.resource("job_id")


def test_a_tenancy_check_whose_planted_job_is_refused_is_undecided(broken_samples: CheckContext) -> None:
    """``auth.tenant.objects`` cannot plant its job: undecided, not a tenancy failure."""
    with pytest.raises(CheckUndecided, match=r"could not create a job to test with: got 4\d\d"):
        get_check("auth.tenant.objects").run(broken_samples)


def test_a_step_that_succeeds_lets_the_check_go_on(server: RunningServer) -> None:
    """With the real samples the same step passes and gives an id."""
    ctx = CheckContext(embedded_target(server))
    try:
        assert ctx.resource("job_id").startswith("job_")
    finally:
        ctx.close()
        ctx.target.close()
