"""Read the facts the kit and the reference server take from a contract.

The reference server always reads the packaged contract (:func:`load_document`). The kit reads the
contract in force, :class:`Contract`: the packaged one, or the user's own (``--contract PATH|URL``,
:func:`load_contract`), whose operations may lack the kit's extensions: a missing
``x-sergio-rate-tier`` is inferred (:func:`infer_tier`), a missing ``operationId`` generated.
Only plain YAML reading lives here (no Schemathesis), so the server can import it cheaply.
"""

from __future__ import annotations

import copy
import re
import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from sergio_kit.contract.resources import contract_path
from sergio_kit.errors import SergioKitError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TIERS = ("auth", "read", "write", "webhook", "bulk")
#: The public key set of a deployment with asymmetric tokens (absent when it signs HS256).
JWKS_OPERATION = "GET /.well-known/jwks.json"
ADMIN_ONLY = "x-sergio-admin-only"  # an operation only a company admin may call


@dataclass(frozen=True)
class Operation:
    """One operation of the contract, with the facts the kit needs about it."""

    operation_id: str
    method: str
    path: str
    tier: str
    security: tuple[str, ...]
    request_schema: dict[str, Any] | None
    #: ``x-sergio-admin-only``: True for a company admin's operation, False for any user's; None when
    #: the contract says nothing of roles anywhere (then who may call it is unknown).
    admin_only: bool | None = None

    @property
    def members_may_call(self) -> bool:
        """True when the contract says a member (a non-admin user) may call this operation."""
        return self.admin_only is False

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
    says_roles = _says_roles(document)
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if not isinstance(item, dict) or not isinstance(item.get(method), dict):
                continue
            spec = item[method]
            security = default_security
            if "security" in spec:
                security = _security_names(spec["security"])
            found.append(
                Operation(
                    operation_id=spec.get("operationId") or generated_operation_id(method, path),
                    method=method.upper(),
                    path=path,
                    tier=spec.get("x-sergio-rate-tier") or infer_tier(method, path),
                    security=security,
                    request_schema=_request_schema(spec),
                    admin_only=bool(spec.get(ADMIN_ONLY)) if says_roles else None,
                )
            )
    return found


def _says_roles(document: dict[str, Any]) -> bool:
    """True when some operation of ``document`` carries ``x-sergio-admin-only``."""
    return any(
        isinstance(spec, dict) and ADMIN_ONLY in spec
        for item in document["paths"].values()
        if isinstance(item, dict)
        for spec in item.values()
    )


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


def infer_tier(method: str, path: str) -> str:
    """The rate tier of an operation a contract leaves untiered: ``/v1/auth/*`` auth, ``POST
    /v1/webhooks`` webhook, a path ending ``/bulk`` bulk, ``GET``/``HEAD`` read, anything else write."""
    method = method.upper()
    if path.startswith("/v1/auth/"):
        return "auth"
    if method == "POST" and path.rstrip("/") == "/v1/webhooks":
        return "webhook"
    if path.rstrip("/").endswith("/bulk"):
        return "bulk"
    return "read" if method in ("GET", "HEAD") else "write"


def generated_operation_id(method: str, path: str) -> str:
    """An ``operationId`` for an operation that has none: ``get_v1_jobs_job_id`` for ``GET
    /v1/jobs/{job_id}``."""
    return f"{method.lower()}_{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_')}"


@dataclass(frozen=True, eq=False)
class Contract:
    """The contract in force for a run: its document (every operation with an ``operationId`` and a
    ``x-sergio-rate-tier``), its operations, and where it came from (for messages).

    ``complete``: the document declares everything the target serves (the packaged contract and its
    reductions), so a method it does not declare must be refused with 405. A user's contract may
    declare less than the deployment serves (the published part only): serving more breaks nothing.
    """

    source: str
    document: Mapping[str, Any] = field(repr=False)
    operations: tuple[Operation, ...] = field(repr=False)
    complete: bool = True

    @classmethod
    def of(cls, document: Mapping[str, Any], source: str, *, complete: bool = True) -> Contract:
        """``document`` (copied) with the kit's extensions completed where it lacks them."""
        completed = _completed(document)
        return cls(source, completed, tuple(operations(completed)), complete)

    def offers(self, label: str) -> bool:
        """Whether the contract declares ``label`` (``"METHOD /path"``)."""
        return self.operation(label) is not None

    def operation(self, label: str) -> Operation | None:
        """The operation ``label`` (``"METHOD /path"``), or ``None`` when the contract lacks it."""
        return next((operation for operation in self.operations if operation.label == label), None)

    def operation_for(self, method: str, path: str) -> Operation | None:
        """The operation that serves ``method`` at the concrete ``path`` (a query string is ignored;
        ``{name}`` matches one segment, and a literal segment wins over a parameter), or ``None``."""
        sent = path.split("?", 1)[0].rstrip("/").split("/")
        best: tuple[int, Operation] | None = None
        for operation in self.operations:
            template = operation.path.rstrip("/").split("/")
            if operation.method != method.upper() or len(template) != len(sent):
                continue
            if all(
                part == segment or part.startswith("{") for part, segment in zip(template, sent, strict=True)
            ):
                parameters = sum(part.startswith("{") for part in template)
                if best is None or parameters < best[0]:
                    best = (parameters, operation)
        return best[1] if best is not None else None

    def components(self) -> dict[str, Any]:
        """The ``components.schemas`` section, for resolving ``$ref``\\s."""
        return components(dict(self.document))

    def without(self, labels: Collection[str], why: str) -> Contract:
        """This contract minus the operations ``labels`` (``"METHOD /path"``): a path left with no
        operation goes, and so do the links that led to a removed operation."""
        document = copy.deepcopy(dict(self.document))
        gone_ids = {op.operation_id for op in self.operations if op.label in labels}
        for label in labels:
            method, _, path = label.partition(" ")
            item = document["paths"].get(path, {})
            item.pop(method.lower(), None)
            if not any(method in item for method in HTTP_METHODS):
                document["paths"].pop(path, None)
        _drop_links_to(document, gone_ids)
        reduced = f"{self.source} minus {', '.join(sorted(labels))} ({why})"
        return Contract.of(document, reduced, complete=self.complete)

    def text(self) -> str:
        """The document as YAML, for writing it where a user can read it."""
        return yaml.safe_dump(dict(self.document), sort_keys=False, allow_unicode=True)


@cache
def packaged_contract() -> Contract:
    """The contract shipped with the kit (``contracts/sergio.openapi.yaml``): the default in force."""
    return Contract.of(load_document(), f"the packaged contract ({contract_path().name})")


def load_contract(source: Path | str, *, ca_bundle: Path | None = None) -> Contract:
    """The contract at ``source``: a file, or an ``https://`` URL fetched with certificates verified
    (by ``ca_bundle`` when given, else the system trust store). Whatever is wrong with it (unreadable,
    not YAML, no ``paths``, unreachable, not 200) is one :class:`SergioKitError` line."""
    if isinstance(source, str) and source.lower().startswith("https://"):
        shown = shown_url(source)
        text = _fetch(source, shown, ca_bundle)
    else:
        shown = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SergioKitError(f"cannot read the contract {shown}: {error}; give a readable file") from None
    return Contract.of(_parsed(text, shown), shown, complete=False)


def shown_url(url: str) -> str:
    """``url`` as messages show it: no user info, query or fragment (they may hold a credential)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _fetch(url: str, shown: str, ca_bundle: Path | None) -> str:
    import httpx  # only a contract given by URL needs it

    verify = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    try:
        response = httpx.get(url, verify=verify, timeout=30.0, follow_redirects=True)
    except httpx.HTTPError as error:
        raise SergioKitError(
            f"cannot fetch the contract {shown}: {type(error).__name__}: {error}; check the URL (and the CA "
            "bundle when its certificate is not from a public authority)"
        ) from None
    if response.status_code != 200:
        raise SergioKitError(
            f"cannot fetch the contract {shown}: it answered {response.status_code}, expected 200 with the "
            "OpenAPI document; check the URL"
        )
    return response.text


def _parsed(text: str, shown: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or "unparsable"
        raise SergioKitError(f"the contract {shown} is not valid YAML{where}: {problem}; fix it") from None
    expected = "expected an OpenAPI 3 document with `openapi: 3.x` and `paths`"
    if not isinstance(document, dict):
        raise SergioKitError(f"the contract {shown} is not an OpenAPI document: {expected}")
    if not str(document.get("openapi", "")).startswith("3."):
        raise SergioKitError(f"the contract {shown} has no `openapi: 3.x` version: {expected}")
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise SergioKitError(f"the contract {shown} declares no `paths`: {expected}")
    return document


def _completed(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` whose every operation has an ``operationId`` and a rate tier."""
    completed = copy.deepcopy(dict(document))
    for path, item in completed.get("paths", {}).items():
        for method in HTTP_METHODS:
            spec = item.get(method) if isinstance(item, dict) else None
            if isinstance(spec, dict):
                spec.setdefault("operationId", generated_operation_id(method, path))
                spec.setdefault("x-sergio-rate-tier", infer_tier(method, path))
    return completed


def _drop_links_to(document: dict[str, Any], operation_ids: Collection[str]) -> None:
    """Remove every link (in responses and in ``components.links``) that leads to one of
    ``operation_ids``, directly or through a ``$ref``."""
    shared = document.get("components", {}).get("links", {})

    def target(link: Any) -> Any:
        if isinstance(link, dict) and "$ref" in link:
            link = shared.get(str(link["$ref"]).rsplit("/", 1)[-1], {})
        return link.get("operationId") if isinstance(link, dict) else None

    holders = [
        response
        for item in document.get("paths", {}).values()
        if isinstance(item, dict)
        for method in HTTP_METHODS
        if isinstance(item.get(method), dict)
        for response in item[method].get("responses", {}).values()
        if isinstance(response, dict) and response.get("links")
    ]
    for response in holders:
        response["links"] = {
            name: link for name, link in response["links"].items() if target(link) not in operation_ids
        }
        if not response["links"]:
            del response["links"]
    for name in [name for name, link in shared.items() if target(link) in operation_ids]:
        del shared[name]
