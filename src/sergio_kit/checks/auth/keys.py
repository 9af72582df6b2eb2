"""``auth.jwt.key_confusion``, ``auth.jwt.kid``, ``auth.jwt.jku``: the key a token names is not the key
that verifies it (targets with asymmetric tokens: RS*, PS*, ES*, EdDSA).

Each forges the primary tenant's real claims under a header that tries to choose the verifying key:
HS256 with the target's public key as the HMAC secret, a ``kid`` naming another key or a file, a
``jku``/``x5u`` URL of a key the kit serves on loopback. A correct target verifies with its own keys
and its one algorithm, so every forgery is 401 (RFC 8725 §2.1, §3.1, §3.10; RFC 7515 §4.1).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sergio_kit.checks.auth.forgeries import (
    REFUSED,
    bearer_calls,
    expect_accepted,
    expect_refused,
    probe_call,
    send_call,
)
from sergio_kit.checks.auth.key_server import KeyServer
from sergio_kit.checks.auth.public_keys import (
    PublicKey,
    hmac_secrets,
    kit_key,
    public_keys,
    require_asymmetric,
)
from sergio_kit.checks.auth.strategies import Forged, sign, unverified_claims, unverified_header
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.reports.findings import CheckSkipped, CheckUndecided

#: How long after the last forged token the key server is watched for a late (queued) fetch.
FETCH_GRACE = 0.5
TRAVERSAL = "../" * 12 + "dev/null"


def _real(ctx: CheckContext) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The primary tenant's current token, its header and its claims (not verified)."""
    token = ctx.token()
    return token, unverified_header(token), unverified_claims(token)


@check("auth.jwt.key_confusion", basis="standard")
def jwt_key_confusion(ctx: CheckContext) -> str:
    """The real claims signed HS256/HS384/HS512 with the target's public key as the HMAC secret (its
    PEM, its JWK's JSON) are 401: a key is used with its one algorithm (needs the public key)."""
    token, header, claims = _real(ctx)
    require_asymmetric(
        header.get("alg"),
        "so HMAC-with-the-public-key cannot arise (weak HMAC keys are auth.jwt.alg_confusion's)",
    )
    keys = public_keys(ctx)
    named = [key for key in keys if key.kid is not None and key.kid == header.get("kid")]
    chosen = named or keys
    forged = _confused(claims, chosen)
    expect_accepted(ctx, token, "control: the real token")
    expect_refused(ctx, forged)
    expect_accepted(ctx, token, "the real token after the key-confusion ones")
    return f"{len(forged)} HMAC forgeries with {len(chosen)} public key(s) from {chosen[0].source} refused"


def _confused(claims: dict[str, Any], keys: list[PublicKey]) -> list[Forged]:
    """HS256 tokens of ``claims`` keyed with each form of each public key (naming it by ``kid``), then
    HS384 and HS512 with its PEM."""
    forged: list[Forged] = []
    for key in keys:
        extra = {"kid": key.kid} if key.kid is not None else {}
        for form, secret in hmac_secrets(key):
            note = f"HS256 signed with the public key ({form}) as the HMAC secret"
            forged.append(Forged(note, sign(claims, secret, algorithm="HS256", header=extra)))
        for algorithm in ("HS384", "HS512"):
            note = f"{algorithm} signed with the public key (its PEM) as the HMAC secret"
            forged.append(Forged(note, sign(claims, key.pem, algorithm=algorithm, header=extra)))
    return forged


@check("auth.jwt.kid", basis="standard")
def jwt_kid(ctx: CheckContext) -> str:
    """Tokens signed with the kit's key whose kid names no key of the target or one of its keys, and
    HS256 tokens whose kid is a path or SQL selecting a key the kit knows, are 401."""
    token, header, claims = _real(ctx)
    algorithm = require_asymmetric(
        header.get("alg"),
        "so kid selects no public key (kid injection on HMAC targets is auth.jwt.header_injection's)",
    )
    own = kit_key(algorithm)
    kids = [header["kid"]] if isinstance(header.get("kid"), str) else []
    with contextlib.suppress(CheckSkipped, CheckUndecided):  # without a key set, the token's kid will do
        kids += [key.kid for key in public_keys(ctx) if key.kid is not None and key.kid not in kids]
    unknown = "sergio-kit-unknown-" + secrets.token_hex(4)
    forged = [
        Forged(
            "a kid naming no key of the target, signed with the kit's key",
            _kit_signed(claims, algorithm, {"kid": unknown}),
        )
    ]
    forged += [
        Forged(
            f"the kid of the target's key {kid[:16]!r}, signed with the kit's key",
            _kit_signed(claims, algorithm, {"kid": kid}),
        )
        for kid in kids
    ]
    forged += [
        Forged(
            "a kid traversing to /dev/null, HS256 signed with the empty key",
            sign(claims, b"", algorithm="HS256", header={"kid": TRAVERSAL}),
        ),
        Forged(
            "the kid /dev/null, HS256 signed with the empty key",
            sign(claims, b"", algorithm="HS256", header={"kid": "/dev/null"}),
        ),
        Forged(
            "a kid SQL injection selecting 'sergio-kit', HS256 signed with it",
            sign(
                claims, b"sergio-kit", algorithm="HS256", header={"kid": "x' UNION SELECT 'sergio-kit' -- "}
            ),
        ),
        Forged(
            "the kid of the kit's own key, signed with it", _kit_signed(claims, algorithm, {"kid": own.kid})
        ),
    ]
    expect_accepted(ctx, token, "control: the real token")
    expect_refused(ctx, forged)
    expect_accepted(ctx, token, "the real token after the kid ones")
    return f"{len(forged)} kid forgeries refused ({len(kids)} key id(s) of the target among them)"


def _kit_signed(claims: dict[str, Any], algorithm: str, header: dict[str, Any]) -> str:
    return sign(claims, kit_key(algorithm).private_pem, algorithm=algorithm, header=header)


@check("auth.jwt.jku", basis="standard")
def jwt_jku(ctx: CheckContext) -> str:
    """Tokens signed with the kit's key whose jku or x5u header points at it on a key server the kit runs
    on loopback are 401; the target does not fetch those URLs either (a fetch is an SSRF: a warning)."""
    token, header, claims = _real(ctx)
    algorithm = require_asymmetric(
        header.get("alg"),
        "so no key URL can stand in for it (jku/x5u on HMAC targets are auth.jwt.header_injection's)",
    )
    with (
        tempfile.TemporaryDirectory(prefix="sergio-kit-keys-") as scratch,
        _key_server(ctx, Path(scratch)) as server,
    ):
        forged = _url_forgeries(server, claims, algorithm, header.get("kid"))
        expect_accepted(ctx, token, "control: the real token")
        calls, probe = bearer_calls(ctx), probe_call(ctx)
        for index, (path, forgery) in enumerate(forged):
            for call in calls if index == 0 else [probe]:
                response = send_call(ctx, call, f"Bearer {forgery.token}")
                if response.status_code not in REFUSED:
                    fetched = "; the target fetched that URL first" if _fetched(server, path) else ""
                    ctx.fail(
                        f"{call.label} with {forgery.note}: got {response.status_code}{fetched}",
                        response,
                        "401 unauthorized: only the target's own keys verify its tokens",
                    )
        expect_accepted(ctx, token, "the real token after the key-URL ones")
        time.sleep(FETCH_GRACE)
        fetched_paths = server.requests
    if fetched_paths:
        ctx.fail(
            f"the target fetched {len(fetched_paths)} URL(s) that forged tokens named in jku/x5u headers "
            f"({', '.join(sorted(set(fetched_paths))[:3])} on the kit's loopback key server): it sends a "
            "request wherever a token points (SSRF), though it did not trust the key",
            expected="no request to a URL a token names (RFC 8725 §3.10: an allow-list of key URLs)",
            basis="recommended",  # RFC 8725 §3.10 says SHOULD
        )
    seen = "the kit's key server on 127.0.0.1 was not fetched"
    if not _on_this_machine(ctx.target.base_url):
        seen = (
            "the target is not on this machine and cannot reach the kit's key server on 127.0.0.1, so "
            "whether it fetches jku/x5u URLs is unknown: only acceptance was judged"
        )
    return f"{len(forged)} jku/x5u forgeries refused; {seen}"


def _key_server(ctx: CheckContext, scratch: Path) -> KeyServer:
    """A key server on loopback: HTTPS with a certificate the target trusts when the target has one for
    the kit's receivers (the embedded server's test CA, ``SERGIO_RECEIVER_CERT``), else plain HTTP."""
    issue = ctx.target.receiver_cert
    return KeyServer(issue(scratch / "key-server.pem") if issue is not None else None)


def _url_forgeries(
    server: KeyServer, claims: dict[str, Any], algorithm: str, real_kid: object
) -> list[tuple[str, Forged]]:
    """``(path, forgery)``: tokens signed with the kit's key that name it by a URL on ``server``: a jku
    key set (the kit's kid, and the target's own kid relabelling the kit's key) and an x5u certificate."""
    own = kit_key(algorithm)
    forged: list[tuple[str, Forged]] = []
    kids = [own.kid] + ([real_kid] if isinstance(real_kid, str) else [])
    for number, kid in enumerate(kids, start=1):
        path = f"/jku/{number}/jwks.json"
        url = server.publish(
            path, json.dumps({"keys": [{**own.jwk, "kid": kid}]}).encode(), "application/json"
        )
        which = "the kit's key id" if kid == own.kid else "the target's own key id"
        note = f"a jku header pointing at the kit's key set on loopback ({which}), signed with the kit's key"
        forged.append(
            (
                path,
                Forged(
                    note, sign(claims, own.private_pem, algorithm=algorithm, header={"jku": url, "kid": kid})
                ),
            )
        )
    path = "/x5u/cert.pem"
    url = server.publish(path, own.certificate_pem, "application/pem-certificate-chain")
    note = "an x5u header pointing at the kit's certificate on loopback, signed with the kit's key"
    forged.append(
        (path, Forged(note, sign(claims, own.private_pem, algorithm=algorithm, header={"x5u": url})))
    )
    return forged


def _fetched(server: KeyServer, path: str) -> bool:
    return path in server.requests


def _on_this_machine(base_url: str) -> bool:
    """Whether the target's host is a loopback address (it can reach the kit's loopback servers)."""
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
