"""Static checks of ``contracts/sergio.openapi.yaml``, the contract every other part of the kit reads.

These tests need no server: they check that the document is valid OpenAPI 3.1, that it declares
exactly the endpoints of the Sergio API (operation ids, methods, paths, statuses, security, rate
tiers), that every tiered operation documents its 429, that every assumption carries a reason, and
that Schemathesis loads it (operations and OpenAPI links) without complaint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from schemathesis.core.result import Err

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "sergio.openapi.yaml"

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
RATE_TIERS = frozenset({"auth", "read", "write", "webhook", "bulk"})

Document = dict[str, Any]


@dataclass(frozen=True)
class Expected:
    """One row of the endpoint table the contract (and the reference server) is built to."""

    method: str
    path: str
    security: str  # "bearer", "apiKey" or "none"
    tier: str
    success: str
    others: frozenset[str]  # the other statuses: errors, and an allowed alternative success


def _row(method: str, path: str, security: str, tier: str, success: str, others: str) -> Expected:
    return Expected(method, path, security, tier, success, frozenset(others.split()))


EXPECTED: dict[str, Expected] = {
    "login": _row("post", "/v1/auth/login", "none", "auth", "200", "400 401 413 422 429"),
    "refreshToken": _row("post", "/v1/auth/refresh", "none", "auth", "200", "400 401 413 422 429"),
    "logout": _row("post", "/v1/auth/logout", "bearer", "auth", "204", "400 401 413 422 429"),
    "getJwks": _row("get", "/.well-known/jwks.json", "none", "read", "200", "429"),
    "getHealth": _row("get", "/v1/health", "none", "read", "200", "429"),
    "listJobs": _row("get", "/v1/jobs", "bearer", "read", "200", "400 401 404 422 429"),
    "createJob": _row("post", "/v1/jobs", "bearer", "write", "201", "400 401 413 422 429"),
    "bulkCreateJobs": _row("post", "/v1/jobs/bulk", "bearer", "bulk", "200", "400 401 413 422 429"),
    "getJob": _row("get", "/v1/jobs/{job_id}", "bearer", "read", "200", "401 404 429"),
    "updateJob": _row("patch", "/v1/jobs/{job_id}", "bearer", "write", "200", "400 401 413 404 422 429"),
    "deleteJob": _row("delete", "/v1/jobs/{job_id}", "bearer", "write", "204", "401 404 429"),
    "listWebhooks": _row("get", "/v1/webhooks", "bearer", "read", "200", "401 429"),
    "createWebhook": _row("post", "/v1/webhooks", "bearer", "webhook", "201", "400 401 413 422 429"),
    "deleteWebhook": _row("delete", "/v1/webhooks/{webhook_id}", "bearer", "write", "204", "401 404 429"),
    "listApiKeys": _row("get", "/v1/api-keys", "bearer", "read", "200", "401 403 429"),
    "createApiKey": _row("post", "/v1/api-keys", "bearer", "write", "201", "400 401 413 403 422 429"),
    # 201: the same new key, from a deployment answering a rotation as a creation (variant rotation-201)
    "rotateApiKey": _row(
        "post", "/v1/api-keys/{key_id}/rotate", "bearer", "write", "200", "201 401 403 404 429"
    ),
    "revokeApiKey": _row("delete", "/v1/api-keys/{key_id}", "bearer", "write", "204", "401 403 404 429"),
    "zapierMe": _row("get", "/zapier/v1/me", "apiKey", "read", "200", "401 429"),
    "zapierNewJobTrigger": _row("get", "/zapier/v1/triggers/new-job", "apiKey", "read", "200", "401 403 429"),
    "zapierCreateJob": _row(
        "post", "/zapier/v1/actions/create-job", "apiKey", "write", "201", "400 401 413 403 422 429"
    ),
}

SECURITY_REQUIREMENTS: dict[str, list[dict[str, list[str]]]] = {
    "bearer": [{"bearerAuth": []}],
    "apiKey": [{"apiKeyAuth": []}],
    "none": [],
}


@dataclass(frozen=True)
class Operation:
    """An operation of the document's ``paths``, with its method and path."""

    method: str
    path: str
    definition: Mapping[str, Any]

    @property
    def operation_id(self) -> str | None:
        """The operation's ``operationId``, if it has one."""
        value = self.definition.get("operationId")
        return value if isinstance(value, str) else None


@pytest.fixture(scope="module")
def document() -> Document:
    """The contract, parsed from YAML."""
    with CONTRACT.open(encoding="utf-8") as file:
        loaded = yaml.safe_load(file)
    assert isinstance(loaded, dict), f"{CONTRACT} is not a YAML mapping"
    return loaded


@pytest.fixture(scope="module")
def operations(document: Document) -> list[Operation]:
    """Every operation under ``paths`` (webhooks excluded: they are calls Sergio makes)."""
    return list(_iter_operations(document))


@pytest.fixture(scope="module")
def by_id(operations: list[Operation]) -> dict[str, Operation]:
    """Operations keyed by ``operationId``."""
    return {op.operation_id: op for op in operations if op.operation_id is not None}


def _iter_operations(document: Document) -> Iterator[Operation]:
    for path, item in document.get("paths", {}).items():
        for method, definition in item.items():
            if method in HTTP_METHODS:
                yield Operation(method, path, definition)


def _resolve(document: Document, node: Any) -> Any:
    """Follow local ``$ref`` pointers (``#/...``) until a non-reference node is reached."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and "$ref" in node:
        reference = node["$ref"]
        assert isinstance(reference, str), f"non-string $ref: {reference!r}"
        assert reference.startswith("#/"), f"only local references are expected, got {reference}"
        assert reference not in seen, f"reference cycle through {reference}"
        seen.add(reference)
        node = document
        for part in reference[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _walk(node: Any, pointer: str = "#") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield every mapping in the document together with its JSON pointer."""
    if isinstance(node, Mapping):
        yield pointer, node
        for key, value in node.items():
            yield from _walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}")


def test_document_is_valid_openapi_3_1(document: Document) -> None:
    """The contract is a valid OpenAPI 3.1.0 document with the agreed server and version."""
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    assert [server["url"] for server in document["servers"]] == ["https://api.sergio.app"]
    assert document["info"]["version"] == "1.0.0"
    assert document["security"] == [{"bearerAuth": []}]
    schemes = document["components"]["securitySchemes"]
    bearer = schemes["bearerAuth"]
    assert (bearer["type"], bearer["scheme"], bearer["bearerFormat"]) == ("http", "bearer", "JWT")
    assert (schemes["apiKeyAuth"]["type"], schemes["apiKeyAuth"]["in"]) == ("apiKey", "header")
    assert schemes["apiKeyAuth"]["name"] == "X-API-Key"


def test_every_operation_has_id_and_rate_tier(operations: list[Operation]) -> None:
    """Every operation has a unique ``operationId`` and an ``x-sergio-rate-tier`` from the known set."""
    problems = []
    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        if op.operation_id is None:
            problems.append(f"{label}: no operationId")
        tier = op.definition.get("x-sergio-rate-tier")
        if tier not in RATE_TIERS:
            problems.append(f"{label}: x-sergio-rate-tier is {tier!r}, expected one of {sorted(RATE_TIERS)}")
    assert not problems, "\n".join(problems)
    ids = [op.operation_id for op in operations]
    assert len(ids) == len(set(ids)), f"duplicate operationIds: {ids}"


def test_operations_match_the_endpoint_table(by_id: dict[str, Operation]) -> None:
    """Exactly the agreed operations, each at its method and path, with its tier and statuses."""
    assert set(by_id) == set(EXPECTED)
    problems = []
    for operation_id, expected in EXPECTED.items():
        op = by_id[operation_id]
        if (op.method, op.path) != (expected.method, expected.path):
            problems.append(
                f"{operation_id}: at {op.method} {op.path}, expected {expected.method} {expected.path}"
            )
        if op.definition["x-sergio-rate-tier"] != expected.tier:
            problems.append(
                f"{operation_id}: tier {op.definition['x-sergio-rate-tier']}, expected {expected.tier}"
            )
        statuses = set(op.definition["responses"])
        if statuses != {expected.success} | expected.others:
            problems.append(f"{operation_id}: statuses {sorted(statuses)}")
    assert not problems, "\n".join(problems)


def test_tiered_operations_document_429_with_required_retry_after(
    document: Document, operations: list[Operation]
) -> None:
    """Every tiered operation documents 429 with a required ``Retry-After`` and ``Cache-Control`` (and
    the RateLimit fields, assumed and so not required)."""
    for op in operations:
        if "x-sergio-rate-tier" not in op.definition:
            continue
        label = op.operation_id or f"{op.method.upper()} {op.path}"
        assert "429" in op.definition["responses"], f"{label}: no 429 response"
        response = _resolve(document, op.definition["responses"]["429"])
        headers = {name: _resolve(document, header) for name, header in response.get("headers", {}).items()}
        assert "Retry-After" in headers, f"{label}: 429 without Retry-After"
        assert headers["Retry-After"].get("required") is True, f"{label}: Retry-After is not required"
        retry_after = _resolve(document, headers["Retry-After"]["schema"])
        assert (retry_after["type"], retry_after["minimum"], retry_after["maximum"]) == ("integer", 1, 60)
        assert headers.get("Cache-Control", {}).get("required") is True, f"{label}: 429 lacks Cache-Control"
        for name in ("RateLimit", "RateLimit-Policy"):
            assert headers.get(name, {}).get("x-sergio-assumed") is True, f"{label}: 429 lacks assumed {name}"
            assert headers[name].get("required") is not True, f"{label}: the assumed {name} is required"


def test_success_responses_document_rate_limit_fields(
    document: Document, by_id: dict[str, Operation]
) -> None:
    """Every success response of a tiered operation documents the RateLimit headers: assumed, so not
    required (a deployment may send another published form, or none)."""
    for operation_id, expected in EXPECTED.items():
        response = _resolve(document, by_id[operation_id].definition["responses"][expected.success])
        headers = {name: _resolve(document, header) for name, header in response.get("headers", {}).items()}
        for name in ("RateLimit", "RateLimit-Policy"):
            assert headers.get(name, {}).get("x-sergio-assumed") is True, f"{operation_id}: no assumed {name}"
            assert headers[name].get("required") is not True, f"{operation_id}: {name} is required"


@pytest.mark.parametrize("operation_id", sorted(EXPECTED))
def test_operation_security_matches_the_table(operation_id: str, by_id: dict[str, Operation]) -> None:
    """Bearer operations inherit the top-level requirement; Zapier ones use the API key; public ones none."""
    definition = by_id[operation_id].definition
    expected = EXPECTED[operation_id].security
    if expected == "bearer":
        # Inherited from the top level, or repeated explicitly: both mean bearer.
        effective = definition.get("security", [{"bearerAuth": []}])
    else:
        assert "security" in definition, f"{operation_id} must override the top-level security"
        effective = definition["security"]
    assert effective == SECURITY_REQUIREMENTS[expected]


def test_assumptions_carry_a_reason(document: Document) -> None:
    """Everything marked ``x-sergio-assumed: true`` says why in ``x-sergio-assumed-reason``."""
    marked = 0
    problems = []
    for pointer, node in _walk(document):
        if "x-sergio-assumed" in node and node["x-sergio-assumed"] is not True:
            problems.append(f"{pointer}: x-sergio-assumed must be true when present")
        if node.get("x-sergio-assumed") is True:
            marked += 1
            reason = node.get("x-sergio-assumed-reason")
            if not isinstance(reason, str) or not reason.strip():
                problems.append(f"{pointer}: x-sergio-assumed without a non-empty x-sergio-assumed-reason")
        elif "x-sergio-assumed-reason" in node:
            problems.append(f"{pointer}: x-sergio-assumed-reason without x-sergio-assumed: true")
    assert not problems, "\n".join(problems)
    assert marked > 0, "the contract marks nothing as assumed"


def test_links_target_existing_operations(document: Document, by_id: dict[str, Operation]) -> None:
    """Every OpenAPI link names an existing operation and only parameters that operation has."""
    links = 0
    for op in by_id.values():
        for status, response in op.definition["responses"].items():
            for name, link in _resolve(document, response).get("links", {}).items():
                link = _resolve(document, link)
                links += 1
                target = by_id.get(link.get("operationId", ""))
                assert target is not None, f"{op.operation_id} {status} {name}: unknown operationId"
                parameters = [
                    _resolve(document, p) for p in document["paths"][target.path].get("parameters", [])
                ]
                parameters += [_resolve(document, p) for p in target.definition.get("parameters", [])]
                names = {p["name"] for p in parameters}
                assert set(link.get("parameters", {})) <= names, f"{op.operation_id} {status} {name}"
    assert links == 12


def test_schemathesis_loads_exactly_the_operations() -> None:
    """Schemathesis loads the contract, yields exactly the 20 operations, and builds its state machine."""
    schema = schemathesis.openapi.from_path(CONTRACT)
    schema.validate()
    labels = set()
    errors = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            errors.append(str(result.err()))
        else:
            labels.add(result.ok().label)
    assert not errors, "\n".join(errors)
    assert labels == {f"{row.method.upper()} {row.path}" for row in EXPECTED.values()}
    # Building the state machine validates every OpenAPI link (targets, parameters, expressions).
    schema.as_state_machine()
