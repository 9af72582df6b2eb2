"""Read the facts the kit and the reference server take from the contract.

Only plain YAML reading lives here (no Schemathesis), so the server can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sergio_kit.contract.resources import contract_path

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TIERS = ("auth", "read", "write", "webhook", "bulk")


@dataclass(frozen=True)
class Operation:
    """One operation of the contract, with the facts the kit needs about it."""

    operation_id: str
    method: str
    path: str
    tier: str
    security: tuple[str, ...]
    request_schema: dict[str, Any] | None

    @property
    def label(self) -> str:
        """``METHOD /path``, as Schemathesis names operations."""
        return f"{self.method} {self.path}"


@cache
def load_document(path: Path | None = None) -> dict[str, Any]:
    """Parse the contract (the packaged one unless ``path`` is given)."""
    with open(path or contract_path(), encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


def operations(document: dict[str, Any] | None = None) -> list[Operation]:
    """Every operation of the contract, in document order."""
    document = document or load_document()
    default_security = _security_names(document.get("security", []))
    found: list[Operation] = []
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            spec = item[method]
            security = default_security
            if "security" in spec:
                security = _security_names(spec["security"])
            found.append(
                Operation(
                    operation_id=spec["operationId"],
                    method=method.upper(),
                    path=path,
                    tier=spec["x-sergio-rate-tier"],
                    security=security,
                    request_schema=_request_schema(spec),
                )
            )
    return found


def components(document: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``components.schemas`` section, for resolving ``$ref``s."""
    document = document or load_document()
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    return schemas


def _security_names(requirements: list[dict[str, list[str]]]) -> tuple[str, ...]:
    return tuple(name for requirement in requirements for name in requirement)


def _request_schema(spec: dict[str, Any]) -> dict[str, Any] | None:
    body = spec.get("requestBody")
    if not body:
        return None
    media = body.get("content", {}).get("application/json")
    if media is None:
        return None
    schema: dict[str, Any] = media["schema"]
    return schema
