"""The contract as an input: loading a user's contract (a file or an https:// URL), completing what it
lacks of the kit's extensions (tiers, operation ids), one-line errors for bad ones, the ``contract``
setting, and the packaged contract reduced by the embedded server's variants."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import trustme
import yaml

from sergio_kit.config import load_config
from sergio_kit.contract.document import (
    Contract,
    generated_operation_id,
    infer_tier,
    load_contract,
    packaged_contract,
)
from sergio_kit.contract.resources import example_contract_path
from sergio_kit.errors import SergioKitError
from sergio_kit.target.contract import contract_in_force, keep_reduced, variant_contract

DOCUMENTED_ONLY = example_contract_path()
MINIMAL = {
    "openapi": "3.1.0",
    "info": {"title": "minimal", "version": "1"},
    "paths": {
        "/v1/auth/login": {"post": {"responses": {"200": {"description": "ok"}}}},
        "/v1/webhooks": {
            "get": {"responses": {"200": {"description": "ok"}}},
            "post": {"responses": {"201": {"description": "ok"}}},
        },
        "/v1/jobs/bulk": {"post": {"responses": {"200": {"description": "ok"}}}},
        "/v1/jobs/{job_id}": {
            "head": {"responses": {"200": {"description": "ok"}}},
            "delete": {"operationId": "removeJob", "responses": {"204": {"description": "ok"}}},
        },
    },
}


def _write(tmp_path: Path, text: str, name: str = "contract.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- loading a file ----------------------------------------------------------------------------------


def test_the_documented_only_example_loads_with_only_the_published_operations() -> None:
    """The example declares the published operations only, each with its published tier."""
    contract = load_contract(DOCUMENTED_ONLY)
    tiers = {operation.label: operation.tier for operation in contract.operations}
    assert tiers == {
        "POST /v1/auth/login": "auth",
        "POST /v1/auth/refresh": "auth",
        "GET /v1/health": "read",
        "GET /v1/jobs": "read",
        "POST /v1/jobs": "write",
        "POST /v1/webhooks": "webhook",
        "GET /zapier/v1/triggers/new-job": "read",
    }
    assert contract.source == str(DOCUMENTED_ONLY)
    assert not contract.offers("POST /v1/auth/logout")


def test_missing_tiers_are_inferred_and_missing_operation_ids_generated(tmp_path: Path) -> None:
    """A contract without the kit's extensions: tiers by the published rule, ids from method and path,
    written into the document the kit hands Schemathesis (which then loads it)."""
    contract = load_contract(_write(tmp_path, yaml.safe_dump(MINIMAL)))
    found = {op.label: (op.tier, op.operation_id) for op in contract.operations}
    assert found == {
        "POST /v1/auth/login": ("auth", "post_v1_auth_login"),
        "GET /v1/webhooks": ("read", "get_v1_webhooks"),
        "POST /v1/webhooks": ("webhook", "post_v1_webhooks"),
        "POST /v1/jobs/bulk": ("bulk", "post_v1_jobs_bulk"),
        "HEAD /v1/jobs/{job_id}": ("read", "head_v1_jobs_job_id"),
        "DELETE /v1/jobs/{job_id}": ("write", "removeJob"),
    }
    spec = contract.document["paths"]["/v1/webhooks"]["post"]
    assert (spec["operationId"], spec["x-sergio-rate-tier"]) == ("post_v1_webhooks", "webhook")
    assert "operationId" not in MINIMAL["paths"]["/v1/webhooks"]["post"], "the input must stay untouched"
    assert len(list(schemathesis.openapi.from_dict(dict(contract.document)).get_all_operations())) == 6


@pytest.mark.parametrize(
    ("method", "path", "tier"),
    [
        ("POST", "/v1/auth/anything", "auth"),
        ("POST", "/v1/webhooks", "webhook"),
        ("DELETE", "/v1/webhooks/{webhook_id}", "write"),
        ("POST", "/v2/things/bulk", "bulk"),
        ("GET", "/v1/jobs", "read"),
        ("HEAD", "/v1/jobs", "read"),
        ("PATCH", "/v1/jobs/{job_id}", "write"),
    ],
)
def test_tier_inference(method: str, path: str, tier: str) -> None:
    """/v1/auth/* auth; POST /v1/webhooks webhook; .../bulk bulk; GET/HEAD read; anything else write."""
    assert infer_tier(method, path) == tier


def test_generated_operation_ids_are_readable() -> None:
    """``GET /v1/jobs/{job_id}`` is ``get_v1_jobs_job_id``."""
    assert generated_operation_id("GET", "/v1/jobs/{job_id}") == "get_v1_jobs_job_id"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("openapi: 3.1.0\npaths: {/v1/jobs: [unclosed\n", "is not valid YAML"),
        ("- just\n- a list\n", "is not an OpenAPI document"),
        ("swagger: '2.0'\npaths: {/x: {}}\n", "has no `openapi: 3.x` version"),
        ("openapi: 3.1.0\ninfo: {title: t, version: '1'}\n", "declares no `paths`"),
    ],
)
def test_a_bad_contract_file_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    """Bad YAML, not a mapping, not OpenAPI 3, no paths: one SergioKitError line naming the file."""
    path = _write(tmp_path, text)
    with pytest.raises(SergioKitError) as error:
        load_contract(path)
    message = str(error.value)
    assert expected in message and str(path) in message
    assert "\n" not in message


def test_an_unreadable_contract_file_is_one_line(tmp_path: Path) -> None:
    """A folder given as the contract: one line saying it cannot be read."""
    with pytest.raises(SergioKitError, match="cannot read the contract") as error:
        load_contract(tmp_path)
    assert "\n" not in str(error.value)


# -- loading a URL -------------------------------------------------------------------------------------


class _Contracts(http.server.BaseHTTPRequestHandler):
    """Serves the documented-only example at /contract.yaml; 404 elsewhere."""

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/contract.yaml":
            body = DOCUMENTED_ONLY.read_bytes()
            self.send_response(200)
        else:
            body = b"not here"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def https_contracts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A loopback HTTPS server (trustme certificate) serving a contract: its base URL and its CA file."""
    folder = tmp_path_factory.mktemp("https-contracts")
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = folder / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Contracts)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca_file
    finally:
        server.shutdown()
        server.server_close()


def test_a_contract_url_is_fetched_with_the_ca_bundle(https_contracts: tuple[str, Path]) -> None:
    """An https:// contract is fetched with its certificate verified by the given CA bundle."""
    base, ca_file = https_contracts
    contract = load_contract(f"{base}/contract.yaml?sig=SECRET", ca_bundle=ca_file)
    assert contract.offers("GET /zapier/v1/triggers/new-job")
    assert contract.source == f"{base}/contract.yaml", "the query (it may hold a credential) is not shown"


@pytest.mark.parametrize(
    ("path", "use_ca", "expected"),
    [
        ("/missing.yaml", True, "answered 404"),
        ("/contract.yaml?sig=SECRET", False, "cannot fetch the contract"),  # certificate not trusted
    ],
)
def test_a_bad_contract_url_is_one_line(
    https_contracts: tuple[str, Path], path: str, use_ca: bool, expected: str
) -> None:
    """A 404, or a certificate the trust store does not vouch for: one line, the query never shown."""
    base, ca_file = https_contracts
    with pytest.raises(SergioKitError, match=expected) as error:
        load_contract(base + path, ca_bundle=ca_file if use_ca else None)
    assert "\n" not in str(error.value) and "SECRET" not in str(error.value)


def test_an_unreachable_contract_url_is_one_line() -> None:
    """Nothing listening: one line saying the contract cannot be fetched."""
    with pytest.raises(SergioKitError) as error:
        load_contract("https://127.0.0.1:9/c.yaml")
    assert str(error.value).startswith("cannot fetch the contract https://127.0.0.1:9/c.yaml: ")


# -- the setting ------------------------------------------------------------------------------------------


def test_the_contract_setting_takes_a_file_or_an_https_url(tmp_path: Path) -> None:
    """``contract``: a path (relative to where it was given) or an https:// URL, kept as text."""
    _write(tmp_path, yaml.safe_dump(MINIMAL), "mine.yaml")
    assert load_config({"contract": "mine.yaml"}, {}, tmp_path).contract == tmp_path / "mine.yaml"
    url = "https://contracts.example.com/sergio.yaml"
    assert load_config({}, {"SERGIO_CONTRACT": url}, tmp_path).contract == url
    (tmp_path / "sergio-kit.toml").write_text('contract = "mine.yaml"\n')
    assert load_config({}, {}, tmp_path).contract == tmp_path / "mine.yaml"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nope.yaml", "(no such file)"),
        ("http://contracts.example.com/c.yaml", "http:// is not allowed"),
        ("https://", "an https:// URL"),
    ],
)
def test_a_bad_contract_setting_is_one_line(tmp_path: Path, value: str, expected: str) -> None:
    """A missing file, a plain-HTTP URL, a URL without host: one line naming the option."""
    with pytest.raises(SergioKitError) as error:
        load_config({"contract": value}, {}, tmp_path)
    assert str(error.value).startswith("--contract has value") and expected in str(error.value)


def test_the_contract_in_force(tmp_path: Path) -> None:
    """The setting, loaded; else the packaged contract, reduced by the embedded server's variants only."""
    given = load_config({"contract": str(DOCUMENTED_ONLY)}, {}, tmp_path)
    assert contract_in_force(given, ["no-logout"]).source == str(DOCUMENTED_ONLY)
    embedded = load_config({}, {}, tmp_path)
    assert contract_in_force(embedded) is packaged_contract()
    assert not contract_in_force(embedded, ["no-logout"]).offers("POST /v1/auth/logout")
    with pytest.raises(SergioKitError, match="unknown variant 'no-logut'"):
        contract_in_force(embedded, ["no-logut"])


# -- the packaged contract minus what the variants drop -----------------------------------------------


def test_variants_that_drop_operations_reduce_the_packaged_contract(tmp_path: Path) -> None:
    """no-logout and no-key-management drop their operations, and the links that led to them; the
    reduced document still loads in Schemathesis, state machine included; it is written for the user."""
    assert variant_contract(["cacheable-login"]) is packaged_contract()
    reduced = variant_contract(["no-logout", "no-key-management", "cacheable-login"])
    assert isinstance(reduced, Contract)
    missing = {
        "POST /v1/auth/logout",
        "POST /v1/api-keys",
        "GET /v1/api-keys",
        "DELETE /v1/api-keys/{key_id}",
    }
    assert not any(reduced.offers(label) for label in missing)
    assert "/v1/api-keys" not in reduced.document["paths"]
    assert len(reduced.operations) == len(packaged_contract().operations) - 5
    assert "variants no-key-management, no-logout" in reduced.source
    assert "logout" not in str(reduced.document["paths"]["/v1/auth/login"]["post"]["responses"]["200"])
    schema = schemathesis.openapi.from_dict(dict(reduced.document))
    assert schema.as_state_machine() is not None
    written = keep_reduced(reduced, tmp_path)
    assert written is not None and yaml.safe_load(written.read_text())["paths"] == reduced.document["paths"]
    assert keep_reduced(packaged_contract(), tmp_path / "unused") is None
