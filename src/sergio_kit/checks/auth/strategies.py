"""Hypothesis strategies that turn a real token, its claims or a login into what an attacker sends.

Every family has two faces: ``known_*`` lists the classic cases (OWASP WSTG JWT testing, RFC 8725,
jwt_tool's attacks) so a check can send each of them once, and the strategy of the same family draws
from that list and from generated variants around it, so Hypothesis can explore further.

Tokens are signed with PyJWT and explicit algorithms (:func:`sign`); only unsigned or broken forms
are assembled by hand. :class:`Forged` and :class:`LoginBody` keep their payloads out of ``repr``,
so a Hypothesis "falsifying example" never prints a token or a megabyte of body.
"""

from __future__ import annotations

import json
import warnings
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from hypothesis import strategies as st
from jwt.algorithms import HMACAlgorithm
from jwt.warnings import InsecureKeyLengthWarning

__all__ = [
    "ALG_NONE_SPELLINGS",
    "ATTACKER_KEY",
    "COMMON_SECRETS",
    "COMPANY_CLAIM",
    "UNROUTABLE",
    "ClaimSet",
    "Forged",
    "LoginBody",
    "alg_none_variants",
    "b64url",
    "claim_sets",
    "injected_headers",
    "json_values",
    "known_alg_none",
    "known_claim_sets",
    "known_header_injections",
    "known_login_bodies",
    "known_malformed_authorization",
    "known_null_signatures",
    "known_tamperings",
    "known_truncations",
    "known_weak_keys",
    "login_bodies",
    "malformed_authorization",
    "null_signatures",
    "segment",
    "sign",
    "split_token",
    "tampered_claims",
    "truncated_signatures",
    "unverified_claims",
    "unverified_header",
    "weak_key_forgeries",
]

ALG_NONE_SPELLINGS = ("none", "None", "NONE", "nOnE")
# Keys people leave in place: library examples, tutorials, framework defaults (jwt_tool's list starts so).
COMMON_SECRETS = (
    "secret",
    "changeme",
    "password",
    "your-256-bit-secret",
    "jwt-secret",
    "jwt_secret",
    "secretkey",
    "supersecret",
    "sergio",
    "key",
    "123456",
    "test",
)
ATTACKER_KEY = b"sergio-kit attacker key, not a secret of any target"
UNROUTABLE = "https://192.0.2.1"  # TEST-NET-1 (RFC 5737): a target that fetches it hangs, visibly
EXTRA_PREFIX = "x-sergio-kit-"  # claim and header names no target gives a meaning to
IDENTITY_CLAIMS = ("iss", "aud", "sub", "cid")
TIME_CLAIMS = ("exp", "iat", "nbf")
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp")
#: The company claim. A target may take the company from the user's record instead and ignore it, so a
#: changed or missing ``cid`` may be accepted or refused: what a correct target never does is answer
#: with another company's data (the check compares what the answer holds with the real token's).
COMPANY_CLAIM = "cid"
JSON = "application/json"


@dataclass(frozen=True)
class Forged:
    """A credential the target must refuse: a token (or a whole ``Authorization`` value) and what was
    done to it. ``repr`` shows only the note."""

    note: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class ClaimSet:
    """A header and claim set to sign, and whether a correct target must accept it.

    ``valid`` is ``True`` (must be accepted), ``False`` (must be refused with 401) or ``None`` (the
    standards leave it to the target: either answer is right, a 5xx never is).
    """

    note: str
    claims: dict[str, Any]
    header: dict[str, Any] = field(default_factory=dict)
    valid: bool | None = True


@dataclass(frozen=True)
class LoginBody:
    """A login request body that must be refused with a 4xx: raw bytes and the Content-Type sent."""

    note: str
    content: bytes = field(repr=False)
    content_type: str | None = JSON


# -- token plumbing -------------------------------------------------------------------------------


def b64url(raw: bytes) -> str:
    """Unpadded base64url, as JWS compact serialization writes it."""
    return urlsafe_b64encode(raw).decode().rstrip("=")


def segment(value: Any, *, separators: tuple[str, str] = (",", ":")) -> str:
    """The base64url JSON segment of a header or claim set."""
    return b64url(json.dumps(value, separators=separators).encode())


def split_token(token: str) -> tuple[str, str, str]:
    """``(header, payload, signature)`` segments of a compact JWS; ``ValueError`` if it has not three."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError(f"a compact JWS has 3 segments, this one has {len(parts)}")
    return parts[0], parts[1], parts[2]


def unverified_header(token: str) -> dict[str, Any]:
    """The token's JOSE header, not verified."""
    return dict(jwt.get_unverified_header(token))


def unverified_claims(token: str) -> dict[str, Any]:
    """The token's claims, not verified (PyJWT with signature verification off)."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def sign(
    claims: Mapping[str, Any],
    key: bytes,
    *,
    algorithm: str = "HS256",
    header: Mapping[str, Any] | None = None,
) -> str:
    """A compact JWS of ``claims`` signed with ``key`` by PyJWT's ``algorithm``.

    ``header`` adds or overrides header parameters. An ``alg`` given there is written as given while
    the signature still uses ``algorithm`` (a lying header). PyJWT's ``encode`` is used whenever it
    accepts the input; it refuses some of what an attacker sends (an empty HMAC key, a non-string
    ``iss`` or ``kid``), and those tokens are assembled here, still signed by PyJWT's algorithm object.
    """
    extra = dict(header or {})
    if extra.get("alg", algorithm) == algorithm and key:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureKeyLengthWarning)
                return jwt.encode(dict(claims), key, algorithm=algorithm, headers=extra or None)
        except (TypeError, ValueError, jwt.PyJWTError):
            pass
    signing_input = f"{segment({'alg': algorithm, 'typ': 'JWT', **extra})}.{segment(dict(claims))}"
    signer = jwt.get_algorithm_by_name(algorithm)
    prepared = key if isinstance(signer, HMACAlgorithm) else signer.prepare_key(key)
    return f"{signing_input}.{b64url(signer.sign(signing_input.encode(), prepared))}"


def _signature_bytes(signature: str) -> bytes:
    return urlsafe_b64decode(signature + "=" * (-len(signature) % 4))


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Any JSON value: wrong types, huge integers, odd unicode, nested arrays and objects."""
    odd_text = st.sampled_from(["", "\u202e", "\u200d", "\U0001f600", "e\u0301", "\x00", "\ufeff", "ǅ"])
    huge = st.sampled_from([2**53 + 1, 2**63, -(2**63), 2**64, 10**30, -(10**30)])
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | huge
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
        | odd_text
    )
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
        ),
        max_leaves=max_leaves,
    )


_extra_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=10).map(
    lambda name: EXTRA_PREFIX + name
)


# -- signature attacks on a real token ------------------------------------------------------------


def known_tamperings(token: str) -> list[Forged]:
    """The real token with its payload changed and its signature kept: a longer life, an extra
    privilege, another subject, and the same claims merely re-serialized (other bytes, same meaning)."""
    header, payload, signature = split_token(token)
    claims = unverified_claims(token)
    changed: list[tuple[str, dict[str, Any]]] = []
    if isinstance(claims.get("exp"), int | float):
        changed.append(("exp moved a day later", {**claims, "exp": claims["exp"] + 86400}))
    changed.append(("an extra 'role': 'admin' claim", {**claims, "role": "admin"}))
    changed.append(("sub changed", {**claims, "sub": f"{claims.get('sub', '')}x"}))
    forged = [
        Forged(f"{note}, signature kept", f"{header}.{segment(new)}.{signature}") for note, new in changed
    ]
    respaced = segment(claims, separators=(", ", ": "))
    if respaced != payload:
        forged.append(
            Forged(
                "the same claims re-serialized with spaces, signature kept",
                f"{header}.{respaced}.{signature}",
            )
        )
    return forged


def tampered_claims(token: str) -> st.SearchStrategy[Forged]:
    """The real token with one claim changed, added or re-typed in its payload, its header and
    signature kept (:func:`known_tamperings` and generated changes)."""
    header, payload, signature = split_token(token)
    claims = unverified_claims(token)
    names = st.sampled_from(sorted(claims)) | _extra_names if claims else _extra_names

    def tamper(name: str, value: Any) -> Forged:
        new_payload = segment({**claims, name: value})
        return Forged(
            f"claim {name!r} set to a {type(value).__name__}, signature kept",
            f"{header}.{new_payload}.{signature}",
        )

    generated = st.builds(tamper, names, json_values()).filter(lambda f: split_token(f.token)[1] != payload)
    return st.sampled_from(known_tamperings(token)) | generated


def known_truncations(token: str) -> list[Forged]:
    """The real token with its signature cut short: at whole base64 quanta (4 characters, which decode
    cleanly) and at odd lengths (one character short, a single character)."""
    header, payload, signature = split_token(token)
    length = len(signature)
    cuts = {length - 1, 40, 32, 20, 8, 4, 1} & set(range(1, length))
    keeps = sorted(cuts, key=lambda keep: (keep % 4 != 0, -keep))  # whole quanta first, longest first
    return [_cut(header, payload, signature, keep) for keep in keeps]


def _cut(header: str, payload: str, signature: str, keep: int) -> Forged:
    return Forged(
        f"signature cut to {keep} of {len(signature)} characters", f"{header}.{payload}.{signature[:keep]}"
    )


def truncated_signatures(token: str) -> st.SearchStrategy[Forged]:
    """The real token with its signature cut to any non-empty proper prefix (valid base64url lengths
    and odd ones alike)."""
    header, payload, signature = split_token(token)
    if len(signature) < 2:
        return st.sampled_from(known_truncations(token))
    cuts = st.integers(1, len(signature) - 1).map(lambda keep: _cut(header, payload, signature, keep))
    return st.sampled_from(known_truncations(token)) | cuts


def known_null_signatures(token: str) -> list[Forged]:
    """The real token with no signature: an empty third segment, a signature of zero bytes of the
    right length, and no third segment at all."""
    header, payload, signature = split_token(token)
    zeros = b64url(bytes(len(_signature_bytes(signature)) or 32))
    return [
        Forged("an empty signature", f"{header}.{payload}."),
        Forged("a signature of zero bytes", f"{header}.{payload}.{zeros}"),
        Forged("no signature segment", f"{header}.{payload}"),
    ]


def null_signatures(token: str) -> st.SearchStrategy[Forged]:
    """One of :func:`known_null_signatures`."""
    return st.sampled_from(known_null_signatures(token))


def known_alg_none(token: str) -> list[Forged]:
    """The real claims under ``alg`` none/None/NONE/nOnE with an empty signature, and ``none`` with the
    original signature left in place."""
    _, payload, signature = split_token(token)
    header = unverified_header(token)
    forged = [
        Forged(f"alg {alg!r} and an empty signature", f"{segment({**header, 'alg': alg})}.{payload}.")
        for alg in ALG_NONE_SPELLINGS
    ]
    forged.append(
        Forged(
            "alg 'none' with the original signature kept",
            f"{segment({**header, 'alg': 'none'})}.{payload}.{signature}",
        )
    )
    return forged


def alg_none_variants(token: str) -> st.SearchStrategy[Forged]:
    """The real claims, unsigned, under every spelling of ``alg: none`` (:func:`known_alg_none`)."""
    return st.sampled_from(known_alg_none(token))


def known_weak_keys(claims: Mapping[str, Any]) -> list[Forged]:
    """``claims`` signed HS256 with the empty key and with each of :data:`COMMON_SECRETS`."""
    forged = [Forged("HS256 signed with the empty key", sign(claims, b""))]
    forged += [
        Forged(f"HS256 signed with the common secret {weak!r}", sign(claims, weak.encode()))
        for weak in COMMON_SECRETS
    ]
    return forged


def weak_key_forgeries(claims: Mapping[str, Any]) -> st.SearchStrategy[Forged]:
    """``claims`` signed HS256 with a guessable key (:func:`known_weak_keys`)."""
    return st.sampled_from(known_weak_keys(claims))


def known_header_injections(claims: Mapping[str, Any]) -> list[Forged]:
    """``claims`` under headers that name their own key: an embedded ``jwk`` (signed with it), ``jku``
    and ``x5u`` URLs (unroutable: a target that fetches them hangs), ``kid`` path traversal to
    ``/dev/null`` (signed with the empty key) and ``kid`` SQL injection (signed with the selected value)."""
    jwk = {"kty": "oct", "k": b64url(ATTACKER_KEY)}
    return [
        Forged("a 'jwk' header carrying the signing key", sign(claims, ATTACKER_KEY, header={"jwk": jwk})),
        Forged(
            "a 'jku' header pointing at an unroutable key set",
            sign(
                claims,
                ATTACKER_KEY,
                header={"jku": f"{UNROUTABLE}/.well-known/jwks.json", "kid": "sergio-kit"},
            ),
        ),
        Forged(
            "an 'x5u' header pointing at an unroutable certificate",
            sign(claims, ATTACKER_KEY, header={"x5u": f"{UNROUTABLE}/cert.pem"}),
        ),
        Forged(
            "'kid' traversing to /dev/null, signed with the empty key",
            sign(claims, b"", header={"kid": "../../../../../../../../dev/null"}),
        ),
        Forged("'kid' /dev/null, signed with the empty key", sign(claims, b"", header={"kid": "/dev/null"})),
        Forged(
            "'kid' SQL injection selecting a known key",
            sign(claims, b"sergio-kit", header={"kid": "x' UNION SELECT 'sergio-kit' -- "}),
        ),
        Forged(
            "'kid' SQL injection ' OR '1'='1, signed with the empty key",
            sign(claims, b"", header={"kid": "' OR '1'='1"}),
        ),
    ]


def injected_headers(claims: Mapping[str, Any]) -> st.SearchStrategy[Forged]:
    """``claims`` under an injected header (:func:`known_header_injections`), or with a generated
    traversal/SQL ``kid`` or a generated embedded ``jwk`` key."""
    prefixes = st.sampled_from(["../" * 8, "..\\" * 8, "/", "' OR ", '" OR ', "'; -- ", "x' UNION SELECT '"])
    tails = st.text(alphabet="abcdefghijklmnopqrstuvwxyz/._-'= ", max_size=20)
    keys = st.sampled_from([b"", ATTACKER_KEY]) | st.binary(min_size=1, max_size=64)

    def kid_attack(prefix: str, tail: str, key: bytes) -> Forged:
        return Forged(
            f"a {prefix.strip()[:6]!r}... 'kid' injection", sign(claims, key, header={"kid": prefix + tail})
        )

    def embedded(key: bytes) -> Forged:
        return Forged(
            "a 'jwk' header with a generated key",
            sign(claims, key, header={"jwk": {"kty": "oct", "k": b64url(key)}}),
        )

    generated = st.builds(kid_attack, prefixes, tails, keys) | st.binary(min_size=1, max_size=64).map(
        embedded
    )
    return st.sampled_from(known_header_injections(claims)) | generated


# -- claim sets to re-sign with the real key ----------------------------------------------------------

_REMOVE = object()
_Change = tuple[str, str, Any, bool | None]  # (where: "claim" | "header", name, value or _REMOVE, valid)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _time_verdict(name: str, value: Any, reference: float) -> bool | None:
    """Whether a time claim of ``value`` is valid at ``reference`` (None: a matter of policy)."""
    if not _is_number(value):
        return False
    if name == "exp":
        if value <= reference - 60:
            return False
        return True if reference + 600 <= value <= reference + 3600 else None
    if value >= reference + 600:
        return False
    return True if reference - 3600 <= value <= reference - 60 else None


def _apply(base_claims: Mapping[str, Any], changes: list[_Change], note: str) -> ClaimSet:
    claims, header = dict(base_claims), dict[str, Any]()
    verdicts: list[bool | None] = []
    for where, name, value, valid in changes:
        target = claims if where == "claim" else header
        if value is _REMOVE:
            target.pop(name, None)
        else:
            target[name] = value
        verdicts.append(valid)
    verdict: bool | None = False if False in verdicts else (None if None in verdicts else True)
    return ClaimSet(note, claims, header, verdict)


def _removal_verdict(name: str) -> bool | None:
    if name in REQUIRED_CLAIMS:
        return False
    return True if name == "nbf" else None


def known_claim_sets(base_claims: Mapping[str, Any], other_company: str | None = None) -> list[ClaimSet]:
    """Classic odd claim sets: identity and time claims of the wrong type, a required claim removed,
    ``cid`` odd or naming ``other_company`` (either verdict, see :data:`COMPANY_CLAIM`), and valid
    ones (an optional claim removed, unknown claims and header parameters added)."""
    cid = base_claims.get(COMPANY_CLAIM, "")
    odd: list[tuple[str, _Change]] = [
        ("cid is a number", ("claim", COMPANY_CLAIM, 123, None)),
        ("cid is null", ("claim", COMPANY_CLAIM, None, None)),
        ("cid is a list holding the real company", ("claim", COMPANY_CLAIM, [cid], None)),
        ("cid is an object", ("claim", COMPANY_CLAIM, {"id": cid}, None)),
        ("sub is a number", ("claim", "sub", 7, False)),
        ("exp is a string", ("claim", "exp", "never", False)),
        ("iat is a boolean", ("claim", "iat", True, False)),
        ("aud is another audience in a list", ("claim", "aud", ["https://other.example"], False)),
        ("iss removed", ("claim", "iss", _REMOVE, False)),
        ("nbf removed", ("claim", "nbf", _REMOVE, True)),
        (
            "an unknown claim with nested unicode",
            ("claim", EXTRA_PREFIX + "extra", {"ü": ["\u202e", 2**64, None]}, True),
        ),
        ("an unknown header parameter", ("header", EXTRA_PREFIX + "param", [1, {"a": "\U0001f600"}], True)),
    ]
    if other_company is not None:
        odd.append(("cid names another company", ("claim", COMPANY_CLAIM, other_company, None)))
    return [_apply(base_claims, [change], note) for note, change in odd]


def claim_sets(base_claims: Mapping[str, Any], reference: float | None = None) -> st.SearchStrategy[ClaimSet]:
    """``base_claims`` (a valid set) with one to three generated changes, and the verdict a correct
    target must reach: identity claims replaced, time claims re-typed or moved, claims removed, unknown
    claims and header parameters added, ``kid``/``typ``/``alg`` headers changed.

    ``reference`` is the target time the claims are judged at (default: the base ``iat``).
    """
    now = float(reference if reference is not None else base_claims.get("iat", 0))
    identity = [name for name in IDENTITY_CLAIMS if name in base_claims]

    def not_original(name: str) -> Callable[[Any], bool]:
        original = base_claims.get(name)
        return lambda value: value != original and not (isinstance(value, list) and original in value)

    def replaced(name: str) -> st.SearchStrategy[_Change]:
        verdict = None if name == COMPANY_CLAIM else False
        return json_values().filter(not_original(name)).map(lambda value: ("claim", name, value, verdict))

    def moved(name: str) -> st.SearchStrategy[_Change]:
        offsets = st.integers(-(10**12), 10**12) | st.floats(-1e12, 1e12, allow_nan=False)
        absolute = st.sampled_from([0, -1, 2**31, 2**53 + 1, 2**63, 10**30, -(10**30)])
        values = offsets.map(lambda offset: now + offset) | absolute
        return values.map(lambda value: ("claim", name, value, _time_verdict(name, value, now)))

    time_names = st.sampled_from(TIME_CLAIMS)
    changes: list[st.SearchStrategy[_Change]] = [
        st.builds(lambda name, value: ("claim", name, value, True), _extra_names, json_values()),
        time_names.flatmap(
            lambda name: (
                json_values().filter(lambda v: not _is_number(v)).map(lambda v: ("claim", name, v, False))
            )
        ),
        time_names.flatmap(moved),
        st.sampled_from(sorted(base_claims)).map(
            lambda name: ("claim", name, _REMOVE, _removal_verdict(name))
        ),
        json_values().map(lambda value: ("claim", "jti", value, None)),
        st.builds(lambda name, value: ("header", name, value, True), _extra_names, json_values()),
        st.text(max_size=30).map(lambda kid: ("header", "kid", kid, None)),
        json_values().map(lambda value: ("header", "typ", value, None)),
        json_values()
        .filter(lambda value: value != "HS256")
        .map(lambda value: ("header", "alg", value, False)),
    ]
    if identity:
        changes.append(st.sampled_from(identity).flatmap(replaced))

    def describe(picked: list[_Change]) -> ClaimSet:
        parts = [
            f"{where} {name!r} {'removed' if value is _REMOVE else 'set to a ' + type(value).__name__}"
            for where, name, value, _ in picked
        ]
        return _apply(base_claims, picked, ", ".join(parts))

    generated = st.lists(st.one_of(changes), min_size=1, max_size=3, unique_by=lambda c: (c[0], c[1])).map(
        describe
    )
    return st.sampled_from(known_claim_sets(base_claims)) | generated


# -- the Authorization header and the login body ------------------------------------------------------


def known_malformed_authorization(token: str) -> list[Forged]:
    """``Authorization`` values that carry a valid token but are not ``Bearer <token>`` (RFC 6750
    §2.1): another scheme, no scheme, no token, no space, a tab for the space, trailing data. The
    scheme's case and more than one space are not faults (``credentials = "Bearer" 1*SP b64token``,
    and RFC 9110 §11.4's ``auth-scheme [ 1*SP ...]``: ``bearer  <token>`` is valid), so they are not
    among them; a tab is not SP, so accepting one is lenient parsing."""
    return [
        Forged("'Basic <token>'", f"Basic {token}"),
        Forged("the bare token, no scheme", token),
        Forged("'Token <token>'", f"Token {token}"),
        Forged("'JWT <token>'", f"JWT {token}"),
        Forged("'Bearer' without a token", "Bearer"),
        Forged("'Bearer <token> extra'", f"Bearer {token} extra"),
        Forged("'Bearer<token>' (no space)", f"Bearer{token}"),
        Forged("'Bearer <token>,<token>'", f"Bearer {token},{token}"),
        Forged("'Bearer:<token>'", f"Bearer:{token}"),
        Forged("'Bearer<TAB><token>' (a tab, not a space)", f"Bearer\t{token}"),
    ]


def malformed_authorization(token: str) -> st.SearchStrategy[Forged]:
    """A malformed ``Authorization`` value around the real token (:func:`known_malformed_authorization`,
    other scheme names, odd separators, trailing data). Values are valid HTTP field values."""
    schemes = st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12
    )
    other_scheme = schemes.filter(lambda s: s.lower() != "bearer").map(
        lambda s: Forged(f"scheme {s!r}", f"{s} {token}")
    )
    separators = st.sampled_from([":", ",", "=", ";", "\t", " \t"])  # not "  ": 1*SP is valid
    odd_separator = separators.map(
        lambda sep: Forged(f"'Bearer' and the token separated by {sep!r}", f"Bearer{sep}{token}")
    )
    suffixes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789,;!\"'()", min_size=1, max_size=12)
    trailing = st.builds(
        lambda sep, tail: Forged(f"trailing data after the token ({sep!r})", f"Bearer {token}{sep}{tail}"),
        st.sampled_from([" ", ",", ", ", ";", " Bearer "]),
        suffixes,
    )
    return st.sampled_from(known_malformed_authorization(token)) | other_scheme | odd_separator | trailing


def _json_body(note: str, value: Any, content_type: str | None = JSON) -> LoginBody:
    return LoginBody(note, json.dumps(value).encode(), content_type)


def known_login_bodies() -> list[LoginBody]:
    """Classic bad login bodies: broken JSON, wrong types, missing fields, a body over 1 MiB, deep
    nesting, odd unicode, wrong encodings and content types. None carries valid credentials."""
    nobody = {"email": "sergio-kit-nobody@example.com", "password": "not-the-password"}
    raw = [
        ("JSON cut short", b'{"email": '),
        ("not JSON", b"{not json"),
        ("invalid UTF-8", b"\xff\xfe\xfd"),
        ("an empty body", b""),
        ("NaN literals", b'{"email": NaN, "password": NaN}'),
        ("a lone UTF-16 surrogate escape", b'{"email": "\\ud800@example.com", "password": "x"}'),
        ("10 000 nested arrays", b"[" * 10_000 + b"]" * 10_000),
    ]
    bodies = [LoginBody(note, content) for note, content in raw]
    bodies += [
        _json_body("an array", []),
        _json_body("null", None),
        _json_body("wrong types", {"email": 5, "password": ["x"]}),
        _json_body("operator objects", {"email": {"$ne": ""}, "password": {"$ne": ""}}),
        _json_body("no password", {"email": nobody["email"]}),
        _json_body("no email", {"password": nobody["password"]}),
        _json_body("a 64 KiB email", {**nobody, "email": "a" * 65536 + "@example.com"}),
        _json_body("a body over 1 MiB", {**nobody, "password": "x" * (1 << 20)}),
        _json_body(
            "odd unicode", {"email": "\u202enobody\u200d@example.com", "password": "\U0001f600e\u0301\x00"}
        ),
        LoginBody("a UTF-16 body", json.dumps(nobody).encode("utf-16"), JSON),
        LoginBody(
            "a form-encoded body",
            b"email=nobody%40example.com&password=x",
            "application/x-www-form-urlencoded",
        ),
        _json_body("JSON sent as text/plain", nobody, "text/plain"),
    ]
    return bodies


def login_bodies() -> st.SearchStrategy[LoginBody]:
    """A login body that must be refused with a 4xx (:func:`known_login_bodies`, generated objects
    with missing or wrong-typed fields and odd unicode, random bytes under various content types)."""
    fields = st.dictionaries(
        st.sampled_from(["email", "password", "remember", ""]), json_values(), max_size=3
    )
    objects = st.builds(
        lambda value, ascii_only: LoginBody(
            "a generated JSON object", json.dumps(value, ensure_ascii=ascii_only).encode()
        ),
        fields,
        st.booleans(),
    )
    content_types = st.sampled_from(
        [JSON, "application/json; charset=utf-8", "text/plain", "application/xml", None]
    )
    noise = st.builds(
        lambda content, kind: LoginBody(f"{len(content)} random bytes as {kind}", content, kind),
        st.binary(max_size=200),
        content_types,
    )
    return st.sampled_from(known_login_bodies()) | objects | noise
