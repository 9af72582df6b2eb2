"""``sergio-kit record`` end to end: a real CLI process records the tour against the embedded server."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from sergio_kit.cassettes.record import STABLE_RECEIVER, STABLE_SERVER
from sergio_kit.cassettes.tour import FLOWS
from sergio_kit.contract.document import operations
from sergio_kit.contract.resources import accounts_path
from sergio_kit.reports.redaction import API_KEY, JWT, WEBHOOK_SECRET
from sergio_kit.server.tls import issue_receiver_cert
from sergio_kit.target.embedded import start_server
from tests.support.kit_process import run_kit

PLACEHOLDER = re.compile(r"<redacted:([a-z-]+):(\d+)>")
RESOURCE_ID = re.compile(r"\b(job|whk|key|evt|dlv)_[A-Za-z0-9]+")

Interaction = dict[str, Any]


def record(out: Path) -> None:
    """Run ``sergio-kit record --out OUT`` against the embedded server; it must succeed."""
    result = run_kit("record", "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def load(path: Path) -> list[Interaction]:
    """The interactions of one cassette."""
    interactions: list[Interaction] = yaml.safe_load(path.read_text())["interactions"]
    return interactions


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cassettes of one recording."""
    out = tmp_path_factory.mktemp("cassettes")
    record(out)
    return out


@pytest.fixture(scope="module")
def cassettes(recorded: Path) -> dict[str, list[Interaction]]:
    """Each flow's interactions, by flow name."""
    return {name: load(recorded / f"{name}.yaml") for name, _ in FLOWS}


def all_interactions(cassettes: dict[str, list[Interaction]]) -> Iterator[Interaction]:
    """Every interaction of every cassette."""
    for interactions in cassettes.values():
        yield from interactions


def body(message: dict[str, Any]) -> Any:
    """A recorded request's or response's JSON body (``None`` when empty)."""
    raw = message["body"]["string"] if isinstance(message["body"], dict) else message["body"]
    return json.loads(raw) if raw else None


def header(message: dict[str, Any], name: str) -> str | None:
    """A recorded header's first value, by case-insensitive name."""
    for key, values in message["headers"].items():
        if key.lower() == name.lower():
            return str(values[0])
    return None


def test_every_flow_has_a_cassette_and_nothing_else_is_left(recorded: Path) -> None:
    """One ``<flow>.yaml`` per flow, each with interactions, and no scratch files left behind."""
    assert sorted(p.name for p in recorded.iterdir()) == sorted(f"{name}.yaml" for name, _ in FLOWS)
    for name, _ in FLOWS:
        assert load(recorded / f"{name}.yaml"), f"{name}.yaml has no interactions"


def test_the_tour_covers_every_contract_operation(cassettes: dict[str, list[Interaction]]) -> None:
    """Every (method, path template) of the contract is recorded at least once."""
    templates = {
        (op.method, op.path): re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.path)))
        for op in operations()
    }
    seen = set()
    for interaction in all_interactions(cassettes):
        request = interaction["request"]
        path = urlsplit(request["uri"]).path
        for (method, template), pattern in templates.items():
            if method == request["method"] and pattern.fullmatch(path):
                seen.add((method, template))
    assert set(templates) - seen == set()


def test_a_429_with_retry_after_is_recorded(cassettes: dict[str, list[Interaction]]) -> None:
    """The ratelimit flow ends its bulk requests with a 429 carrying Retry-After in seconds."""
    throttled = [i["response"] for i in cassettes["ratelimit"] if i["response"]["status"]["code"] == 429]
    assert len(throttled) == 1
    retry_after = header(throttled[0], "Retry-After")
    assert retry_after is not None and retry_after.isdigit() and 1 <= int(retry_after) <= 60
    assert cassettes["ratelimit"][0]["response"]["status"]["code"] == 200  # admitted before the 429


def test_a_refresh_rotation_is_recorded(cassettes: dict[str, list[Interaction]]) -> None:
    """A refresh spends the login's refresh token and returns a new token and a new refresh token."""
    login, refresh = (cassettes["auth"][0], cassettes["auth"][2])
    assert urlsplit(refresh["request"]["uri"]).path == "/v1/auth/refresh"
    assert refresh["response"]["status"]["code"] == 200
    issued, rotated = body(login["response"]), body(refresh["response"])
    assert body(refresh["request"])["refresh_token"] == issued["refresh_token"]
    assert PLACEHOLDER.fullmatch(rotated["refresh_token"])
    assert rotated["refresh_token"] != issued["refresh_token"]
    assert rotated["token"] != issued["token"]


def test_the_webhook_delivery_is_recorded_redacted(cassettes: dict[str, list[Interaction]]) -> None:
    """The job.created delivery the receiver got is in the webhooks cassette, its signature redacted."""
    deliveries = [i for i in cassettes["webhooks"] if urlsplit(i["request"]["uri"]).netloc == STABLE_RECEIVER]
    assert len(deliveries) == 1
    request, response = deliveries[0]["request"], deliveries[0]["response"]
    assert request["method"] == "POST"
    assert header(request, "X-Sergio-Event") == "job.created"
    assert PLACEHOLDER.fullmatch(header(request, "X-Sergio-Signature") or "")
    assert body(request)["type"] == "job.created"
    assert response["status"]["code"] == 200


def test_every_flow_deletes_what_it_created(cassettes: dict[str, list[Interaction]]) -> None:
    """Every id a flow created (201, or a bulk create) is deleted with a 204 in the same cassette."""
    for name, interactions in cassettes.items():
        created, deleted = set(), set()
        for interaction in interactions:
            request, response = interaction["request"], interaction["response"]
            status, path = response["status"]["code"], urlsplit(request["uri"]).path
            if request["method"] == "POST" and status == 201:
                created.add(body(response)["id"])
            elif request["method"] == "POST" and path == "/v1/jobs/bulk" and status == 200:
                created |= {job["id"] for job in body(response)["created"]}
            elif request["method"] == "DELETE" and status == 204:
                deleted.add(path.rsplit("/", 1)[-1])
        assert created - deleted == set(), f"{name} left {sorted(created - deleted)} behind"


def test_no_secret_is_written(recorded: Path) -> None:
    """No JWT, API key, webhook secret or seeded password appears in any cassette."""
    accounts = tomllib.loads(accounts_path().read_text())
    passwords = [user["password"] for company in accounts["companies"] for user in company["users"]]
    for path in recorded.iterdir():
        text = path.read_text()
        for pattern in (JWT, API_KEY, WEBHOOK_SECRET):
            assert pattern.search(text) is None, f"{path.name} contains a {pattern.pattern} match"
        for password in passwords:
            assert password not in text, f"{path.name} contains a seeded password"
        assert STABLE_SERVER in text  # the ephemeral port is written as the fixed one


def shape(path: Path) -> list[tuple[str, str, int]]:
    """A cassette's (method, URL with ids normalised, status) sequence."""
    return [
        (
            i["request"]["method"],
            RESOURCE_ID.sub(r"\1_ID", i["request"]["uri"]),
            i["response"]["status"]["code"],
        )
        for i in load(path)
    ]


def test_recording_again_gives_the_same_exchanges(recorded: Path, tmp_path: Path) -> None:
    """A second recording has the same requests, in the same order, with the same statuses."""
    record(tmp_path)
    for name, _ in FLOWS:
        assert shape(tmp_path / f"{name}.yaml") == shape(recorded / f"{name}.yaml"), name


@pytest.mark.parametrize(
    ("arguments", "env", "expected"),
    [
        (["--base-url", "https://127.0.0.1:9"], {}, "needs a login"),
        (["--base-url", "http://127.0.0.1:9"], {}, "expected an https:// URL"),
        (["--ca-bundle", "pyproject.toml"], {}, "--ca-bundle only applies to a live target"),
    ],
)
def test_configuration_errors_are_one_line(
    tmp_path: Path, arguments: list[str], env: dict[str, str], expected: str
) -> None:
    """A misconfigured recording exits 2 with one line, without touching the output folder."""
    result = run_kit("record", "--out", str(tmp_path / "out"), *arguments, env=env, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_help_explains_every_option() -> None:
    """``record --help`` names every option and where the credentials come from."""
    result = run_kit("record", "--help", timeout=30)
    text = " ".join(result.stdout.split())
    for word in (
        "--base-url",
        "--ca-bundle",
        "--out",
        "SERGIO_EMAIL",
        "SERGIO_PASSWORD",
        "SERGIO_OTHER_EMAIL",
    ):
        assert word in text


def test_a_live_target_is_recorded_with_its_own_address(tmp_path: Path, server_template: Path) -> None:
    """Against a target given by --base-url (credentials from SERGIO_*), the cassettes keep its
    address, and the delivery is recorded when SERGIO_RECEIVER_CERT names a certificate it trusts."""
    server = start_server(tmp_path / "server", template=server_template, plain_http=False)
    try:
        admin = next(u for u in server.credentials()["companies"][0]["users"] if u["role"] == "admin")
        assert server.clock_url is not None and server.clock_token is not None
        env = {
            "SERGIO_EMAIL": admin["email"],
            "SERGIO_PASSWORD": admin["password"],
            "SERGIO_CLOCK_URL": server.clock_url,
            "SERGIO_CLOCK_TOKEN": server.clock_token,
            "SERGIO_RECEIVER_CERT": str(issue_receiver_cert(server.data_dir, tmp_path / "receiver.pem")),
        }
        out = tmp_path / "out"
        arguments = ("--base-url", server.base_url, "--ca-bundle", str(server.ca_cert), "--out", str(out))
        result = run_kit("record", *arguments, env=env, timeout=120)
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    webhooks = load(out / "webhooks.yaml")
    assert {urlsplit(i["request"]["uri"]).netloc for i in webhooks} == {
        urlsplit(server.base_url).netloc,
        STABLE_RECEIVER,
    }
    for path in out.iterdir():
        text = path.read_text()
        assert admin["password"] not in text and server.clock_token not in text
        assert "/_sergio/clock" not in text, f"{path.name} recorded a test-clock call"


def test_an_off_script_answer_fails_and_keeps_the_old_cassettes(
    tmp_path: Path, server_template: Path
) -> None:
    """When the target answers a step off-script the run exits 1 with one line naming the flow and
    step, and the cassettes already in the output folder stay as they were."""
    server = start_server(
        tmp_path / "server", template=server_template, plain_http=False, faults=["refresh.rotation"]
    )
    out = tmp_path / "out"
    out.mkdir()
    (out / "auth.yaml").write_text("old\n")
    try:
        admin = next(u for u in server.credentials()["companies"][0]["users"] if u["role"] == "admin")
        env = {"SERGIO_EMAIL": admin["email"], "SERGIO_PASSWORD": admin["password"]}
        arguments = ("--base-url", server.base_url, "--ca-bundle", str(server.ca_cert), "--out", str(out))
        result = run_kit("record", *arguments, env=env, timeout=120)
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "auth flow, use the refreshed token: GET /v1/jobs answered 401" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert [p.name for p in out.iterdir()] == ["auth.yaml"]
    assert (out / "auth.yaml").read_text() == "old\n"
