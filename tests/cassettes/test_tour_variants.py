"""The recording tour against deployments that made allowed choices: a success status the docs do not
publish is any 2xx (key rotation answered 201, another company's job answered 403), and the errors
flow's undeclared-method step runs only when the contract in force is complete (not a user's)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from sergio_kit.cassettes.record import record_tour
from sergio_kit.cassettes.tour import FLOWS, errors_flow
from sergio_kit.target.embedded import embedded_target, start_server

FLOWS_BY_NAME = dict(FLOWS)


def _record(
    tmp_path: Path,
    server_template: Path,
    variants: tuple[str, ...],
    flows: tuple[str, ...],
    *,
    complete: bool,
) -> dict[str, list[tuple[str, str, int]]]:
    """Record ``flows`` against a server with ``variants`` (the contract in force marked ``complete``
    or a user's); each flow's ``(method, path, status)`` exchanges."""
    server = start_server(tmp_path / "server", template=server_template, plain_http=False, variants=variants)
    target = embedded_target(server)
    target.contract = replace(target.contract, complete=complete)
    out = tmp_path / "out"
    try:
        record_tour(
            target,
            out,
            known_secrets=[],
            unrecorded=[server.clock_url] if server.clock_url else [],
            flows=[(name, FLOWS_BY_NAME[name]) for name in flows],
        )
    finally:
        target.close()
        server.stop()
    recorded = {}
    for name in flows:
        interactions = yaml.safe_load((out / f"{name}.yaml").read_text())["interactions"]
        recorded[name] = [
            (
                i["request"]["method"],
                i["request"]["uri"].split("?")[0].split("/", 3)[-1],
                i["response"]["status"]["code"],
            )
            for i in interactions
        ]
    return recorded


def test_assumed_statuses_are_any_2xx(tmp_path: Path, server_template: Path) -> None:
    """rotation-201 and cross-tenant-403 deployments are recorded: the rotation's 201 and the other
    company's 403 are accepted, not an off-script answer."""
    recorded = _record(
        tmp_path, server_template, ("rotation-201", "cross-tenant-403"), ("jobs", "api-keys"), complete=True
    )
    rotations = [status for method, path, status in recorded["api-keys"] if path.endswith("/rotate")]
    assert rotations == [201]
    assert ("GET", 403) in {(method, status) for method, _, status in recorded["jobs"]}


@pytest.mark.parametrize(("complete", "sends_put"), [(True, True), (False, False)])
def test_undeclared_method_step_needs_a_complete_contract(
    tmp_path: Path, server_template: Path, complete: bool, sends_put: bool
) -> None:
    """With a user's contract (which may leave out methods the deployment serves) the errors flow
    sends no undeclared method; with the packaged one it expects 405 with Allow."""
    assert FLOWS_BY_NAME["errors"] is errors_flow
    recorded = _record(tmp_path, server_template, (), ("errors",), complete=complete)
    assert any(method == "PUT" for method, _, _ in recorded["errors"]) is sends_put
    assert [status for _, _, status in recorded["errors"]][-2:] == [400, 401]
