"""The kit's judgement of the API-key and webhook choices a deployment may make.

- Keys made in a dashboard (``no-key-management``): the checks use the keys the user supplies
  (``SERGIO_API_KEY``, ``SERGIO_READ_ONLY_API_KEY``) and still fail on their faults.
- Rotation answered 201 Created (``rotation-201``): a fault is still caught; another 2xx only warns
  (the rotation's status is not published).

That every check passes, warns or skips as it should with each variant on is proven for all variants
in test_variant_proofs.py; this module covers the supplied keys and single-variant faults.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from sergio_kit.checks.context import KEY_MANAGEMENT, OTHER, CheckContext
from sergio_kit.checks.registry import get_check
from sergio_kit.checks.verdict import verdict
from sergio_kit.config import load_config
from sergio_kit.contract.document import packaged_contract
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.server.variants import VARIANTS
from sergio_kit.target.embedded import embedded_target
from sergio_kit.target.live import live_target
from sergio_kit.target.target import Account, Target
from tests.checks.fault_symptoms import assert_symptom
from tests.support.clock import clock_of, start_fresh_windows
from tests.support.fault_servers import FaultServers, server_key

DASHBOARD = server_key(variants=("no-key-management",))
ROTATION_201 = server_key(variants=("rotation-201",))


@contextmanager
def context_on(variant_server: FaultServers, key: str) -> Iterator[CheckContext]:
    """A check context on the server of ``key``, every rate-limit window fresh."""
    with variant_server.use(key) as server:
        with clock_of(server) as clock:
            start_fresh_windows(clock)
        context = CheckContext(embedded_target(server), max_examples=10)
        try:
            yield context
        finally:
            context.close()
            context.target.close()


# -- supplied keys, without a server ---------------------------------------------------------------


def offline_context(**keys: str) -> CheckContext:
    """A context whose contract has no key management, with ``keys`` supplied (nothing is sent)."""
    contract = packaged_contract().without(VARIANTS["no-key-management"].removes, "keys made in a dashboard")
    target = Target(
        base_url="https://127.0.0.1:9", account=Account("qa@acme.example", "pw"), contract=contract, **keys
    )
    return CheckContext(target)


def test_a_live_target_carries_both_supplied_keys_unshown(tmp_path: Path) -> None:
    """``SERGIO_API_KEY`` and ``SERGIO_READ_ONLY_API_KEY`` reach the live target, never its ``repr``."""
    environ = {
        "SERGIO_BASE_URL": "https://staging.example",
        "SERGIO_EMAIL": "qa@acme.example",
        "SERGIO_PASSWORD": "pw",
        "SERGIO_API_KEY": "sk_live_fullkeyfullkey",
        "SERGIO_READ_ONLY_API_KEY": "sk_live_readonlyreadonly",
    }
    target = live_target(load_config({}, environ, tmp_path))
    assert (target.api_key, target.read_only_api_key) == (
        "sk_live_fullkeyfullkey",
        "sk_live_readonlyreadonly",
    )
    assert "sk_live" not in repr(target)


def test_supplied_keys_stand_in_for_key_management() -> None:
    """With no POST /v1/api-keys in the contract, the full and the read-only key are the supplied ones."""
    context = offline_context(api_key="sk_test_full", read_only_api_key="sk_test_read")
    try:
        assert context.api_key(["jobs:write", "jobs:read"]) == ("", "sk_test_full")
        assert context.api_key(["jobs:read"]) == ("", "sk_test_read")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("scopes", "tenant", "keys", "named"),
    [
        (["jobs:read"], "primary", {"api_key": "sk_test_full"}, "SERGIO_READ_ONLY_API_KEY"),
        (["jobs:read", "jobs:write"], "primary", {}, "SERGIO_API_KEY"),
        (["jobs:write"], "primary", {"api_key": "sk_test_full"}, "no supplied key has those scopes"),
        (["jobs:read"], OTHER, {"read_only_api_key": "sk_test_read"}, "the first company's only"),
    ],
)
def test_without_a_fitting_key_the_check_skips_naming_what_is_missing(
    scopes: list[str], tenant: str, keys: dict[str, str], named: str
) -> None:
    """The skip names the contract's missing operation and the setting (or why no setting fits)."""
    context = offline_context(**keys)
    try:
        with pytest.raises(CheckSkipped) as skipped:
            context.api_key(scopes, tenant)
    finally:
        context.close()
    assert f"the contract does not declare {KEY_MANAGEMENT}" in str(skipped.value)
    assert named in str(skipped.value)
    assert "sk_test" not in str(skipped.value)


# -- no-key-management ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "server_key",
    [
        server_key((fault,), ("no-key-management",))
        for fault in ("apikey.scope", "apikey.tenant", "apikey.no_echo")
    ],
)
def test_faults_are_caught_on_supplied_keys(server_key: str, variant_server: FaultServers) -> None:
    """The checks whose keys changed still fail on their faults: a read-only key that writes, a key
    that sees another company's jobs, a key echoed back."""
    check_id = server_key.partition("|")[0]
    with context_on(variant_server, server_key) as context, pytest.raises(CheckFailed) as failure:
        get_check(check_id).run(context)
    assert_symptom(check_id, failure.value)
    assert verdict(failure.value.basis or get_check(check_id).basis, None) == (
        "warned" if check_id == "apikey.no_echo" else "failed"
    )


# -- rotation-201 --------------------------------------------------------------------------------


@pytest.mark.parametrize("server_key", [server_key(("apikey.rotated",), ("rotation-201",))])
def test_rotation_201_still_catches_a_live_old_key(server_key: str, variant_server: FaultServers) -> None:
    """The rule that matters, the old key dead after rotation, still fails when broken."""
    with context_on(variant_server, server_key) as context, pytest.raises(CheckFailed) as failure:
        get_check("apikey.rotated").run(context)
    assert failure.value.basis is None
    assert_symptom("apikey.rotated", failure.value)


@pytest.mark.parametrize("server_key", [ROTATION_201])
def test_another_rotation_status_only_warns(
    server_key: str, variant_server: FaultServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotation answered 202 that did rotate breaks no published rule: a recommended finding."""
    with context_on(variant_server, server_key) as context:
        send = context.send

        def accepted_rotation(method: str, path: str, **options: Any) -> httpx.Response:
            response = send(method, path, **options)
            if path.endswith("/rotate"):
                return httpx.Response(
                    202, headers=response.headers, content=response.content, request=response.request
                )
            return response

        monkeypatch.setattr(context, "send", accepted_rotation)
        with pytest.raises(CheckFailed) as failure:
            get_check("apikey.rotated").run(context)
    assert failure.value.basis == "recommended" and "202" in failure.value.finding.message
