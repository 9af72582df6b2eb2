"""Request-body validation against the contract's own JSON Schemas.

The server validates each body with the schema the contract declares for the operation, using
jsonschema-rs with format checks (the validator Schemathesis itself uses), so what the contract
calls valid is exactly what the server accepts. Error messages name the field and the
rule, never the value (a value may be a password).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

from sergio_kit.contract.document import Operation
from sergio_kit.server.http_errors import ApiError
from sergio_kit.server.settings import MAX_BODY_BYTES


class BodyValidators:
    """One compiled validator per operation with a JSON body, plus named component schemas."""

    def __init__(self, operations: list[Operation], document: dict[str, Any]) -> None:
        self._components = document.get("components", {})
        self._by_operation = {
            op.operation_id: self._compile(op.request_schema) for op in operations if op.request_schema
        }

    def _compile(self, schema: dict[str, Any]) -> Any:
        root = {**schema, "components": self._components}
        return jsonschema_rs.validator_for(root, validate_formats=True)

    def for_component(self, name: str) -> Any:
        """A validator for ``#/components/schemas/<name>``."""
        return self._compile({"$ref": f"#/components/schemas/{name}"})

    def validate(self, operation_id: str, body: Any) -> None:
        """Raise a 422 :class:`ApiError` listing every violation of the operation's body schema."""
        problems = describe_errors(self._by_operation[operation_id], body)
        if problems:
            raise ApiError(422, "request body does not match the schema", details=problems)


def describe_errors(validator: Any, instance: Any) -> list[dict[str, Any]]:
    """The violations of ``instance``, as ``{"field", "rule"}`` pairs without values."""
    problems = [
        {"field": _field(list(error.instance_path)), "rule": type(error.kind).__name__.lower()}
        for error in validator.iter_errors(instance)
    ]
    return sorted(problems, key=lambda problem: problem["field"])[:20]


def _field(path: list[str | int]) -> str:
    return "body" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def parse_json(raw: bytes) -> Any:
    """Parse a request body, answering 400 for anything that is not plain JSON."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise ApiError(400, "request body is empty; send a JSON object")
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "request body is not valid JSON") from None
    try:  # "\ud800" escapes parse, but no UTF-8 store or response can hold a lone surrogate
        json.dumps(data, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError):
        raise ApiError(400, "request body has a lone UTF-16 surrogate escape; send valid Unicode") from None
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
