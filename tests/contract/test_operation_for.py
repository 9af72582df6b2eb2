"""``Contract.operation_for``: the operation that serves a method at a concrete path."""

from __future__ import annotations

import pytest

from sergio_kit.contract.document import Contract, packaged_contract


def label_for(method: str, path: str, contract: Contract | None = None) -> str | None:
    """The label of the operation serving ``method path`` (in the packaged contract by default)."""
    found = (contract or packaged_contract()).operation_for(method, path)
    return found.label if found is not None else None


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v1/jobs/job_123", "GET /v1/jobs/{job_id}"),
        ("PATCH", "/v1/jobs/job_123", "PATCH /v1/jobs/{job_id}"),
        ("DELETE", "/v1/webhooks/wh_9", "DELETE /v1/webhooks/{webhook_id}"),
        ("POST", "/v1/api-keys/key_1/rotate", "POST /v1/api-keys/{key_id}/rotate"),
        ("GET", "/v1/jobs", "GET /v1/jobs"),
        ("GET", "/v1/jobs/", "GET /v1/jobs"),
    ],
)
def test_concrete_ids_match_the_templates(method: str, path: str, expected: str) -> None:
    """A concrete id fills the template's ``{parameter}`` segment."""
    assert label_for(method, path) == expected


def test_the_bulk_path_is_the_bulk_operation() -> None:
    """``POST /v1/jobs/bulk`` is the bulk operation, in the bulk tier."""
    found = packaged_contract().operation_for("POST", "/v1/jobs/bulk")
    assert found is not None
    assert (found.label, found.tier) == ("POST /v1/jobs/bulk", "bulk")


def test_a_literal_segment_wins_over_a_parameter() -> None:
    """Where a literal and a ``{parameter}`` template both match, the literal one serves the path, in
    either order of declaration."""
    literal = {"post": {"x-sergio-rate-tier": "bulk", "responses": {"202": {"description": "ok"}}}}
    templated = {"post": {"x-sergio-rate-tier": "write", "responses": {"200": {"description": "ok"}}}}
    for paths in (
        {"/v1/things/{thing_id}": templated, "/v1/things/bulk": literal},
        {"/v1/things/bulk": literal, "/v1/things/{thing_id}": templated},
    ):
        contract = Contract.of({"openapi": "3.1.0", "paths": paths}, "a test contract")
        assert label_for("POST", "/v1/things/bulk", contract) == "POST /v1/things/bulk"
        assert label_for("POST", "/v1/things/th_1", contract) == "POST /v1/things/{thing_id}"


def test_a_query_string_is_ignored() -> None:
    """The query string is not part of the path."""
    assert label_for("GET", "/v1/jobs?status=pending&limit=5") == "GET /v1/jobs"
    assert label_for("GET", "/v1/jobs/job_1?expand=true") == "GET /v1/jobs/{job_id}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nothing-here"),
        ("GET", "/v1/jobs/job_1/extra"),
        ("PUT", "/v1/jobs/job_1"),
        ("POST", "/v1/health"),
    ],
)
def test_an_unknown_path_or_method_has_no_operation(method: str, path: str) -> None:
    """A path no template matches, or a method its path does not declare, is served by nothing."""
    assert packaged_contract().operation_for(method, path) is None


def test_the_method_is_case_insensitive() -> None:
    """``get`` and ``GET`` find the same operation."""
    assert label_for("get", "/v1/jobs/job_1") == label_for("GET", "/v1/jobs/job_1") == "GET /v1/jobs/{job_id}"
