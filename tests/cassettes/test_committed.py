"""The committed cassettes (``fixtures/cassettes``, written by ``make record``): each replays offline and
satisfies the current contract, so a contract change that breaks recorded reality fails CI.

``pytest -m replay`` runs just these.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sergio_kit.cassettes.replay import cassette_files, load_interactions, replay_cassette
from sergio_kit.cassettes.validate import ContractValidator
from sergio_kit.contract.document import operations

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cassettes"
COMMITTED = cassette_files(FIXTURES) if FIXTURES.is_dir() else []
VALIDATOR = ContractValidator()


@pytest.mark.replay
@pytest.mark.parametrize("cassette", COMMITTED, ids=[path.stem for path in COMMITTED])
def test_committed_cassette_replays_and_conforms(cassette: Path) -> None:
    """Every interaction of the cassette replays with the network blocked and matches the contract."""
    result = replay_cassette(cassette, VALIDATOR)
    assert result.interactions > 0
    assert result.problems == []


@pytest.mark.replay
def test_committed_cassettes_cover_every_operation() -> None:
    """Together the committed cassettes hold at least one exchange of every operation of the contract."""
    seen: set[tuple[str, str]] = set()
    for cassette in COMMITTED:
        for interaction in load_interactions(cassette):
            request = interaction["request"]
            seen.add(
                (request["method"].upper(), re.sub(r"^https?://[^/]+", "", request["uri"]).split("?")[0])
            )
    missing = [
        op.label
        for op in operations()
        if not any(
            method == op.method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", op.path), path)
            for method, path in seen
        )
    ]
    assert COMMITTED, "no committed cassettes: run make record"
    assert missing == []
