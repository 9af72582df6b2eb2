"""The kit's webhook signature verifier accepts exactly the deliveries it should."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from sergio_kit.webhooks.signatures import SignatureError, sign, verify

SECRET = "whsec_" + "ab12" * 12
NOW = 1_800_000_000
BODY = json.dumps(
    {"id": "evt_1", "type": "job.created", "created_at": "2027-01-15T08:00:00Z", "data": {"object": {}}},
    separators=(",", ":"),
).encode()


def test_sign_matches_the_documented_format() -> None:
    """The header is t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>."""
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"t={NOW},v1={expected}"


def test_accepts_a_good_signature() -> None:
    """A signature made over the raw body with the right secret at the current time verifies."""
    verify(sign(SECRET, NOW, BODY), BODY, SECRET, now=NOW)


@pytest.mark.parametrize("age", [-300, 300])
def test_accepts_timestamps_at_the_tolerance_edge(age: int) -> None:
    """A timestamp exactly 300 s in the past or the future is still accepted."""
    verify(sign(SECRET, NOW - age, BODY), BODY, SECRET, now=NOW)


def test_accepts_when_one_of_several_v1_signatures_matches() -> None:
    """During secret rotation a header may carry several v1 values; one match is enough."""
    good = sign(SECRET, NOW, BODY).split(",")[1]
    verify(f"t={NOW},v1={'0' * 64},{good}", BODY, SECRET, now=NOW)


def test_rejects_one_changed_byte() -> None:
    """Changing a single byte of the body breaks the signature."""
    tampered = bytearray(BODY)
    tampered[10] ^= 0x01
    with pytest.raises(SignatureError, match="mismatch"):
        verify(sign(SECRET, NOW, BODY), bytes(tampered), SECRET, now=NOW)


def test_rejects_reserialized_json() -> None:
    """The same JSON re-serialized (other spacing) is not the raw body that was signed."""
    reserialized = json.dumps(json.loads(BODY)).encode()
    assert reserialized != BODY and json.loads(reserialized) == json.loads(BODY)
    with pytest.raises(SignatureError, match="mismatch"):
        verify(sign(SECRET, NOW, BODY), reserialized, SECRET, now=NOW)


def test_rejects_the_wrong_secret() -> None:
    """A signature made under another secret does not verify."""
    with pytest.raises(SignatureError, match="mismatch"):
        verify(sign("whsec_other", NOW, BODY), BODY, SECRET, now=NOW)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_rejects_a_missing_header(header: str | None) -> None:
    """No signature header at all is rejected."""
    with pytest.raises(SignatureError, match="missing") as info:
        verify(header, BODY, SECRET, now=NOW)
    assert info.value.reason == "missing signature header"


@pytest.mark.parametrize(("offset", "word"), [(-301, "stale"), (301, "future")])
def test_rejects_timestamps_beyond_the_tolerance(offset: int, word: str) -> None:
    """A correctly signed delivery stamped 301 s in the past or the future is rejected."""
    with pytest.raises(SignatureError, match=word):
        verify(sign(SECRET, NOW + offset, BODY), BODY, SECRET, now=NOW)


def test_rejects_an_unknown_scheme() -> None:
    """A header without a v1 signature (e.g. only v0) is rejected as an unknown scheme."""
    mac = sign(SECRET, NOW, BODY).split("v1=")[1]
    with pytest.raises(SignatureError, match="unknown signature scheme"):
        verify(f"t={NOW},v0={mac}", BODY, SECRET, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "t=,v1=abc",
        "t=abc,v1=00",
        f"v1={'0' * 64}",
        f"t={NOW};v1={'0' * 64}",
        f"t={NOW},t={NOW},v1={'0' * 64}",
        f"t=-{NOW},v1={'0' * 64}",
        "t=\uff11\uff12\uff13,v1=00",  # full-width digits pass str.isdigit()
        ",,,",
    ],
)
def test_rejects_garbage(header: str) -> None:
    """Headers that do not parse as t=<unix>,v1=<hex> are rejected as unparsable."""
    with pytest.raises(SignatureError, match="unparsable"):
        verify(header, BODY, SECRET, now=NOW)


def test_rejects_a_non_ascii_signature_without_crashing() -> None:
    """A v1 value with non-ASCII characters is a mismatch, not a TypeError."""
    with pytest.raises(SignatureError, match="mismatch"):
        verify(f"t={NOW},v1=é{'0' * 63}", BODY, SECRET, now=NOW)
