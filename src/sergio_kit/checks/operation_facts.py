"""What the contract in force says of one operation beyond :class:`~sergio_kit.contract.document.Operation`:
the kind of object its path names, whether the kit assumed it, the responses and query parameters it
declares, and the API-key scopes its security requirement names.

Read from the contract's document (``$ref``\\s followed within it); an operation the document does not
hold (one a test added) declares nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sergio_kit.contract.document import Contract, Operation

ASSUMED = "x-sergio-assumed"
_PARAMETER = re.compile(r"\{([^}]+)\}")
#: A path parameter's object kind, by its name or, for a generic name (``{id}``), by the collection
#: segment before it.
KIND_BY_PARAMETER = {"job_id": "job", "webhook_id": "webhook", "key_id": "key"}
KIND_BY_COLLECTION = {"jobs": "job", "webhooks": "webhook", "api-keys": "key"}


def path_parameters(operation: Operation) -> list[str]:
    """The names of ``operation``'s path parameters, in path order."""
    return _PARAMETER.findall(operation.path)


def object_kind(operation: Operation) -> str | None:
    """The kind of object (``job``, ``webhook``, ``key``) named by the one path parameter of
    ``operation``; ``None`` without one, with several, or with one of another kind."""
    names = path_parameters(operation)
    if len(names) != 1:
        return None
    if names[0] in KIND_BY_PARAMETER:
        return KIND_BY_PARAMETER[names[0]]
    segments = operation.path.split("/")
    position = segments.index("{" + names[0] + "}")
    return KIND_BY_COLLECTION.get(segments[position - 1]) if position > 0 else None


def filled(operation: Operation, object_id: str) -> str:
    """``operation``'s path with its one path parameter replaced by ``object_id``."""
    return _PARAMETER.sub(object_id, operation.path, count=1)


def spec_of(contract: Contract, operation: Operation) -> Mapping[str, Any]:
    """The document's object of ``operation`` (its method under its path), empty when it has none."""
    item = contract.document.get("paths", {}).get(operation.path)
    spec = item.get(operation.method.lower()) if isinstance(item, Mapping) else None
    return spec if isinstance(spec, Mapping) else {}


def assumed(contract: Contract, operation: Operation) -> bool:
    """Whether the contract marks ``operation`` as the kit's assumption (``x-sergio-assumed: true``):
    then what it declares is a recommended rule, not the contract's own."""
    return bool(spec_of(contract, operation).get(ASSUMED))


def declares_status(contract: Contract, operation: Operation, status: int) -> bool:
    """Whether ``operation`` declares a response of ``status``."""
    responses = spec_of(contract, operation).get("responses")
    return isinstance(responses, Mapping) and str(status) in {str(code) for code in responses}


def security_scopes(contract: Contract, operation: Operation, scheme: str) -> tuple[str, ...]:
    """The scopes (OpenAPI 3.1: role names for any scheme) ``operation``'s security requirement names
    for ``scheme``; empty when it names none."""
    spec = spec_of(contract, operation)
    requirements = spec.get("security", contract.document.get("security", []))
    found: list[str] = []
    for requirement in requirements if isinstance(requirements, list) else []:
        scopes = requirement.get(scheme) if isinstance(requirement, Mapping) else None
        found += [scope for scope in scopes or [] if isinstance(scope, str) and scope not in found]
    return tuple(found)


def query_parameter(contract: Contract, operation: Operation, name: str) -> Mapping[str, Any] | None:
    """The schema of ``operation``'s query parameter ``name`` (declared on the path or the operation),
    or ``None`` when it declares none."""
    item = contract.document.get("paths", {}).get(operation.path, {})
    declared = [*item.get("parameters", []), *spec_of(contract, operation).get("parameters", [])]
    for parameter in declared:
        parameter = _resolved(contract, parameter)
        if parameter.get("in") == "query" and parameter.get("name") == name:
            schema = _resolved(contract, parameter.get("schema", {}))
            return schema
    return None


def _resolved(contract: Contract, node: Any) -> Mapping[str, Any]:
    """``node`` with its ``$ref`` (a pointer into the document) followed; empty when it leads nowhere."""
    for _ in range(8):  # a chain of references, never a loop
        if not isinstance(node, Mapping) or "$ref" not in node:
            break
        reference = str(node["$ref"])
        if not reference.startswith("#/"):
            return {}
        node = contract.document
        for part in reference[2:].split("/"):
            name = part.replace("~1", "/").replace("~0", "~")
            node = node.get(name, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}
