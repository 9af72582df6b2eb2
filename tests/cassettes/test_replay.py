"""Replay and contract validation of cassettes, and the ``cassette.replay`` check that rests on them.

One cassette is recorded for real from the session's reference server (success and error answers,
a 405, a 429); copies of it are then broken on purpose (an undocumented status, a body without a
required field, a 429 without Retry-After) and must be reported, while the original passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml

from sergio_kit.cassettes.replay import NetworkBlockedError, network_blocked, replay_cassette
from sergio_kit.cassettes.validate import ContractValidator, rehydrate
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import get_check
from sergio_kit.reports.findings import CheckFailed
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, embedded_target
from tests.support.api import JOB, bearer, login
from tests.support.clock import start_fresh_windows


@pytest.fixture(scope="module")
def recorded(
    tmp_path_factory: pytest.TempPathFactory,
    server: RunningServer,
    clock: TestClock,
    accounts: dict[str, Any],
) -> Path:
    """A cassette recorded from the reference server: login, reads, a create, 404, 405, 400, 422, 429."""
    folder = tmp_path_factory.mktemp("cassettes")
    path = folder / "tour.yaml"
    start_fresh_windows(clock)
    with (
        vcr.VCR(record_mode="all", decode_compressed_response=True).use_cassette(str(path)),
        httpx.Client(base_url=server.base_url, verify=server.ssl_context(), timeout=15.0) as client,
    ):
        headers = bearer(login(client, accounts["brite"]["member"])["token"])
        client.get("/v1/jobs", params={"limit": 2}, headers=headers)
        created = client.post("/v1/jobs", json=JOB, headers=headers).json()
        client.get("/v1/jobs/job_doesnotexist", headers=headers)
        client.put("/v1/jobs", headers=headers)
        client.post(
            "/v1/jobs/bulk", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
        )
        client.get("/v1/jobs", params={"limit": 1000}, headers=headers)
        for _ in range(11):
            client.post("/v1/jobs/bulk", json={"jobs": [JOB]}, headers=headers)
        client.delete(f"/v1/jobs/{created['id']}", headers=headers)
    return path


def _broken(recorded: Path, tmp_path: Path, change: Callable[[list[dict[str, Any]]], None]) -> Path:
    """A copy of ``recorded`` with ``change`` applied to its interactions."""
    document = yaml.safe_load(recorded.read_text())
    change(document["interactions"])
    path = tmp_path / "broken" / recorded.name
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(document))
    return path


def _first(interactions: list[dict[str, Any]], method: str, path: str, status: int) -> dict[str, Any]:
    return next(
        item
        for item in interactions
        if item["request"]["method"] == method
        and item["request"]["uri"].endswith(path)
        and item["response"]["status"]["code"] == status
    )


def test_a_recorded_cassette_replays_and_conforms(recorded: Path) -> None:
    """Every interaction of a real recording replays offline and satisfies the contract."""
    result = replay_cassette(recorded, ContractValidator())
    assert result.interactions == 19
    assert result.problems == []
    statuses = {
        item["response"]["status"]["code"] for item in yaml.safe_load(recorded.read_text())["interactions"]
    }
    assert {200, 201, 204, 400, 404, 405, 422, 429} <= statuses


def test_an_undocumented_status_is_reported(recorded: Path, tmp_path: Path) -> None:
    """A response whose status the operation does not document fails validation."""

    def teapot(interactions: list[dict[str, Any]]) -> None:
        _first(interactions, "POST", "/v1/jobs", 201)["response"]["status"]["code"] = 418

    problems = replay_cassette(_broken(recorded, tmp_path, teapot), ContractValidator()).problems
    assert any("status 418 is not documented" in problem and "createJob" in problem for problem in problems)


def test_a_body_missing_a_required_field_is_reported(recorded: Path, tmp_path: Path) -> None:
    """A job without its ``id`` no longer matches the contract's Job schema."""

    def without_id(interactions: list[dict[str, Any]]) -> None:
        body = _first(interactions, "POST", "/v1/jobs", 201)["response"]["body"]
        body["string"] = body["string"].replace('"id":', '"identifier":', 1)

    problems = replay_cassette(_broken(recorded, tmp_path, without_id), ContractValidator()).problems
    assert any('"id" is a required property' in problem for problem in problems), problems


def test_a_429_without_retry_after_is_reported(recorded: Path, tmp_path: Path) -> None:
    """The contract requires Retry-After on every 429; a recording without it fails."""

    def no_retry_after(interactions: list[dict[str, Any]]) -> None:
        headers = _first(interactions, "POST", "/v1/jobs/bulk", 429)["response"]["headers"]
        headers.pop(next(name for name in headers if name.lower() == "retry-after"))

    problems = replay_cassette(_broken(recorded, tmp_path, no_retry_after), ContractValidator()).problems
    assert any("required header Retry-After is missing" in problem for problem in problems), problems


def test_a_corrupt_cassette_is_reported(tmp_path: Path) -> None:
    """A cassette that is not YAML is a problem of its own, not a crash."""
    path = tmp_path / "corrupt.yaml"
    path.write_text("interactions: [\n  - request: {")
    problems = replay_cassette(path, ContractValidator()).problems
    assert problems and "not a readable cassette" in problems[0]


def test_the_network_is_blocked_during_replay(server: RunningServer) -> None:
    """Inside ``network_blocked`` no TCP connection can be opened, even to loopback."""
    with network_blocked(), pytest.raises(httpx.ConnectError, match="during replay") as raised:
        httpx.get(server.base_url + "/v1/health", verify=server.ssl_context())
    chain: list[type[BaseException]] = []
    error: BaseException | None = raised.value
    while error is not None:
        chain.append(type(error))
        error = error.__cause__ or error.__context__
    assert NetworkBlockedError in chain


def test_placeholders_become_schema_valid_dummies() -> None:
    """Redacted secrets are validated as dummies of their kind; other text is kept."""
    body = {"token": "<redacted:jwt:1>", "key": "<redacted:api-key:2>", "note": "x <redacted:password:1> y"}
    result = rehydrate(body)
    assert result["token"].count(".") == 2 and result["key"].startswith("sk_test_")
    assert result["note"] == "x redacted y"


@pytest.fixture
def cassette_context(server: RunningServer) -> Iterator[Callable[[Path], CheckContext]]:
    """Factory: a check context on the clean server whose cassette folder is the one given."""
    contexts: list[CheckContext] = []

    def make(folder: Path) -> CheckContext:
        target = embedded_target(server)
        target.cassette_dir = folder
        contexts.append(CheckContext(target))
        return contexts[-1]

    yield make
    for context in contexts:
        context.close()
        context.target.close()


def test_cassette_replay_check_passes_then_fails_on_drift(
    recorded: Path, tmp_path: Path, cassette_context: Callable[[Path], CheckContext]
) -> None:
    """``cassette.replay`` passes on a real recording and fails, with the problem, on a drifted copy."""
    get_check("cassette.replay").run(cassette_context(recorded.parent))

    def teapot(interactions: list[dict[str, Any]]) -> None:
        _first(interactions, "POST", "/v1/jobs", 201)["response"]["status"]["code"] = 418

    broken = _broken(recorded, tmp_path, teapot)
    with pytest.raises(CheckFailed) as failure:
        get_check("cassette.replay").run(cassette_context(broken.parent))
    assert "status 418 is not documented" in failure.value.finding.message


def test_cassette_redaction_check_fails_on_an_unredacted_recording(
    recorded: Path, cassette_context: Callable[[Path], CheckContext]
) -> None:
    """The raw recording (tokens and a password in it, no redactor) fails ``cassette.redaction``."""
    with pytest.raises(CheckFailed) as failure:
        get_check("cassette.redaction").run(cassette_context(recorded.parent))
    message = failure.value.finding.message
    assert "secret(s) in the cassettes" in message and "jwt" in message
    assert "eyJ" not in message


def test_cassette_checks_skip_without_cassettes(
    tmp_path: Path, cassette_context: Callable[[Path], CheckContext]
) -> None:
    """No cassettes to check is a skip that says how to record some, never a silent pass."""
    from sergio_kit.reports.findings import CheckSkipped

    for check_id in ("cassette.replay", "cassette.redaction"):
        with pytest.raises(CheckSkipped, match="sergio-kit record"):
            get_check(check_id).run(cassette_context(tmp_path))
