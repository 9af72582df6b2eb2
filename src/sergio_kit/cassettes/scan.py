"""Find secrets left in files (cassettes above all): what the redactor should have replaced.

Every line of every file is searched as text (:meth:`SecretLocator.text`: JWTs, ``sk_live_``/``sk_test_``
keys, ``whsec_`` secrets in base64 or base64url, the known secrets also URL- or JSON-encoded,
``name=value`` and ``"name": "value"`` of the secret field names, ``Basic`` credentials, URL passwords).
YAML and JSON files (vcrpy cassettes) are also read as documents, which sees what lines cannot: a
scalar folded across lines, escapes, ``!!binary`` and ``Content-Encoding`` (gzip, deflate, brotli) bodies,
and the places the redactor treats: secret headers (``Authorization`` with ``Basic`` decoded, cookies,
``X-API-Key``, ...), query parameters, JSON fields at any depth, URL-encoded and multipart form fields.
The walk is the redactor's own (:class:`~sergio_kit.cassettes.locate.SecretLocator`), so what the
redactor leaves is exactly what the scanner accepts.

A :class:`Leak` never carries the secret, and its excerpt shows no part of one
(:mod:`sergio_kit.cassettes.excerpts`): every secret the file holds is masked in every form it is
written, piece by piece where a line fold cut it, and so is any six characters of one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import tomllib
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from sergio_kit.cassettes.encodings import content_encodings, decode_content, sniff_decompress
from sergio_kit.cassettes.excerpts import Masker, fold_pieces, premask, written_forms
from sergio_kit.cassettes.locate import HEADER_KINDS, Found, SecretLocator
from sergio_kit.contract.resources import accounts_path

_BINARY_TAG = "tag:yaml.org,2002:binary"
_Reader = Callable[[str, Callable[[Found], str]], str]


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
    scanner = _Scanner(list(known_secrets))
    return [leak for file in files for leak in scanner.scan_file(file)]


@dataclass(frozen=True)
class _Find:
    """A secret the document view met: the find, its line, the lines of the value that held it, and
    what that value was (for the excerpt)."""

    found: Found
    line: int
    lines: range
    context: str


class _Scanner:
    def __init__(self, known: list[str]) -> None:
        self.locator = SecretLocator(known)

    def scan_file(self, file: Path) -> list[Leak]:
        text = _readable(file.read_bytes())
        lines = text.splitlines()
        structural: list[_Find] = []
        if file.suffix.lower() in (".yaml", ".yml", ".json"):
            structural = list(self._document_finds(text, lines))
        spans = {
            (range(f.lines.start - 1, f.lines.stop - 1), secret, f.found.kind)
            for f in structural
            if len(f.lines) > 1
            for secret in (f.found.secret, f.found.raw)
        }
        folded = fold_pieces(lines, spans)
        line_hits: list[tuple[int, list[Found], str]] = []
        for number, line in enumerate(lines, start=1):
            hits: list[Found] = []
            masked = self.locator.text(premask(line, folded.get(number - 1, [])), _collector(hits))
            if hits:
                line_hits.append((number, hits, masked))
        secrets = {f.secret for _, hits, _ in line_hits for f in hits} | {f.found.secret for f in structural}
        raws = {f.raw for _, hits, _ in line_hits for f in hits} | {f.found.raw for f in structural}
        masker = Masker(secrets | raws)
        leaks: list[Leak] = []
        placed: set[tuple[str, int]] = set()
        for number, hits, masked in line_hits:
            excerpt = masker.excerpt(masked)
            for found in hits:
                placed.add((found.secret, number))
                leaks.append(Leak(file, number, found.kind, excerpt))
        for find in structural:  # what the lines did not show, once per secret and value
            secret = find.found.secret
            if not any((secret, line) in placed for line in find.lines):
                placed.add((secret, find.line))
                leaks.append(Leak(file, find.line, find.found.kind, _where(find)))
        return sorted(leaks, key=lambda leak: leak.line)

    def _document_finds(self, text: str, lines: list[str]) -> Iterator[_Find]:
        try:
            documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError:
            return
        for document in documents:
            if document is not None:
                yield from self._walk(document, None, lines)

    def _walk(self, node: yaml.Node, encodings: list[str] | None, lines: list[str]) -> Iterator[_Find]:
        """Every secret under ``node``; ``encodings``: the ``Content-Encoding`` of the body below."""
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from self._walk(item, encodings, lines)
        elif isinstance(node, yaml.ScalarNode):
            yield from self._scalar(node, encodings, lines, self.locator.body)
        elif isinstance(node, yaml.MappingNode):
            own = _node_encodings(node)
            for key_node, value_node in node.value:
                yield from self._walk(key_node, None, lines)
                name = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
                name = name.lower() if isinstance(name, str) else ""
                if name in HEADER_KINDS:
                    yield from self._header(name, value_node, lines)
                elif name == "uri" and isinstance(value_node, yaml.ScalarNode):
                    yield from self._scalar(value_node, None, lines, self.locator.uri)
                else:
                    below = own if name == "body" else encodings if name == "string" else None
                    yield from self._walk(value_node, below, lines)

    def _header(self, name: str, node: yaml.Node, lines: list[str]) -> Iterator[_Find]:
        scalars = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for scalar in scalars:
            if isinstance(scalar, yaml.ScalarNode) and scalar.tag != _BINARY_TAG:
                finds: list[Found] = []
                self.locator.header(name, str(scalar.value), _collector(finds))
                for found in finds:
                    yield _find(found, scalar, lines, "")
            else:
                yield from self._walk(scalar, None, lines)

    def _scalar(
        self, node: yaml.ScalarNode, encodings: list[str] | None, lines: list[str], read: _Reader
    ) -> Iterator[_Find]:
        for text, context in _views(node, encodings):
            finds: list[Found] = []
            read(text, _collector(finds))
            for found in finds:
                yield _find(found, node, lines, context)


def _collector(finds: list[Found]) -> Callable[[Found], str]:
    """A locator callback that keeps each find and puts a scanner mask (a placeholder numbered 0) in
    its place."""

    def collect(found: Found) -> str:
        finds.append(found)
        return f"<redacted:{found.kind}:0>"

    return collect


def _where(find: _Find) -> str:
    """The excerpt of a secret only the document view saw: where it was, never what."""
    where = f"{find.found.where}: [{find.found.kind}]" if find.found.where else f"[{find.found.kind}]"
    return f"{where} in {find.context}" if find.context else where


def _node_encodings(node: yaml.MappingNode) -> list[str]:
    """The ``Content-Encoding`` of a recorded request or response (its ``headers`` mapping)."""
    for key_node, value_node in node.value:
        if getattr(key_node, "value", None) == "headers" and isinstance(value_node, yaml.MappingNode):
            pairs = []
            for name_node, values_node in value_node.value:
                scalars = values_node.value if isinstance(values_node, yaml.SequenceNode) else [values_node]
                values = [str(s.value) for s in scalars if isinstance(s, yaml.ScalarNode)]
                pairs.append((str(name_node.value), values))
            return content_encodings(pairs)
    return []


def _views(node: yaml.ScalarNode, encodings: list[str] | None) -> Iterator[tuple[str, str]]:
    """The texts to search in a scalar, each with what held it: the value as written, and the bytes
    behind it decoded (``!!binary`` base64, ``Content-Encoding``, or a gzip/zlib/brotli stream)."""
    value = str(node.value)
    if node.tag == _BINARY_TAG:
        try:
            raw = base64.b64decode("".join(value.split()))
        except (binascii.Error, ValueError):
            yield value, "a binary (base64) value that does not decode"
            return
        yield raw.decode("utf-8", errors="surrogateescape"), "a binary (base64) value"
        where = "a binary (base64) value"
    else:
        yield value, "a value" if not encodings else "a body"
        if not encodings:
            return
        raw = value.encode("utf-8", errors="surrogateescape")
        where = "a body"
    decoded = decode_content(raw, encodings) if encodings else None
    label = ", ".join(encodings or ())
    if decoded is None:
        decoded, label = sniff_decompress(raw), "compressed"
    if decoded is not None:
        yield decoded.decode("utf-8", errors="surrogateescape"), f"{where} ({label})"


def _find(found: Found, node: yaml.Node, lines: list[str], context: str) -> _Find:
    """``found`` in ``node``: at the line (1-based) that holds its start as written, else the node's first."""
    first, last = node.start_mark.line, min(node.end_mark.line, len(lines) - 1)
    probes = {form[:12] for secret in (found.raw, found.secret) for form in written_forms(secret)}
    line = next((n + 1 for n in range(first, last + 1) if any(p in lines[n] for p in probes)), first + 1)
    return _Find(found, line, range(first + 1, last + 2), context)


def _readable(raw: bytes) -> str:
    """A file's bytes as text, gunzipped first when compressed."""
    if raw[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError, zlib.error):
            raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")
