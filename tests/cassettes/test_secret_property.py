"""Property: the redactor and the scanner miss nothing of what they claim.

Hypothesis plants secrets (JWTs, ``sk_live_``/``sk_test_`` keys, ``whsec_`` secrets in base64 and
base64url, opaque refresh tokens, passwords from a known list) in every place a recording holds one
(request and response headers, ``Bearer`` and ``Basic`` credentials, ``X-API-Key``, cookies, query
strings, JSON at depth, URL-encoded and multipart forms, gzip/deflate/brotli bodies, long values that
YAML folds), one secret per interaction of a vcrpy cassette. Then:

- written raw, every secret is there (an independent decoding of the cassette finds it) and the scanner
  reports a leak inside its interaction, of the secret's kind;
- written through the redactor's vcrpy hooks, no secret is left (the same independent decoding finds
  none) and the scanner reports nothing; no excerpt ever shows a piece of a secret.

No secret is written in this file: all are generated.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import gzip
import json
import string
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import brotli
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from sergio_kit.cassettes.redact import CassetteRedactor
from sergio_kit.cassettes.scan import Leak, scan_path
from sergio_kit.reports.redaction import SECRET_FIELDS

#: Passwords the scanner and the redactor are told about (the known secrets), each with a character a
#: naive search trips on: ``&`` ``=`` ``+`` ``%`` ``;`` ``/`` quotes, a backslash, ``:``, spaces, non-ASCII.
PASSWORDS = [
    "Tr0ub4dor&3-known",
    "correct horse battery staple",
    "p@ss=w0rd+%2F;slash/x",
    'it\'s a "quoted" pass',
    "back\\slash:colon",
    "ünïcødé-paßwört-9",
]
FIELDS = sorted(SECRET_FIELDS)
ALNUM = string.ascii_letters + string.digits
LOREM = "the quick brown fox jumps over the lazy dog while the cassette keeps every word of it " * 3


@dataclass(frozen=True)
class Secret:
    """A planted secret and the leak kinds that report it (``None``: any kind)."""

    value: str
    family: str
    kinds: frozenset[str] | None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt(alg: str, subject: str, signature: bytes) -> Secret:
    header = _b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    value = f"{header}.{_b64url(json.dumps({'sub': subject}).encode())}.{_b64url(signature)}"
    return Secret(value, "jwt", frozenset({"jwt"}))


jwts = st.builds(
    _jwt,
    st.sampled_from(["HS256", "RS256", "EdDSA"]),
    st.text(ALNUM, min_size=1, max_size=16),
    st.binary(min_size=16, max_size=64),
)
api_keys = st.builds(
    lambda env, body: Secret(f"sk_{env}_{body}", "api-key", frozenset({"api-key"})),
    st.sampled_from(["live", "test"]),
    st.text(ALNUM, min_size=8, max_size=40),
)
webhook_secrets = st.builds(
    lambda raw, url: Secret(
        "whsec_" + (base64.urlsafe_b64encode(raw) if url else base64.b64encode(raw)).decode(),
        "webhook-secret",
        frozenset({"webhook-secret"}),
    ),
    st.binary(min_size=18, max_size=48),
    st.booleans(),
)
refresh_tokens = st.builds(
    lambda body: Secret("rt_" + body, "opaque", None),
    st.text(ALNUM + "-_", min_size=16, max_size=48),
)
passwords = st.sampled_from(PASSWORDS).map(lambda value: Secret(value, "password", frozenset({"password"})))
#: Secrets found anywhere by their shape or because they are known; opaque tokens only in named places.
anywhere_secrets = st.one_of(jwts, api_keys, webhook_secrets, passwords)
secrets = st.one_of(anywhere_secrets, refresh_tokens)

Exchange = tuple[Request, dict[str, Any]]


def _request(
    uri: str = "https://api.example/v1/jobs?page=2",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> Request:
    return Request(method, uri, body, {"Accept": "application/json", **(headers or {})})


def _response(body: bytes = b'{"ok":true}', headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], **(headers or {})},
        "body": {"string": body},
    }


def _nest(field: str, value: str, depth: int) -> dict[str, Any]:
    data: dict[str, Any] = {field: value, "id": "job_1"}
    for level in range(depth):
        data = {"data": data, "items": [{"level": level}]} if level % 2 else {"items": [data], "total": 1}
    return data


def _compress(raw: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(raw)
    if encoding == "deflate":
        return zlib.compress(raw)
    return bytes(brotli.compress(raw))


def _multipart(field: str, secret: str, binary: bytes | None) -> tuple[bytes, str]:
    boundary = "sergio-boundary-7f3a"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.test\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{secret}\r\n'.encode(),
    ]
    if binary is not None:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        parts.append(head.encode() + b"Content-Type: application/octet-stream\r\n\r\n" + binary + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


PLACES = [
    "bearer",
    "basic",
    "proxy-basic",
    "userinfo",
    "link-header",
    "x-api-key",
    "cookie",
    "set-cookie",
    "query",
    "uri",
    "json-field",
    "json-text",
    "ndjson",
    "form",
    "multipart",
    "compressed",
    "folded",
]
#: Places where only a secret's shape (or its being known) can tell it: no opaque token there.
SHAPE_ONLY = ("uri", "json-text")


@dataclass(frozen=True)
class Form:
    """How a place writes its secret: the field name, the request or response side, the JSON depth,
    the compression, a binary multipart part, a carriage return that makes YAML double-quote."""

    field: str = "token"
    user: str = "admin"
    depth: int = 2
    request_side: bool = False
    encoding: str = "gzip"
    binary: bytes | None = None
    double_quoted: bool = False
    scheme: str = "Bearer"
    encode_all: bool = True


forms = st.builds(
    Form,
    field=st.sampled_from(FIELDS),
    user=st.text(ALNUM, min_size=1, max_size=12),
    depth=st.integers(0, 4),
    request_side=st.booleans(),
    encoding=st.sampled_from(["gzip", "deflate", "br"]),
    binary=st.none() | st.binary(min_size=1, max_size=64),
    double_quoted=st.booleans(),
    scheme=st.sampled_from(["Bearer", "Token", ""]),
    encode_all=st.booleans(),
)


def plant(place: str, secret: Secret, form: Form) -> Exchange:
    """One interaction holding ``secret`` in ``place``, written as ``form`` says."""
    value, field = secret.value, form.field
    if place == "bearer":
        credential = f"{form.scheme} {value}" if form.scheme else value
        return _request(headers={"Authorization": credential}), _response()
    if place in ("basic", "proxy-basic"):
        credential = base64.b64encode(f"{form.user}:{value}".encode()).decode()
        header = "Authorization" if place == "basic" else "Proxy-Authorization"
        return _request(headers={header: f"Basic {credential}"}), _response()
    if place == "userinfo":
        return _request(f"https://{form.user}:{quote(value, safe='')}@api.example/v1/jobs"), _response()
    if place == "link-header":
        link = f"<https://api.example/v1/jobs?page=3&{field}={quote_plus(value)}>; rel=next"
        return _request(), _response(headers={"Link": [link]})
    if place == "x-api-key":
        return _request(headers={"X-API-Key": value}), _response()
    if place == "cookie":
        return _request(
            headers={"Cookie": f"theme=dark; session={quote(value, safe='')}; lang=en"}
        ), _response()
    if place == "set-cookie":
        cookie = f"sid={quote(value, safe='')}; Path=/; Secure; HttpOnly"
        return _request(), _response(headers={"Set-Cookie": [cookie]})
    if place == "query":
        return _request(
            f"https://api.example/v1/jobs?page=2&{field}={quote_plus(value)}&sort=asc"
        ), _response()
    if place == "uri":
        state = quote(value, safe="" if form.encode_all else "+/=")
        return _request(f"https://api.example/v1/callback?state={state}#done"), _response()
    if place in ("json-field", "json-text", "compressed"):
        if place == "json-text":
            data: dict[str, Any] = {"event": "issued", "note": f"issued {value} today"}
        else:
            data = _nest(field, value, form.depth)
        body, headers = json.dumps(data).encode(), {"Content-Type": "application/json"}
        if place == "compressed":
            body, headers = _compress(body, form.encoding), {**headers, "Content-Encoding": form.encoding}
        if form.request_side:
            return _request(body=body, headers=headers, method="POST"), _response()
        return _request(), _response(body, {name: [value] for name, value in headers.items()})
    if place == "ndjson":
        lines = [{"event": "login"}, _nest(field, value, form.depth), {"event": "done"}]
        body = "".join(json.dumps(line) + "\n" for line in lines).encode()
        return _request(), _response(body, {"Content-Type": ["application/x-ndjson"]})
    if place == "form":
        body = f"email=a%40b.test&{field}={quote_plus(value)}&remember=1".encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return _request(body=body, headers=headers, method="POST"), _response()
    if place == "multipart":
        body, content_type = _multipart(field, value, form.binary)
        return _request(body=body, headers={"Content-Type": content_type}, method="POST"), _response()
    assert place == "folded", place
    # a long one-line body that YAML folds across lines: a JSON body in single quotes, folded at spaces
    # (inside a password that has some); a text body with a carriage return in double quotes, cut
    # anywhere (inside any secret) with a trailing backslash
    if form.double_quoted:
        text = f"{LOREM}\r\n{field}={value}\r\n{LOREM}"
        if secret.family != "opaque":
            text += f" {value} {LOREM}"
        return _request(), _response(text.encode(), {"Content-Type": ["text/plain"]})
    data = {"description": LOREM, field: value, "note": LOREM}
    if secret.family != "opaque":
        data["note"] = f"{LOREM} {value} {LOREM}"
    return _request(), _response(json.dumps(data).encode())


@st.composite
def exchanges(draw: st.DrawFn) -> tuple[Secret, str, Exchange]:
    """One interaction holding one secret, in a place and form Hypothesis picks."""
    place = draw(st.sampled_from(PLACES))
    secret = draw(anywhere_secrets if place in SHAPE_ONLY else secrets)
    return secret, place, plant(place, secret, draw(forms))


def _write(path: Path, items: list[Exchange]) -> str:
    text: str = serialize(
        {"requests": [r for r, _ in items], "responses": [r for _, r in items]}, yamlserializer
    )
    path.write_text(text)
    return text


def _spans(text: str) -> list[tuple[int, int]]:
    """The line range (1-based, inclusive) of each interaction of a written cassette."""
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith("- request:")]
    ends = [start - 1 for start in starts[1:]] + [len(text.splitlines())]
    return list(zip(starts, ends, strict=True))


def _decoded_view(text: str) -> str:
    """Everything a cassette says once decoded, built independently of the kit: URIs and forms
    URL-decoded, ``Basic`` credentials and cookies decoded, bodies decompressed, JSON unescaped."""
    seen: list[str] = []

    def add(value: str) -> None:
        seen.extend([value, unquote(value), unquote_plus(value)])
        for document in [value, *value.splitlines()]:  # a JSON body, or the lines of NDJSON
            with contextlib.suppress(ValueError):
                seen.extend(_strings(json.loads(document)))

    for interaction in yaml.safe_load(text)["interactions"]:
        for side in ("request", "response"):
            part = interaction[side]
            headers = {name.lower(): values for name, values in part["headers"].items()}
            for values in headers.values():
                for value in values:
                    add(str(value))
                    scheme, _, credential = str(value).partition(" ")
                    if scheme.lower() == "basic":
                        with contextlib.suppress(ValueError):
                            add(base64.b64decode(credential, validate=True).decode("utf-8", errors="replace"))
            if side == "request":
                add(part["uri"])
            body = part["body"]["string"] if side == "response" else part["body"]
            raw = body if isinstance(body, bytes) else (body or "").encode("utf-8", errors="surrogateescape")
            for encoding in reversed(
                [e.strip() for e in headers.get("content-encoding", [""])[0].split(",")]
            ):
                if encoding:
                    raw = {
                        "gzip": gzip.decompress,
                        "deflate": zlib.decompress,
                        "br": brotli.decompress,
                    }[encoding](raw)
            add(raw.decode("utf-8", errors="replace"))
    return "\n".join(seen)


def _strings(data: Any) -> list[str]:
    """Every string (and number) of a decoded JSON document, unescaped."""
    if isinstance(data, dict):
        return [text for key, value in data.items() for text in [key, *_strings(value)]]
    if isinstance(data, list):
        return [text for item in data for text in _strings(item)]
    return [data if isinstance(data, str) else json.dumps(data)]


#: What an excerpt says besides the cassette's own text: a piece of a secret found here is a coincidence.
EXCERPT_WORDS = (
    "header authorization proxy-authorization (Basic) JSON field form field multipart part query "
    "parameter URL user:password Basic credential in a value, a body, a binary (base64) value "
    "(gzip, deflate, br, compressed) jwt api-key webhook-secret password secret cookie"
)


def _assert_no_piece_shown(leaks: list[Leak], planted: list[Secret], scaffold: str) -> None:
    """No excerpt shows a secret, nor any eight characters of one (but those that the redacted
    cassette or the excerpts' own words hold by coincidence)."""
    shown = "\n".join(str(leak) for leak in leaks)
    for secret in planted:
        value = secret.value
        pieces = {value[i : i + 8] for i in range(max(1, len(value) - 7))}
        assert not [p for p in pieces if p in shown and p not in scaffold], (secret.family, shown)


def _check(planted: list[tuple[Secret, str, Exchange]], folder: Path) -> None:
    """Raw: every secret present and reported in its interaction; redacted: none left, none reported."""
    folder.mkdir(parents=True, exist_ok=True)
    secrets = [secret for secret, _, _ in planted]
    raw_text = _write(folder / "raw.yaml", [copy.deepcopy(exchange) for _, _, exchange in planted])
    raw_view = _decoded_view(raw_text)
    assert [s.family for s in secrets if s.value not in raw_view] == [], "a secret was not planted"

    leaks = scan_path(folder / "raw.yaml", PASSWORDS)
    for (secret, place, _), (first, last) in zip(planted, _spans(raw_text), strict=True):
        kinds = {leak.kind for leak in leaks if first <= leak.line <= last}
        expected = secret.kinds
        assert kinds and (expected is None or kinds & expected), (
            f"{secret.family} in {place} (lines {first}-{last}) not reported: {kinds}"
        )

    redactor = CassetteRedactor(known_secrets=PASSWORDS)
    redacted = [
        (
            redactor.before_record_request(copy.deepcopy(request)),
            redactor.before_record_response(copy.deepcopy(response)),
        )
        for _, _, (request, response) in planted
    ]
    clean_text = _write(folder / "clean.yaml", redacted)
    clean_view = _decoded_view(clean_text)
    left = [(s.family, place) for s, place, _ in planted if s.value in clean_view or s.value in clean_text]
    assert left == [], f"secrets the redactor left: {left}"
    after = scan_path(folder / "clean.yaml", PASSWORDS)
    assert after == [], "\n".join(map(str, after))
    _assert_no_piece_shown(leaks, secrets, clean_text + EXCERPT_WORDS + str(folder))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(planted=st.lists(exchanges(), min_size=1, max_size=5))
def test_every_planted_secret_is_found_raw_and_gone_redacted(
    planted: list[tuple[Secret, str, Exchange]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Raw: each secret is present and reported where it is; redacted: none left, the scanner silent."""
    _check(planted, tmp_path_factory.mktemp("property"))


#: One fixed secret of each family (the webhook secrets' bodies full of ``+/`` or ``-_``), for the matrix.
FAMILIES: dict[str, Secret] = {
    "jwt": _jwt("HS256", "matrix", bytes(range(32))),
    "api-key": Secret("sk_" + "live_" + "Q7w8E9r0" * 3, "api-key", frozenset({"api-key"})),
    "whsec-base64": Secret(
        "whsec_" + base64.b64encode(b"\xfb\xff\xbf" * 10).decode(),
        "webhook-secret",
        frozenset({"webhook-secret"}),
    ),
    "whsec-base64url": Secret(
        "whsec_" + base64.urlsafe_b64encode(b"\xfb\xff\xbf" * 10).decode(),
        "webhook-secret",
        frozenset({"webhook-secret"}),
    ),
    "refresh-token": Secret("rt_" + "Zq9-x_" * 5, "opaque", None),
    **{
        f"password-{n}": Secret(value, "password", frozenset({"password"}))
        for n, value in enumerate(PASSWORDS)
    },
}
MATRIX = [
    (family, place)
    for family in FAMILIES
    for place in PLACES
    if not (place in SHAPE_ONLY and FAMILIES[family].family == "opaque")
]


@pytest.mark.parametrize(("family", "place"), MATRIX, ids=[f"{f}-in-{p}" for f, p in MATRIX])
def test_every_family_in_every_place(family: str, place: str, tmp_path: Path) -> None:
    """The whole matrix once, in the forms that are hardest (a secret field name other than the usual,
    a binary multipart part, brotli, a double-quoted fold)."""
    form = Form(
        "client_secret",
        depth=3,
        encoding="br",
        binary=b"\xff\x00",
        double_quoted=True,
        scheme="",
        encode_all=False,
    )
    secret = FAMILIES[family]
    _check([(secret, place, plant(place, secret, form))], tmp_path)
