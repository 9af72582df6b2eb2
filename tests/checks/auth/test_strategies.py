"""The token-mutating strategies yield what they promise: same claims under a broken signature, a
lying header or a malformed ``Authorization`` value; claim sets whose verdict matches their content."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from base64 import urlsafe_b64decode
from typing import Any

import jwt
import pytest
from hypothesis import given, settings

from sergio_kit.checks.auth.strategies import (
    ALG_NONE_SPELLINGS,
    COMMON_SECRETS,
    ClaimSet,
    Forged,
    LoginBody,
    alg_none_variants,
    b64url,
    claim_sets,
    injected_headers,
    known_login_bodies,
    known_null_signatures,
    known_truncations,
    login_bodies,
    malformed_authorization,
    sign,
    split_token,
    tampered_claims,
    truncated_signatures,
    unverified_claims,
    unverified_header,
    weak_key_forgeries,
)

KEY = b"test-signing-key-of-thirty-two-bytes!"
NOW = 1_800_000_000
CLAIMS: dict[str, Any] = {
    "iss": "https://api.sergio.test",
    "aud": "sergio-api",
    "sub": "usr_member",
    "cid": "cmp_acme",
    "iat": NOW,
    "nbf": NOW,
    "exp": NOW + 3600,
    "jti": "0123456789abcdef01234567",
    "typ": "access",
}
TOKEN = sign(CLAIMS, KEY)
HEADER, PAYLOAD, SIGNATURE = split_token(TOKEN)
WELL_FORMED_BEARER = re.compile(r"^Bearer ([A-Za-z0-9\-._~+/]+=*)$", re.IGNORECASE)
EXAMPLES = settings(max_examples=60, deadline=None, database=None)


def _decoded(segment: str) -> Any:
    return json.loads(urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _verifies(token: str, key: bytes) -> bool:
    signing_input, _, signature = token.rpartition(".")
    expected = b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature)


def test_sign_uses_pyjwt_and_handles_what_pyjwt_refuses() -> None:
    """A normal token verifies with PyJWT; an empty-key, non-string-iss token is still a valid HS256 JWS."""
    options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
    decoded = jwt.decode(TOKEN, KEY, algorithms=["HS256"], audience="sergio-api", options=options)  # type: ignore[arg-type]
    assert decoded == CLAIMS
    odd = sign({**CLAIMS, "iss": 5}, b"", header={"kid": 7})
    assert _verifies(odd, b"")
    assert _decoded(split_token(odd)[0]) == {"alg": "HS256", "typ": "JWT", "kid": 7}
    lying = sign(CLAIMS, KEY, header={"alg": "HS512"})
    assert _decoded(split_token(lying)[0])["alg"] == "HS512" and _verifies(lying, KEY)


@EXAMPLES
@given(tampered_claims(TOKEN))
def test_tampered_claims_keep_header_and_signature_but_change_the_payload(forged: Forged) -> None:
    """Header and signature are the real token's; the payload is another JSON object."""
    header, payload, signature = split_token(forged.token)
    assert (header, signature) == (HEADER, SIGNATURE)
    assert payload != PAYLOAD
    assert isinstance(_decoded(payload), dict)
    assert not _verifies(forged.token, KEY)


@EXAMPLES
@given(truncated_signatures(TOKEN))
def test_truncated_signatures_are_proper_prefixes(forged: Forged) -> None:
    """The signing input is untouched and the signature a non-empty proper prefix of the real one."""
    header, payload, signature = split_token(forged.token)
    assert (header, payload) == (HEADER, PAYLOAD)
    assert signature and len(signature) < len(SIGNATURE) and SIGNATURE.startswith(signature)


def test_known_truncations_include_whole_quanta_and_odd_lengths() -> None:
    """Cuts at multiples of 4 characters (clean base64) come first; odd lengths are there too."""
    lengths = [len(split_token(forged.token)[2]) for forged in known_truncations(TOKEN)]
    assert lengths[0] % 4 == 0
    assert {length % 4 for length in lengths} >= {0, 1, 2}


def test_null_signatures_carry_the_real_payload_and_no_valid_signature() -> None:
    """Empty, zeroed and missing signatures, each over the real header and payload."""
    for forged in known_null_signatures(TOKEN):
        assert forged.token.startswith(f"{HEADER}.{PAYLOAD}")
        assert not _verifies(forged.token, KEY)


@EXAMPLES
@given(alg_none_variants(TOKEN))
def test_alg_none_variants_are_unsigned_real_claims(forged: Forged) -> None:
    """alg is a spelling of none, the payload is the real one, the signature empty or the original."""
    header, payload, signature = split_token(forged.token)
    assert _decoded(header)["alg"] in ALG_NONE_SPELLINGS
    assert payload == PAYLOAD
    assert signature in ("", SIGNATURE)


@EXAMPLES
@given(weak_key_forgeries(CLAIMS))
def test_weak_key_forgeries_verify_with_a_guessable_key(forged: Forged) -> None:
    """HS256 over the real claims, signed with the empty key or a common secret, never the real key."""
    assert unverified_header(forged.token)["alg"] == "HS256"
    assert unverified_claims(forged.token) == CLAIMS
    assert any(_verifies(forged.token, weak.encode()) for weak in ("", *COMMON_SECRETS))
    assert not _verifies(forged.token, KEY)


@EXAMPLES
@given(injected_headers(CLAIMS))
def test_injected_headers_name_their_own_key(forged: Forged) -> None:
    """The real claims under a header with jwk, jku, x5u or kid, not signed with the real key."""
    header = unverified_header(forged.token)
    assert {"jwk", "jku", "x5u", "kid"} & set(header)
    assert unverified_claims(forged.token) == CLAIMS
    assert not _verifies(forged.token, KEY)


@settings(max_examples=200, deadline=None, database=None)
@given(claim_sets(CLAIMS))
def test_claim_set_verdicts_match_their_content(claim_set: ClaimSet) -> None:
    """A claim set called valid keeps identity and required claims; one with a changed or non-string
    cid is never called valid (either verdict is right: a target may take the company from its
    database, so what fails is a leak, judged by the check)."""
    claims = claim_set.claims
    if claim_set.valid is True:
        for name in ("iss", "aud", "sub", "cid"):
            assert claims[name] == CLAIMS[name]
        assert {"iss", "aud", "sub", "cid", "iat", "exp"} <= set(claims)
        assert claim_set.header.get("alg", "HS256") == "HS256"
        assert claims["exp"] > NOW and claims["iat"] <= NOW
    if not isinstance(claims.get("cid"), str) or claims.get("cid") != CLAIMS["cid"]:
        assert claim_set.valid is not True
    assert sign(claims, KEY, header=claim_set.header).count(".") == 2


@EXAMPLES
@given(malformed_authorization(TOKEN))
def test_malformed_authorization_is_never_a_well_formed_bearer_credential(forged: Forged) -> None:
    """No value is 'Bearer <token>' in any case; every value is a legal HTTP field value."""
    assert not WELL_FORMED_BEARER.match(forged.token)
    assert forged.token == forged.token.strip(" \t")
    assert not set("\r\n\x00") & set(forged.token)
    forged.token.encode("ascii")


@EXAMPLES
@given(login_bodies())
def test_login_bodies_are_raw_bytes_kept_out_of_repr(body: LoginBody) -> None:
    """Bodies are raw bytes with an optional content type, and ``repr`` shows neither."""
    assert isinstance(body.content, bytes)
    assert body.content_type is None or isinstance(body.content_type, str)
    assert "content=" not in repr(body)


@pytest.mark.parametrize("body", known_login_bodies(), ids=lambda body: body.note)
def test_known_login_bodies_are_each_broken_somehow(body: LoginBody) -> None:
    """Each known body is not JSON, not an object, or lacks a string email or password, or is huge,
    or is not sent as plain UTF-8 JSON, or carries only the kit's made-up account."""
    try:
        value = json.loads(body.content)
    except (ValueError, RecursionError):
        return
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("email", "password")):
        return
    assert (
        len(body.content) > 60_000
        or body.content_type != "application/json"
        or not body.content.startswith(b"{")
        or "sergio-kit-nobody" in value["email"]
        or "\u202e" in value["email"]
        or any("\ud800" <= char <= "\udfff" for char in value["email"])
    )


def test_forged_repr_hides_the_token() -> None:
    """A Hypothesis falsifying example prints the note, never the token."""
    assert TOKEN not in repr(Forged("note", TOKEN))
