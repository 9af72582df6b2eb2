"""Replay recorded cassettes offline, and check every recorded response against the current contract.

Each interaction's request is sent again through httpx with vcrpy in ``none`` record mode and the
network blocked: vcrpy must answer it from the cassette, with the recorded status and body. Then the
recorded response (or, for a webhook delivery, the recorded request) is validated by
:class:`~sergio_kit.cassettes.validate.ContractValidator`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import vcr
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

from sergio_kit.cassettes.validate import ContractValidator, Exchange

MATCH_ON = ("method", "scheme", "host", "port", "path", "query")


class NetworkBlockedError(OSError):
    """A replay tried to open a network connection."""


@dataclass
class ReplayResult:
    """One cassette's replay: how many interactions, and every problem found (empty: it passed)."""

    cassette: Path
    interactions: int = 0
    problems: list[str] = field(default_factory=list)


def cassette_files(folder: Path) -> list[Path]:
    """The cassettes under ``folder`` (``*.yaml`` / ``*.yml``), sorted."""
    return sorted(path for path in folder.rglob("*") if path.suffix in (".yaml", ".yml") and path.is_file())


def load_interactions(path: Path) -> list[dict[str, Any]]:
    """The interactions of a vcrpy YAML cassette."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    interactions: list[dict[str, Any]] = document.get("interactions", [])
    return interactions


def replay_cassette(path: Path, validator: ContractValidator) -> ReplayResult:
    """Replay every interaction of ``path`` offline and validate it against the contract."""
    result = ReplayResult(path)
    try:
        interactions = load_interactions(path)
    except (OSError, yaml.YAMLError) as error:
        result.problems.append(f"{path.name}: not a readable cassette ({error})")
        return result
    result.interactions = len(interactions)
    recorder = vcr.VCR(record_mode="none", match_on=MATCH_ON, decode_compressed_response=True)
    with network_blocked(), recorder.use_cassette(str(path)), httpx.Client(timeout=5.0) as client:
        for number, interaction in enumerate(interactions, start=1):
            where = f"{path.name} #{number}"
            exchange = _exchange(interaction)
            result.problems += _replay_problems(client, exchange, where)
            result.problems += [f"{where}: {problem}" for problem in validator.problems(exchange)]
    return result


def replay_folder(folder: Path, validator: ContractValidator | None = None) -> list[ReplayResult]:
    """:func:`replay_cassette` for every cassette under ``folder``."""
    validator = validator or ContractValidator()
    return [replay_cassette(path, validator) for path in cassette_files(folder)]


def _replay_problems(client: httpx.Client, exchange: Exchange, where: str) -> list[str]:
    headers = [(name, value) for name, values in exchange.request_headers.items() for value in values]
    try:
        replayed = client.request(
            exchange.method, exchange.url, headers=headers, content=exchange.request_body
        )
    except CannotOverwriteExistingCassetteException:
        return [f"{where}: {exchange.method} {exchange.url} does not replay from the cassette"]
    except httpx.TransportError as error:  # network_blocked's refusal arrives wrapped by httpx
        return [f"{where}: the replay tried the network ({error})"]
    found = []
    if replayed.status_code != exchange.status:
        found.append(f"{where}: replayed status {replayed.status_code}, recorded {exchange.status}")
    if replayed.content != exchange.body:
        found.append(f"{where}: the replayed body differs from the recorded one")
    return found


def _exchange(interaction: dict[str, Any]) -> Exchange:
    request, response = interaction["request"], interaction["response"]
    return Exchange(
        method=str(request["method"]).upper(),
        url=str(request["uri"]),
        request_headers=_headers(request.get("headers")),
        request_body=_bytes(request.get("body")),
        status=int(response["status"]["code"]),
        headers=_headers(response.get("headers")),
        body=_bytes((response.get("body") or {}).get("string")),
    )


def _headers(raw: Any) -> dict[str, Sequence[str]]:
    if not raw:
        return {}
    return {
        str(name): [str(v) for v in (values if isinstance(values, list) else [values])]
        for name, values in raw.items()
    }


def _bytes(raw: Any) -> bytes:
    if raw is None:
        return b""
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, dict):  # vcrpy's form for some bodies: {"string": ...}
        return _bytes(raw.get("string"))
    return str(raw).encode("utf-8")


@contextmanager
def network_blocked() -> Iterator[None]:
    """Refuse every outgoing TCP/UDP connection for the duration of the block."""
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkBlockedError(f"network access to {address!r} during replay")
        return original_connect(self, address)

    def refuse_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkBlockedError(f"network access to {address!r} during replay")
        return original_connect_ex(self, address)

    with (
        mock.patch.object(socket.socket, "connect", refuse),
        mock.patch.object(socket.socket, "connect_ex", refuse_ex),
    ):
        yield
