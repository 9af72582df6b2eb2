"""Check a recorded exchange against the contract in force (the packaged one unless given): the status
is documented for the operation, the body matches its schema, and the response headers the contract
requires are there (and valid). A contract that declares less than the cassettes hold (the user's, or
one the embedded server's variants reduced) may leave those exchanges unjudged (``only_declared``).

Redacted secrets (``<redacted:KIND:N>``) are turned back into schema-valid dummies of their kind first,
so a redacted token still satisfies ``pattern``s written for real tokens. A webhook delivery (a request
the target sent to the kit's receiver) is checked against the contract's ``webhooks`` payload instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs

from sergio_kit.cassettes.redact import PLACEHOLDER
from sergio_kit.contract.document import HTTP_METHODS, Contract, packaged_contract

#: A schema-valid stand-in for each kind of redacted secret (never a real one).
DUMMIES = {
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWRhY3RlZCJ9.cmVkYWN0ZWQ",
    "api-key": "sk_test_redacted00000000000000000000000000000000",
    "webhook-secret": "whsec_redacted0000000000000000",
    "signature": "t=0,v1=" + "0" * 64,
}
DEFAULT_DUMMY = "redacted"


def rehydrate(value: Any) -> Any:
    """``value`` (decoded JSON) with every placeholder string replaced by a dummy of its kind."""
    if isinstance(value, str):
        match = PLACEHOLDER.fullmatch(value)
        if match:
            return DUMMIES.get(match.group(1), DEFAULT_DUMMY)
        return PLACEHOLDER.sub(lambda m: DUMMIES.get(m.group(1), DEFAULT_DUMMY), value)
    if isinstance(value, list):
        return [rehydrate(item) for item in value]
    if isinstance(value, dict):
        return {key: rehydrate(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class Exchange:
    """One recorded request and its response, as the validator needs them."""

    method: str
    url: str
    request_headers: Mapping[str, Sequence[str]]
    request_body: bytes
    status: int
    headers: Mapping[str, Sequence[str]]  # response headers, any case
    body: bytes

    def header(self, name: str, *, request: bool = False) -> str | None:
        """The first value of header ``name`` (case-insensitive), of the response unless ``request``."""
        for key, values in (self.request_headers if request else self.headers).items():
            if key.lower() == name.lower() and values:
                return str(values[0])
        return None


class ContractValidator:
    """The contract's operations as path matchers, with compiled response, header and webhook schemas."""

    def __init__(self, contract: Contract | None = None, *, only_declared: bool = False) -> None:
        self._document = dict((contract or packaged_contract()).document)
        self._only_declared = only_declared  # an operation the contract lacks is not judged
        self.undeclared: set[str] = set()  # ``METHOD /path`` of the exchanges left unjudged so
        self._components = self._document.get("components", {})
        self._routes = [(_template(path), path, item) for path, item in self._document["paths"].items()]
        self._compiled: dict[str, Any] = {}

    def problems(self, exchange: Exchange) -> list[str]:
        """What in ``exchange`` the contract does not allow (empty when it conforms)."""
        path = urlsplit(exchange.url).path
        route = next((item for template, _, item in self._routes if template.fullmatch(path)), None)
        if route is None:
            if exchange.header("X-Sergio-Event", request=True) is not None:
                return self._delivery_problems(exchange)
            if self._only_declared:
                self.undeclared.add(f"{exchange.method} {path}")
                return []
            return [f"{exchange.method} {path} is not a path of the contract"]
        operation = route.get(exchange.method.lower())
        if operation is None:
            if self._only_declared and exchange.status != 405:
                self.undeclared.add(f"{exchange.method} {path}")
                return []
            return self._method_problems(exchange, route)
        return self._response_problems(exchange, operation)

    # -- a documented operation --------------------------------------------------------------------
    def _response_problems(self, exchange: Exchange, operation: dict[str, Any]) -> list[str]:
        label = f"{exchange.method} {urlsplit(exchange.url).path} ({operation['operationId']})"
        responses = operation.get("responses", {})
        spec = responses.get(str(exchange.status)) or responses.get(f"{str(exchange.status)[0]}XX")
        spec = spec or responses.get("default")
        if spec is None:
            return [f"{label}: status {exchange.status} is not documented ({', '.join(sorted(responses))})"]
        spec = self._resolve(spec)
        found = self._header_problems(exchange, spec.get("headers", {}), label)
        media = spec.get("content", {}).get("application/json")
        if media is not None:
            found += self._body_problems(exchange.body, media["schema"], f"{label} {exchange.status}")
        return found

    def _header_problems(self, exchange: Exchange, headers: Mapping[str, Any], label: str) -> list[str]:
        found = []
        for name, header in headers.items():
            header = self._resolve(header)
            value = exchange.header(name)
            if value is None:
                if header.get("required"):
                    found.append(f"{label} {exchange.status}: required header {name} is missing")
                continue
            schema = header.get("schema", {})
            instance: Any = value
            if schema.get("type") == "integer":
                if not value.strip().isdigit():
                    found.append(f"{label} {exchange.status}: header {name} {value!r} is not an integer")
                    continue
                instance = int(value)
            errors = self._errors(schema, rehydrate(instance))
            found += [f"{label} {exchange.status}: header {name}: {error}" for error in errors]
        return found

    def _body_problems(self, raw: bytes, schema: dict[str, Any], label: str) -> list[str]:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return [f"{label}: the body is not JSON"]
        return [f"{label}: {error}" for error in self._errors(schema, rehydrate(body))]

    # -- an undocumented method on a documented path -----------------------------------------------
    def _method_problems(self, exchange: Exchange, item: dict[str, Any]) -> list[str]:
        label = f"{exchange.method} {urlsplit(exchange.url).path}"
        documented = sorted(method.upper() for method in item if method in HTTP_METHODS)
        if exchange.status != 405:
            return [f"{label}: the method is not documented, so 405 was due, not {exchange.status}"]
        allow = sorted(part.strip() for part in (exchange.header("Allow") or "").split(",") if part.strip())
        if allow != documented:
            return [f"{label}: 405 with Allow {allow}, but the contract documents {documented}"]
        return []

    # -- a webhook delivery --------------------------------------------------------------------------
    def _delivery_problems(self, exchange: Exchange) -> list[str]:
        event = exchange.header("X-Sergio-Event", request=True)
        label = f"webhook delivery {event}"
        found = []
        for webhook in self._document.get("webhooks", {}).values():
            spec = webhook.get("post", {})
            media = spec.get("requestBody", {}).get("content", {}).get("application/json")
            if media is not None:
                found += self._body_problems(exchange.request_body, media["schema"], label)
            for parameter in spec.get("parameters", []):
                parameter = self._resolve(parameter)
                required = parameter.get("in") == "header" and parameter.get("required")
                if required and exchange.header(parameter["name"], request=True) is None:
                    found.append(f"{label}: required header {parameter['name']} is missing")
        return found

    # -- schemas -------------------------------------------------------------------------------------
    def _errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._compiled:
            root = {**schema, "components": self._components}
            self._compiled[key] = jsonschema_rs.validator_for(root, validate_formats=True)
        return [
            f"{error.message} at /{'/'.join(map(str, error.instance_path))}"
            for error in self._compiled[key].iter_errors(instance)
        ]

    def _resolve(self, spec: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in spec:
            node: Any = self._document
            for part in spec["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            spec = node
        return spec


def _template(path: str) -> re.Pattern[str]:
    """``/v1/jobs/{job_id}`` → a regex matching one path segment per parameter."""
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)))
