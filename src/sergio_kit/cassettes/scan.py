"""Find secrets left in files (cassettes above all): what the redactor should have replaced.

Every line of every file is searched for JWTs, ``sk_live_``/``sk_test_`` keys, ``whsec_`` secrets, the
known secrets (passwords) and JSON secret fields whose value is not a placeholder. YAML files (vcrpy
cassettes) are also read as documents: secret headers (``Authorization``, ``X-API-Key``, cookies,
``X-Sergio-Signature``, ``X-Sergio-Clock-Token``), JSON bodies at any depth, and binary (base64,
possibly gzip-compressed) bodies. A :class:`Leak` never carries the secret itself.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import json
import re
import tomllib
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sergio_kit.cassettes.redact import (
    HEADER_KINDS,
    PLACEHOLDER,
    hit_kind,
    pattern_kind,
    secret_pattern,
    split_header,
    usable_known_secrets,
)
from sergio_kit.contract.resources import accounts_path
from sergio_kit.reports.redaction import SECRET_FIELDS

EXCERPT_WIDTH = 100
_JSON_FIELD = re.compile(
    r'"(' + "|".join(sorted(SECRET_FIELDS)) + r')"\s*:\s*"((?:[^"\\]|\\.)*)"', re.IGNORECASE
)
_BINARY_TAG = "tag:yaml.org,2002:binary"


@dataclass(frozen=True)
class Leak:
    """A secret found in ``file`` at ``line`` (1-based); ``excerpt_masked`` shows where, with every
    secret replaced by ``[kind]``."""

    file: Path
    line: int
    kind: str
    excerpt_masked: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.excerpt_masked}"


def seeded_passwords() -> list[str]:
    """The passwords of the reference server's seeded test accounts."""
    accounts = tomllib.loads(accounts_path().read_text())
    return [user["password"] for company in accounts["companies"] for user in company["users"]]


def scan_path(path: Path, known_secrets: Iterable[str]) -> list[Leak]:
    """Every leak in ``path`` (a file, or every file under a folder), in file and line order.

    ``known_secrets``: literal strings that must not appear (passwords), reported as ``password``.
    Raises :class:`FileNotFoundError` when ``path`` does not exist.
    """
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    scanner = _Scanner(usable_known_secrets(known_secrets))
    return [leak for file in files for leak in scanner.scan_file(file)]


class _Scanner:
    def __init__(self, known: list[str]) -> None:
        self.known = set(known)
        self.pattern = secret_pattern(known)

    def scan_file(self, file: Path) -> list[Leak]:
        text = _readable(file.read_bytes())
        structural: list[tuple[str, Leak]] = []
        if file.suffix.lower() in (".yaml", ".yml"):
            structural = list(self._yaml_leaks(file, text))
        found = {secret for secret, _ in structural}
        leaks: list[Leak] = []
        reported: set[str] = set()
        placed: set[tuple[str, int]] = set()
        for number, line in enumerate(text.splitlines(), start=1):
            hits = self._line_hits(line)
            for secret, kind in hits:
                reported.add(secret)
                leaks.append(Leak(file, number, kind, self._excerpt(line, hits, found)))
        for secret, leak in structural:  # what only the document view sees, once per secret and line
            if secret not in reported and (secret, leak.line) not in placed:
                placed.add((secret, leak.line))
                leaks.append(leak)
        return sorted(leaks, key=lambda leak: leak.line)

    def _kind(self, value: str, fallback: str) -> str:
        return "password" if value in self.known else pattern_kind(value) or fallback

    def _text_hits(self, text: str) -> list[tuple[str, str]]:
        hits = [(m.group(0), kind) for m in self.pattern.finditer(text) if (kind := hit_kind(m))]
        return hits

    def _line_hits(self, line: str) -> list[tuple[str, str]]:
        hits = self._text_hits(line)
        for match in _JSON_FIELD.finditer(line):
            value = match.group(2)
            overlaps = any(value in secret or secret in value for secret, _ in hits)
            if value and not PLACEHOLDER.fullmatch(value) and not overlaps:
                fallback = "password" if match.group(1).lower() == "password" else "secret"
                hits.append((value, self._kind(value, fallback)))
        return hits

    def _excerpt(self, line: str, hits: list[tuple[str, str]], found: set[str]) -> str:
        masked = line.strip()
        for secret, kind in sorted(hits, key=lambda hit: len(hit[0]), reverse=True):
            masked = masked.replace(secret, f"[{kind}]")
        for secret in sorted(found, key=len, reverse=True):
            masked = masked.replace(secret, "[secret]")
        masked = self.pattern.sub(lambda m: f"[{hit_kind(m)}]" if hit_kind(m) else m.group(0), masked)
        first = masked.find("[")
        start = max(0, first - EXCERPT_WIDTH // 3) if first >= 0 else 0
        excerpt = masked[start : start + EXCERPT_WIDTH]
        return ("..." if start else "") + excerpt + ("..." if start + EXCERPT_WIDTH < len(masked) else "")

    def _yaml_leaks(self, file: Path, text: str) -> Iterator[tuple[str, Leak]]:
        try:
            documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError:
            return
        for document in documents:
            if document is not None:
                for secret, line, kind, where in self._walk(document):
                    yield secret, Leak(file, line, kind, where)

    def _walk(self, node: yaml.Node) -> Iterator[tuple[str, int, str, str]]:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                name = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
                if isinstance(name, str) and name.lower() in HEADER_KINDS:
                    yield from self._header_leaks(name, value_node)
                yield from self._walk(value_node)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from self._walk(item)
        elif isinstance(node, yaml.ScalarNode):
            yield from self._scalar_leaks(node)

    def _header_leaks(self, name: str, node: yaml.Node) -> Iterator[tuple[str, int, str, str]]:
        scalars = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for scalar in scalars:
            if not isinstance(scalar, yaml.ScalarNode) or scalar.tag == _BINARY_TAG:
                continue
            for text, secret in split_header(name, str(scalar.value)):
                value = text.strip()
                if secret and value and not PLACEHOLDER.fullmatch(value):
                    kind = self._kind(value, HEADER_KINDS[name.lower()])
                    yield value, scalar.start_mark.line + 1, kind, f"header {name}: [{kind}]"

    def _scalar_leaks(self, node: yaml.ScalarNode) -> Iterator[tuple[str, int, str, str]]:
        line = node.start_mark.line + 1
        binary = node.tag == _BINARY_TAG
        text = _binary_text(str(node.value)) if binary else str(node.value)
        where = "binary (base64) value" if binary else "value"
        for secret, kind in self._text_hits(text):
            yield secret, line, kind, f"[{kind}] in a {where}"
        if text.lstrip()[:1] in ("{", "["):
            try:
                document = json.loads(text)
            except ValueError:
                return
            for secret, field, kind in self._json_fields(document):
                yield secret, line, kind, f'JSON field "{field}": [{kind}] in a {where}'

    def _json_fields(self, data: Any) -> Iterator[tuple[str, str, str]]:
        if isinstance(data, list):
            for item in data:
                yield from self._json_fields(item)
        elif isinstance(data, dict):
            for key, value in data.items():
                if key.lower() in SECRET_FIELDS and _is_secret_scalar(value):
                    secret = value if isinstance(value, str) else json.dumps(value)
                    fallback = "password" if key.lower() == "password" else "secret"
                    yield secret, key, self._kind(secret, fallback)
                else:
                    yield from self._json_fields(value)


def _is_secret_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value) and not PLACEHOLDER.fullmatch(value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _readable(raw: bytes) -> str:
    """A file's bytes as text, gunzipped first when compressed."""
    if raw[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError, zlib.error):
            raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def _binary_text(encoded: str) -> str:
    """The text inside a YAML ``!!binary`` value (base64, possibly gzip or zlib compressed)."""
    try:
        raw = base64.b64decode("".join(encoded.split()))
    except (binascii.Error, ValueError):
        return ""
    if raw[:2] == b"\x1f\x8b" or raw[:1] == b"\x78":
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw, zlib.MAX_WBITS | 32)
    return raw.decode("utf-8", errors="replace")
