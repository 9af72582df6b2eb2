"""Routing (405 with Allow, 404) and hostile request bodies and query strings: always a 4xx, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sergio_kit.contract.document import operations
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import start_server
from tests.support.api import JOB, bearer, client_for, login, seeded_accounts

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
PATH_VALUES = {
    "job_id": "job_0123456789abcdef",
    "webhook_id": "whk_0123456789abcdef",
    "key_id": "key_0123456789ab",
}
ALLOWED: dict[str, set[str]] = {}
for _op in operations():
    ALLOWED.setdefault(_op.path, set()).add(_op.method)


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    """``response`` is ``status`` with the ``{"error": {"code", "message"}}`` shape and ``code``."""
    assert response.status_code == status, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


# -- routing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(ALLOWED))
def test_undeclared_methods_get_405_with_the_contracts_allow(api: httpx.Client, path: str) -> None:
    """Each method the contract does not declare on a path → 405, Allow listing exactly the declared ones."""
    url = path.format(**PATH_VALUES)
    for method in sorted(set(METHODS) - ALLOWED[path]):
        response = api.request(method, url)
        assert response.status_code == 405, f"{method} {path}: {response.status_code}"
        allow = {m.strip() for m in response.headers["allow"].split(",")}
        assert allow == ALLOWED[path], f"{method} {path}: Allow {response.headers['allow']}"
        assert len(response.headers["allow"].split(",")) == len(ALLOWED[path])
        if method != "HEAD":
            assert_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v1",
        "/v2/jobs",
        "/v1/job",
        "/v1/jobs/",
        "/V1/JOBS",
        "/v1/jobs/job_1/x",
        "/zapier/v1/triggers/old",
    ],
)
def test_unknown_path_gets_404_with_the_error_shape(api: httpx.Client, path: str) -> None:
    """A path outside the contract → 404 not_found with the error shape (never a redirect), GET or POST."""
    for response in (api.get(path), api.post(path, json={}, headers={"Host": "evil.example"})):
        assert_error(response, 404, "not_found")
        assert "location" not in response.headers


# -- hostile bodies --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """An operation with a JSON body: how to call it and where a constrained string field sits."""

    method: str
    path: str
    valid: dict[str, Any]
    wrong_types: dict[str, Any]
    missing: dict[str, Any]
    constrained: Callable[[str], dict[str, Any]]  # the valid body with a constrained field set to a string


ADDRESS = JOB["address"]
TARGETS: dict[str, Target] = {
    "login": Target(
        "POST",
        "/v1/auth/login",
        {"email": "admin@acme.test", "password": "acme-admin-test-only"},
        {"email": 1, "password": ["x"]},
        {"email": "admin@acme.test"},
        lambda s: {"email": s, "password": "x"},
    ),
    "createJob": Target(
        "POST",
        "/v1/jobs",
        JOB,
        {**JOB, "scheduled_date": 20260215, "address": "1 High St"},
        {k: v for k, v in JOB.items() if k != "customer_id"},
        lambda s: {**JOB, "customer_id": s},
    ),
    "createWebhook": Target(
        "POST",
        "/v1/webhooks",
        {"url": "https://hooks.example.com/x", "events": ["job.created"]},
        {"url": 1, "events": "job.created"},
        {"events": ["job.created"]},
        lambda s: {"url": "https://hooks.example.com/x", "events": [s]},
    ),
    "createApiKey": Target(
        "POST",
        "/v1/api-keys",
        {"name": "zap", "scopes": ["jobs:read"]},
        {"name": 5, "scopes": "jobs:read"},
        {"name": "zap"},
        lambda s: {"name": "zap", "scopes": [s]},
    ),
    "bulkCreateJobs": Target(
        "POST",
        "/v1/jobs/bulk",
        {"jobs": [JOB]},
        {"jobs": {"0": JOB}},
        {},
        lambda s: {"jobs": s},
    ),
    "updateJob": Target(
        "PATCH",
        "/v1/jobs/{job_id}",
        {"status": "completed"},
        {"status": 1, "address": [ADDRESS]},
        {},
        lambda s: {"status": s},
    ),
}

TWO_MIB = 2 * 1024 * 1024
# name -> (body bytes from the target, expected status, expected code)
BAD_BODIES: dict[str, tuple[Callable[[Target], bytes], int, str]] = {
    "truncated-json": (lambda t: json.dumps(t.valid).encode()[:-3], 400, "invalid_request"),
    "single-quotes": (lambda t: b"{'email': 'a'}", 400, "invalid_request"),
    "trailing-garbage": (lambda t: json.dumps(t.valid).encode() + b"}x", 400, "invalid_request"),
    "nan-literal": (lambda t: b'{"x": NaN}', 400, "invalid_request"),
    "empty-body": (lambda t: b"", 400, "invalid_request"),
    "invalid-utf8": (lambda t: b'{"name": "\xff\xfe"}', 400, "invalid_request"),
    "json-array": (lambda t: json.dumps([t.valid]).encode(), 422, "validation_error"),
    "empty-array": (lambda t: b"[]", 422, "validation_error"),
    "json-null": (lambda t: b"null", 422, "validation_error"),
    "json-string": (lambda t: b'"hello"', 422, "validation_error"),
    "wrong-types": (lambda t: json.dumps(t.wrong_types).encode(), 422, "validation_error"),
    "missing-fields": (lambda t: json.dumps(t.missing).encode(), 422, "validation_error"),
    "extra-field": (lambda t: json.dumps({**t.valid, "is_admin": True}).encode(), 422, "validation_error"),
    "two-mib": (lambda t: json.dumps({**t.valid, "pad": "a" * TWO_MIB}).encode(), 413, "invalid_request"),
    "nested-100000": (lambda t: b"[" * 100_000, 400, "invalid_request"),
    "nested-balanced": (lambda t: b"[" * 100_000 + b"]" * 100_000, 400, "invalid_request"),
    "nested-objects": (lambda t: b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400, "invalid_request"),
    "lone-surrogate": (lambda t: json.dumps(t.constrained("\ud800")).encode(), 400, "invalid_request"),
    "lone-low-surrogate": (lambda t: json.dumps(t.constrained("x\udfffy")).encode(), 400, "invalid_request"),
    "surrogate-key": (lambda t: json.dumps({**t.valid, "\udbff": 1}).encode(), 400, "invalid_request"),
    "nul": (lambda t: json.dumps(t.constrained("\u0000")).encode(), 422, "validation_error"),
    "rtl-override": (
        lambda t: json.dumps(t.constrained("\u202ejobs:read")).encode(),
        422,
        "validation_error",
    ),
    "emoji": (lambda t: json.dumps(t.constrained("\U0001f600")).encode(), 422, "validation_error"),
    "huge-integer": (
        lambda t: json.dumps(t.constrained("x")).encode()[:-1] + b',"n":' + b"9" * 5000 + b"}",
        400,
        "invalid_request",
    ),
}


@pytest.fixture
def admin_headers(api: httpx.Client, accounts: dict[str, Any]) -> dict[str, str]:
    """JSON content type plus a bearer token of Acme's admin."""
    return {"Content-Type": "application/json", **bearer(login(api, accounts["acme"]["admin"])["token"])}


def _url(api: httpx.Client, operation_id: str, headers: dict[str, str]) -> str:
    path = TARGETS[operation_id].path
    if "{job_id}" in path:
        job = api.post("/v1/jobs", json=JOB, headers=headers)
        assert job.status_code == 201
        path = path.format(job_id=job.json()["id"])
    return path


@pytest.mark.parametrize("operation_id", list(TARGETS))
def test_bad_bodies_get_a_4xx_error(
    api: httpx.Client, clock: TestClock, admin_headers: dict[str, str], operation_id: str
) -> None:
    """Malformed, mistyped, incomplete, oversized, deeply nested or odd-unicode bodies → the documented
    4xx with the error shape, never a 5xx (every case of BAD_BODIES, each in a fresh rate-limit window)."""
    target = TARGETS[operation_id]
    url = _url(api, operation_id, admin_headers)
    headers = admin_headers if operation_id != "login" else {"Content-Type": "application/json"}
    wrong: list[str] = []
    for case, (make, status, code) in BAD_BODIES.items():
        clock.advance(FRESH_WINDOW_SECONDS)
        response = api.request(target.method, url, content=make(target), headers=headers)
        try:
            assert_error(response, status, code)
        except (AssertionError, ValueError, KeyError):
            wrong.append(
                f"{case}: expected {status} {code}, got {response.status_code} {response.text[:120]}"
            )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("operation_id", list(TARGETS))
def test_valid_body_control(api: httpx.Client, admin_headers: dict[str, str], operation_id: str) -> None:
    """Control: each target's valid body succeeds, so each 4xx of the bad bodies is the input's doing."""
    target = TARGETS[operation_id]
    url = _url(api, operation_id, admin_headers)
    headers = admin_headers if operation_id != "login" else {"Content-Type": "application/json"}
    response = api.request(target.method, url, content=json.dumps(target.valid).encode(), headers=headers)
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize(
    "text", ["\u0000nul", "\u202eevil\u202c", "\U0001f600\U0001f9fd", "e\u0301", "\ufeff"]
)
def test_odd_but_valid_unicode_in_free_text_round_trips(
    api: httpx.Client, admin_headers: dict[str, str], text: str
) -> None:
    """NUL, RTL overrides, emoji, combining marks and a BOM in free text are stored and returned exactly."""
    job = api.post("/v1/jobs", content=json.dumps({**JOB, "notes": text}), headers=admin_headers)
    assert job.status_code == 201, job.text
    assert job.json()["notes"] == text
    assert api.get(f"/v1/jobs/{job.json()['id']}", headers=admin_headers).json()["notes"] == text
    key = api.post(
        "/v1/api-keys", content=json.dumps({"name": text, "scopes": ["jobs:read"]}), headers=admin_headers
    )
    assert key.status_code == 201, key.text
    assert key.json()["name"] == text


# -- arbitrary JSON (Hypothesis) ---------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)  # surrogates included
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=12,
)
LOGIN_LIKE = st.dictionaries(st.sampled_from(["email", "password"]) | _TEXT, JSON_VALUES, max_size=4)
JOB_LIKE = (
    st.fixed_dictionaries({}, optional={k: JSON_VALUES | st.just(v) for k, v in JOB.items()}) | JSON_VALUES
)


def _post_never_5xx(
    api: httpx.Client, clock: TestClock, path: str, body: Any, headers: dict[str, str]
) -> None:
    content = json.dumps(body).encode()  # ASCII escapes, so lone surrogates travel as "\udxxx"
    response = api.post(path, content=content, headers=headers)
    if response.status_code == 429:  # a full window: move the server clock past it and retry once
        clock.advance(FRESH_WINDOW_SECONDS)
        response = api.post(path, content=content, headers=headers)
    assert response.status_code < 500, f"{path} {content[:200]!r} -> {response.status_code}"
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"code", "message"}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=LOGIN_LIKE | JSON_VALUES)
def test_arbitrary_json_to_login_never_gets_a_5xx(api: httpx.Client, clock: TestClock, body: Any) -> None:
    """Any JSON value posted to login → a 2xx or 4xx with the error shape, never a 5xx."""
    _post_never_5xx(api, clock, "/v1/auth/login", body, {"Content-Type": "application/json"})


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JOB_LIKE)
def test_arbitrary_json_to_create_job_never_gets_a_5xx(
    api: httpx.Client, clock: TestClock, admin_headers: dict[str, str], body: Any
) -> None:
    """Any JSON value, or JobCreate with fields swapped for arbitrary JSON, at createJob → never a 5xx."""
    _post_never_5xx(api, clock, "/v1/jobs", body, admin_headers)


# -- listJobs query parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    "limit", ["0", "101", "-1", "abc", "1.5", "", " 5", "\uff15", "1e1", "9" * 30, "0x10"]
)
def test_list_jobs_limit_out_of_range_or_not_an_integer_gets_422(
    api: httpx.Client, admin_headers: dict[str, str], limit: str
) -> None:
    """``limit`` outside 1..100 or not a plain integer → 422 validation_error."""
    assert_error(api.get("/v1/jobs", params={"limit": limit}, headers=admin_headers), 422, "validation_error")


@pytest.mark.parametrize(
    "cursor", ["!!!", "not a cursor", "bm90LWEtY3Vyc29y", "c2VxOi0x", "c2VxOmFiYw", "é", "%00", "x" * 300]
)
def test_list_jobs_bad_cursor_gets_400(api: httpx.Client, admin_headers: dict[str, str], cursor: str) -> None:
    """A cursor that is not one the server issued → 400 invalid_request."""
    assert_error(
        api.get("/v1/jobs", params={"cursor": cursor}, headers=admin_headers), 400, "invalid_request"
    )


def test_paging_with_limit_2_returns_each_job_once(tmp_path: Path, server_template: Path) -> None:
    """On a fresh server, 5 jobs paged with limit=2 come back as pages of 2, 2, 1, each job exactly once,
    oldest first, with next_cursor null on the last page."""
    fresh = start_server(tmp_path / "paging", template=server_template)
    try:
        admin = seeded_accounts(fresh)["acme"]["admin"]
        with client_for(fresh) as client:
            headers = bearer(login(client, admin)["token"])
            created = [client.post("/v1/jobs", json=JOB, headers=headers).json()["id"] for _ in range(5)]
            seen: list[list[str]] = []
            params: dict[str, Any] = {"limit": 2}
            while True:
                page = client.get("/v1/jobs", params=params, headers=headers)
                assert page.status_code == 200, page.text
                seen.append([job["id"] for job in page.json()["data"]])
                if page.json()["next_cursor"] is None:
                    break
                params = {"limit": 2, "cursor": page.json()["next_cursor"]}
                assert len(seen) <= 5
    finally:
        fresh.stop()
    assert [len(ids) for ids in seen] == [2, 2, 1]
    assert [job_id for ids in seen for job_id in ids] == created
