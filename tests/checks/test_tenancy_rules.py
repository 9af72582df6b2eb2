"""The judgements of the tenancy, role, scope and key-hint rules that the reference server alone cannot
show: an error that echoes the id it was given, a 2xx that did nothing, a contract's own admin-only
mark (basis contract) against the packaged, assumed one (recommended), scopes named in a security
requirement, and a finding that never repeats the part of a key's secret it caught.

Each target here is an ``httpx.MockTransport`` behind a real :class:`CheckContext`; the checks' proofs
against the reference server (pass when clean, fail on each fault) are in ``test_check_proofs.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from sergio_kit.checks.apikey import needed_scopes
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.key_hint import hidden, hint, longest_run, secret_part
from sergio_kit.checks.operation_facts import object_kind, query_parameter
from sergio_kit.checks.registry import get_check
from sergio_kit.checks.tenancy.members import member_admin_only
from sergio_kit.checks.tenancy.objects import tenant_objects
from sergio_kit.contract.document import Contract, Operation, packaged_contract
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.target.target import Account, Target

BASE_URL = "https://sergio.test"
Handler = Callable[[httpx.Request], httpx.Response]
KEY = "sk_test_" + "L00kupId" + "S3cretPart0fTheKeyThirtyTwoChars"


def tenant_of(request: httpx.Request) -> str:
    """Who sent ``request``: the tenant its bearer token names (``token-<tenant>``)."""
    return str(request.headers.get("authorization", "")).removeprefix("Bearer token-")


@contextmanager
def mocked(
    handler: Handler, monkeypatch: pytest.MonkeyPatch, contract: Contract | None = None
) -> Iterator[CheckContext]:
    """A context whose target is ``handler``, held to ``contract`` (the packaged one by default), with
    both admins and a member whose bearer tokens are ``token-<tenant>``."""
    target = Target(
        base_url=BASE_URL,
        account=Account("admin@one.example", "unused"),
        other_account=Account("admin@two.example", "unused"),
        member_account=Account("crew@one.example", "unused"),
        contract=contract or packaged_contract(),
    )
    context = CheckContext(target)
    context.client.close()
    context.client = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(handler))
    monkeypatch.setattr(context, "token", lambda tenant="primary": f"token-{tenant}")
    try:
        yield context
    finally:
        context.close()


def answer(status: int, body: Any = None) -> httpx.Response:
    """A JSON response (an error shape for a 4xx without a body)."""
    if body is None and status >= 400:
        body = {"error": {"code": "not_found", "message": "no such job"}}
    return httpx.Response(status, json=body) if body is not None else httpx.Response(status)


# -- the contract's facts ------------------------------------------------------------------------


def operation(method: str, path: str) -> Operation:
    """A bearer operation at ``method`` ``path``."""
    return Operation(f"{method.lower()}Thing", method, path, "read", ("bearerAuth",), None)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/v1/jobs/{job_id}", "job"),
        ("/v1/api-keys/{key_id}/rotate", "key"),
        ("/v1/webhooks/{id}", "webhook"),
        ("/v2/invoices/{id}", None),
        ("/v1/jobs/{job_id}/notes/{note_id}", None),
        ("/v1/jobs", None),
    ],
)
def test_the_object_kind_comes_from_the_parameter_or_its_collection(path: str, kind: str | None) -> None:
    """A known parameter name, else the collection before a generic one; none for several or none."""
    assert object_kind(operation("GET", path)) == kind


def test_the_list_limit_is_read_through_references() -> None:
    """``GET /v1/jobs``'s ``limit`` is a ``$ref`` to a component parameter: its schema is found."""
    jobs = packaged_contract().operation("GET /v1/jobs")
    assert jobs is not None
    limit = query_parameter(packaged_contract(), jobs, "limit")
    assert limit is not None and limit["maximum"] == 100
    assert query_parameter(packaged_contract(), jobs, "page") is None


def zapier_contract(security: list[dict[str, list[str]]], responses: dict[str, Any]) -> Contract:
    """A contract of one Zapier operation, ``GET /zapier/v1/orders``."""
    spec = {"operationId": "orders", "security": security, "responses": responses}
    return Contract.of({"openapi": "3.1.0", "paths": {"/zapier/v1/orders": {"get": spec}}}, "test")


@pytest.mark.parametrize(
    ("security", "responses", "needs"),
    [
        ([{"apiKeyAuth": ["jobs:write"]}], {"200": {"description": "ok"}}, ("jobs:write",)),
        ([{"apiKeyAuth": []}], {"200": {"description": "ok"}, "403": {"description": "no"}}, ("jobs:read",)),
        ([{"apiKeyAuth": []}], {"200": {"description": "ok"}}, ()),
    ],
)
def test_the_scope_an_operation_needs_comes_from_the_contract(
    security: list[dict[str, list[str]]],
    responses: dict[str, Any],
    needs: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scopes named in the security requirement win; else a declared 403 makes a GET need jobs:read;
    an operation with neither (a connection test) needs nothing."""
    contract = zapier_contract(security, responses)
    with mocked(lambda request: answer(404), monkeypatch, contract) as context:
        assert needed_scopes(context, contract.operations[0]) == needs


def test_the_packaged_connection_test_needs_no_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """``GET /zapier/v1/me`` declares no 403: any valid key may call it; the trigger needs jobs:read."""
    with mocked(lambda request: answer(404), monkeypatch) as context:
        me, trigger = (
            context.contract.operation(label)
            for label in ("GET /zapier/v1/me", "GET /zapier/v1/triggers/new-job")
        )
        assert me is not None and trigger is not None
        assert needed_scopes(context, me) == ()
        assert needed_scopes(context, trigger) == ("jobs:read",)


# -- auth.tenant.objects -------------------------------------------------------------------------


def jobs_api(other: Callable[[httpx.Request, dict[str, Any]], httpx.Response]) -> Handler:
    """The primary company's jobs (create, read, patch, delete by their owner); every call of another
    tenant on a job goes to ``other(request, the job)``."""
    store: dict[str, dict[str, Any]] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/jobs":
            job = {"id": f"job_{len(store) + 1}", **json.loads(request.content)}
            store[job["id"]] = job
            return answer(201, job)
        job_id = path.rsplit("/", 1)[-1]
        if job_id not in store:
            return answer(404)
        if tenant_of(request) != "primary":
            return other(request, store[job_id])
        if request.method == "DELETE":
            store.pop(job_id)
            return answer(204)
        if request.method == "PATCH":
            store[job_id].update(json.loads(request.content))
        return answer(200, store[job_id])

    return handle


def only_jobs(context: CheckContext) -> None:
    """Hold the context to the job operations only (no webhooks, keys or Zapier surface to plant)."""
    context.operations = [
        op for op in context.operations if op.path.startswith("/v1/jobs") and "bulk" not in op.path
    ]


def test_an_error_that_echoes_the_id_is_no_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 404 whose message repeats the id the caller sent shows none of the job's data: a pass."""

    def echoing(request: httpx.Request, job: dict[str, Any]) -> httpx.Response:
        return answer(404, {"error": {"code": "not_found", "message": f"no job {job['id']}"}})

    with mocked(jobs_api(echoing), monkeypatch) as context:
        only_jobs(context)
        detail = tenant_objects(context)
    assert detail is not None and detail.startswith(
        "3 operation(s) gave another company's admin no data and no change"
    )


def test_a_2xx_that_did_nothing_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DELETE answered 204 that left the job alone breaks no tenancy rule, but warns: the caller
    cannot tell it was refused."""

    def idempotent(request: httpx.Request, job: dict[str, Any]) -> httpx.Response:
        return answer(204) if request.method == "DELETE" else answer(404)

    with mocked(jobs_api(idempotent), monkeypatch) as context, pytest.raises(CheckFailed) as failure:
        only_jobs(context)
        tenant_objects(context)
    assert failure.value.basis == "recommended"
    assert "DELETE /v1/jobs/{job_id} as another company's admin answered 204" in failure.value.finding.message


def test_a_change_without_data_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATCH answered 404 that changed the job after all fails: the owner reads it back changed."""

    def sneaky(request: httpx.Request, job: dict[str, Any]) -> httpx.Response:
        if request.method == "PATCH":
            job.update(json.loads(request.content))
        return answer(404)

    with mocked(jobs_api(sneaky), monkeypatch) as context, pytest.raises(CheckFailed) as failure:
        only_jobs(context)
        tenant_objects(context)
    assert failure.value.basis is None  # the check's own rule: documented
    assert (
        failure.value.finding.message
        == "PATCH /v1/jobs/{job_id} as another company's admin changed this company's job"
    )


# -- auth.member.admin_only ----------------------------------------------------------------------


def reports_contract(*, assumed: bool) -> Contract:
    """A contract whose one bearer operation, ``GET /v1/reports``, is marked admin-only (and assumed
    when ``assumed``)."""
    spec: dict[str, Any] = {
        "operationId": "listReports",
        "x-sergio-admin-only": True,
        "responses": {"200": {}},
    }
    if assumed:
        spec["x-sergio-assumed"] = True
    document = {"openapi": "3.1.0", "security": [{"bearerAuth": []}], "paths": {"/v1/reports": {"get": spec}}}
    return Contract.of(document, "test")


@pytest.mark.parametrize(("assumed", "basis"), [(False, "contract"), (True, "recommended")])
def test_a_member_served_fails_by_the_marks_basis(
    assumed: bool, basis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member answered 200 on an admin-only operation: a failure of the contract's own mark, a
    warning of the kit's assumed one."""
    with (
        mocked(
            lambda request: answer(200, {"data": []}), monkeypatch, reports_contract(assumed=assumed)
        ) as context,
        pytest.raises(CheckFailed) as failure,
    ):
        member_admin_only(context)
    assert failure.value.basis == basis
    assert (
        failure.value.finding.message == "GET /v1/reports as a member (not an admin) was not refused: got 200"
    )


@pytest.mark.parametrize(("status", "warns"), [(403, False), (404, False), (400, True)])
def test_a_refusal_is_403_or_404(status: int, warns: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """403 and 404 keep the rule silently; another refusal warns (403 expected)."""
    with mocked(lambda request: answer(status), monkeypatch, reports_contract(assumed=False)) as context:
        if warns:
            with pytest.raises(CheckFailed, match="was refused with 400") as failure:
                member_admin_only(context)
            assert failure.value.basis == "recommended"
        else:
            assert member_admin_only(context) == "1 admin-only operation(s) refused to a member"


# -- apikey.hint ---------------------------------------------------------------------------------


def test_a_run_longer_than_the_hint_is_found_and_hidden() -> None:
    """Four characters of the secret part are a hint; five are a leak, and the finding hides them."""
    secret = secret_part(KEY)
    assert secret == KEY[-32:] and not secret.startswith("sk_")
    assert longest_run(secret, f"...{secret[-4:]}") == ""
    assert longest_run(secret, f"hint: {secret[3:15]}!") == secret[3:15]
    assert hidden(f"prefix {KEY[:28]} end", [secret]) == f"prefix {KEY[:16]}[part of a key's secret] end"


def key_api(listed: Callable[[str], str]) -> Handler:
    """Key management and the Zapier surface: the listing shows ``listed(key)`` as each key's prefix."""
    keys: dict[str, str] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/api-keys":
            keys["key_1"] = KEY
            return answer(201, {"id": "key_1", "key": KEY, "prefix": KEY[:12]})
        if path == "/v1/api-keys":
            return answer(
                200, {"data": [{"id": key_id, "prefix": listed(key)} for key_id, key in keys.items()]}
            )
        if path.endswith("/rotate"):
            keys["key_1"] = KEY[:16] + KEY[16:][::-1]
            return answer(200, {"id": "key_1", "key": keys["key_1"]})
        if request.method == "DELETE":
            return answer(204)
        return answer(200, {})

    return handle


def test_a_listing_that_shows_part_of_the_secret_warns_without_repeating_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The listing shows 12 characters of the secret part: a warning whose finding shows none of them."""
    with mocked(key_api(lambda key: key[:28]), monkeypatch) as context, pytest.raises(CheckFailed) as failure:
        hint(context)
    finding = failure.value.finding
    assert finding.message.startswith("GET /v1/api-keys: the response body shows 12 consecutive characters")
    assert failure.value.basis is None  # the check's own rule: recommended
    assert not longest_run(secret_part(KEY), json.dumps(finding.as_dict()))


def test_a_listing_with_the_published_prefix_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The published prefix (the key's first 12 characters) shows none of the secret part."""
    with mocked(key_api(lambda key: key[:12]), monkeypatch) as context:
        assert (
            hint(context)
            == "the key listing, the Zapier operations and the rotation show no more than a hint"
        )


# -- what the checks need ------------------------------------------------------------------------


def refusing_everything(request: httpx.Request) -> httpx.Response:
    """A target no check may reach: every request fails the test."""
    raise AssertionError(f"sent {request.method} {request.url.path}")


@pytest.mark.parametrize(
    ("check_id", "reason"),
    [
        ("auth.tenant.objects", "needs a second company's admin"),
        ("auth.tenant.lists", "needs a second company's admin"),
        ("auth.member.admin_only", "needs a member (not an admin) of the first company"),
    ],
)
def test_without_the_other_users_the_checks_skip_before_sending(
    check_id: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No second company or no member: a skip naming what to set, before any request."""
    with mocked(refusing_everything, monkeypatch) as context:
        context.target.other_account = None
        context.target.member_account = None
        with pytest.raises(CheckSkipped, match=re.escape(reason)):
            get_check(check_id).run(context)


def test_without_objects_by_id_or_admin_marks_the_checks_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    """A contract with no operation on one object, and none marked admin-only: both checks skip,
    saying so, before any request."""
    packaged = packaged_contract()
    by_id = [op.label for op in packaged.operations if "{" in op.path]
    marked = [op.label for op in packaged.operations if op.admin_only]
    with mocked(refusing_everything, monkeypatch, packaged.without([*by_id, *marked], "test")) as context:
        with pytest.raises(CheckSkipped, match="no operation on one job, webhook or API key"):
            get_check("auth.tenant.objects").run(context)
        with pytest.raises(CheckSkipped, match="declares no admin-only operation"):
            get_check("auth.member.admin_only").run(context)
