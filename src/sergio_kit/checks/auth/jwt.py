"""``auth.jwt.*``: forged signatures, algorithms and headers, then claims re-signed with the target's key."""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import given

from sergio_kit.checks.auth.forgeries import (
    ACCEPTED,
    LIFETIME,
    REFUSED,
    expect_accepted,
    expect_refused,
    hypothesis_budget,
    probe_call,
    send_call,
)
from sergio_kit.checks.auth.public_keys import asymmetric, kit_key, signing_key
from sergio_kit.checks.auth.strategies import (
    COMPANY_CLAIM,
    ClaimSet,
    Forged,
    claim_sets,
    injected_headers,
    known_alg_none,
    known_claim_sets,
    known_header_injections,
    known_null_signatures,
    known_tamperings,
    known_truncations,
    known_weak_keys,
    sign,
    tampered_claims,
    truncated_signatures,
    unverified_claims,
    unverified_header,
)
from sergio_kit.checks.context import OTHER, CheckContext
from sergio_kit.checks.lanes import generating
from sergio_kit.checks.registry import check
from sergio_kit.reports.findings import CheckSkipped

TIMING_BASELINE = 5  # plain bad-signature requests timed for auth.jwt.header_injection

# -- the real token, and its claims re-signed with the target's key ------------------------------


@dataclass(frozen=True)
class RealToken:
    """The primary tenant's current token, its header and claims."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]


def _real_token(ctx: CheckContext) -> RealToken:
    """The primary tenant's current token, with its header and claims decoded without verification."""
    token = ctx.token()
    return RealToken(token, unverified_header(token), unverified_claims(token))


def _signature_attack(ctx: CheckContext, what: str, forge: Callable[[str], tuple[Any, ...]]) -> None:
    """The real token works; every forgery ``forge(token)`` makes is 401; the real token still works.

    ``forge`` returns the arguments of :func:`expect_refused` after ``ctx`` (known forgeries, then
    optionally a strategy); ``what`` names the forgeries in the last control's finding.
    """
    real = _real_token(ctx)
    expect_accepted(ctx, real.token, "control: the real token")
    expect_refused(ctx, *forge(real.token))
    expect_accepted(ctx, real.token, f"the real token after the {what} ones")


def _resign(
    ctx: CheckContext, real: RealToken, claims: dict[str, Any], header: dict[str, Any] | None = None
) -> str:
    """``claims`` signed with the target's own key and algorithm: its HS256 secret or its RS/ES private
    key (skips when that key is not configured)."""
    algorithm = str(real.header.get("alg", "HS256"))
    extra = {name: value for name, value in real.header.items() if name != "alg"}
    return sign(claims, signing_key(ctx, algorithm), algorithm=algorithm, header={**extra, **(header or {})})


def _resignable_real_token(ctx: CheckContext) -> RealToken:
    """The real token, after checking that its claims re-signed with the configured key are accepted."""
    real = _real_token(ctx)
    expect_accepted(
        ctx,
        _resign(ctx, real, real.claims),
        "control: the real token's claims re-signed with the configured key (is SERGIO_JWT_SECRET or "
        "SERGIO_JWT_PRIVATE_KEY right?)",
    )
    return real


# -- signature attacks --------------------------------------------------------------------------


@check("auth.jwt.tampered_claims", basis="standard")
def jwt_tampered_claims(ctx: CheckContext) -> None:
    """A real token whose payload was changed under its old signature is 401."""
    _signature_attack(ctx, "tampered", lambda token: (known_tamperings(token), tampered_claims(token)))


@check("auth.jwt.truncated_signature", basis="standard")
def jwt_truncated_signature(ctx: CheckContext) -> None:
    """A real token with its signature cut short is 401; the untouched token still works after."""
    _signature_attack(ctx, "truncated", lambda token: (known_truncations(token), truncated_signatures(token)))


@check("auth.jwt.null_signature", basis="standard")
def jwt_null_signature(ctx: CheckContext) -> None:
    """A real token with an empty, zeroed or missing signature is 401; the untouched token still works."""
    _signature_attack(ctx, "unsigned", lambda token: (known_null_signatures(token),))


@check("auth.jwt.alg_none", basis="standard")
def jwt_alg_none(ctx: CheckContext) -> None:
    """The real claims under alg none/None/NONE/nOnE with an empty signature are 401."""
    real = _real_token(ctx)
    expect_refused(ctx, known_alg_none(real.token))
    expect_accepted(ctx, real.token, "the real token after the unsigned ones")


@check("auth.jwt.alg_confusion", basis="standard")
def jwt_alg_confusion(ctx: CheckContext) -> None:
    """The real claims signed HS256 with the empty key or a common secret are 401."""
    real = _real_token(ctx)
    expect_refused(ctx, known_weak_keys(real.claims))
    expect_accepted(ctx, real.token, "the real token after the weak-key ones")


@check("auth.jwt.header_injection", basis="standard")
def jwt_header_injection(ctx: CheckContext) -> None:
    """jwk, jku, x5u and kid-injection headers are 401, and answered no slower than a plain bad signature;
    on targets with asymmetric tokens, an RSA or EC jwk of the kit's embedded in the header is 401 too."""
    real = _real_token(ctx)
    probe = probe_call(ctx)
    baseline: list[float] = []
    for _ in range(TIMING_BASELINE):
        forged = sign(real.claims, secrets.token_bytes(32), algorithm="HS256")
        started = time.perf_counter()
        response = send_call(ctx, probe, f"Bearer {forged}")
        baseline.append(time.perf_counter() - started)
        ctx.expect(
            response, REFUSED, f"{probe.label} with a token signed by a random key", "401 unauthorized"
        )
    timings = expect_refused(ctx, known_header_injections(real.claims), injected_headers(real.claims))
    algorithm = real.header.get("alg")
    if asymmetric(algorithm):
        own = kit_key(str(algorithm))
        note = f"a 'jwk' header carrying the kit's own {own.family} public key, {algorithm} signed with it"
        header = {"jwk": {k: v for k, v in own.jwk.items() if k != "kid"}}
        expect_refused(
            ctx, [Forged(note, sign(real.claims, own.private_pem, algorithm=str(algorithm), header=header))]
        )
    expect_accepted(ctx, real.token, "the real token after the injected ones")
    injected, normal = statistics.median(timings), statistics.median(baseline)
    if injected > 3 * normal and injected - normal > 0.5:
        ctx.fail(
            f"tokens with injected headers took a median {injected:.2f} s to refuse, "
            f"a bad signature {normal:.2f} s: the target may be fetching jku/x5u URLs or resolving kid",
            expected="no slower than a normal 401",
            basis="recommended",  # a timing heuristic, not a rule of RFC 8725: judged last
        )


# -- claims, re-signed with the target's key ------------------------------------------------------


@check("auth.jwt.expired", basis="standard")
def jwt_expired(ctx: CheckContext) -> None:
    """A validly signed token whose exp has passed is 401 (needs the signing key)."""
    real = _resignable_real_token(ctx)
    now = int(ctx.now())
    forged = []
    for ago, what in ((3600, "an hour"), (600, "ten minutes")):
        issued = now - ago - LIFETIME
        claims = {**real.claims, "iat": issued, "exp": issued + LIFETIME}
        if "nbf" in real.claims:
            claims["nbf"] = issued
        forged.append(Forged(f"exp {what} ago (re-signed)", _resign(ctx, real, claims)))
    expect_refused(ctx, forged)


@check("auth.jwt.not_yet_valid", basis="standard")
def jwt_not_yet_valid(ctx: CheckContext) -> None:
    """Validly signed tokens with nbf or iat ten minutes in the future are 401 (needs the signing key)."""
    real = _resignable_real_token(ctx)
    future = int(ctx.now()) + 600
    nbf = _resign(ctx, real, {**real.claims, "nbf": future})
    expect_refused(ctx, [Forged("nbf ten minutes in the future (re-signed)", nbf)])
    iat = _resign(ctx, real, {**real.claims, "iat": future})
    probe = probe_call(ctx)
    ctx.expect(  # RFC 7519 makes only nbf binding; refusing a token issued in the future is good practice
        send_call(ctx, probe, f"Bearer {iat}"),
        REFUSED,
        f"{probe.label} with iat ten minutes in the future (re-signed)",
        "401 unauthorized",
        basis="recommended",
    )


@check("auth.jwt.wrong_audience", basis="standard")
def jwt_wrong_audience(ctx: CheckContext) -> None:
    """A validly signed token for another audience is 401 (needs the signing key)."""
    real = _resignable_real_token(ctx)
    other = "https://other-service.example"
    forged = [
        Forged("aud of another service (re-signed)", _resign(ctx, real, {**real.claims, "aud": other})),
        Forged(
            "aud listing only another service (re-signed)",
            _resign(ctx, real, {**real.claims, "aud": [other]}),
        ),
    ]
    expect_refused(ctx, forged)


# RFC 7519 §4.1.1 leaves iss processing to the application (no MUST), and the issuer check is the kit's
# assumption (sergio-api.md, Assumed): a recommended rule, unlike aud (§4.1.3: MUST be rejected).
@check("auth.jwt.wrong_issuer", basis="recommended")
def jwt_wrong_issuer(ctx: CheckContext) -> None:
    """A validly signed token from another issuer is 401 (needs the signing key)."""
    real = _resignable_real_token(ctx)
    forged = [
        Forged(
            "iss of another issuer (re-signed)",
            _resign(ctx, real, {**real.claims, "iss": "https://evil.example"}),
        )
    ]
    expect_refused(ctx, forged)


@check("auth.jwt.missing_exp", basis="recommended")
def jwt_missing_exp(ctx: CheckContext) -> None:
    """A validly signed token without exp is 401 (needs the signing key)."""
    real = _resignable_real_token(ctx)
    claims = {name: value for name, value in real.claims.items() if name != "exp"}
    expect_refused(ctx, [Forged("no exp claim (re-signed)", _resign(ctx, real, claims))])


@check("auth.jwt.claim_fuzz", basis="recommended")
def jwt_claim_fuzz(ctx: CheckContext) -> None:
    """Generated header and claim values, re-signed: 401 or 2xx as the claim set is valid, never 5xx;
    an accepted token with another cid answers only the caller's own company's data."""
    real = _resignable_real_token(ctx)
    issued = int(ctx.now()) - 30
    base = {**real.claims, "iat": issued, "exp": issued + LIFETIME}
    if "nbf" in base:
        base["nbf"] = issued
    probe = probe_call(ctx)

    def attempt(claim_set: ClaimSet) -> None:
        token = _resign(ctx, real, claim_set.claims, claim_set.header)
        response = send_call(ctx, probe, f"Bearer {token}")
        what = f"{probe.label} with a re-signed token whose {claim_set.note}"
        if response.status_code >= 500:
            ctx.fail(f"{what}: got {response.status_code}", response, "401 or 2xx, never 5xx")
        if response.status_code in ACCEPTED and claim_set.claims.get(COMPANY_CLAIM) != real.claims.get(
            COMPANY_CLAIM
        ):
            _expect_own_company(ctx, real, response, what)
        if claim_set.valid is True:
            ctx.expect(response, ACCEPTED, f"{what} (a valid claim set)", "2xx")
        elif claim_set.valid is False:
            ctx.expect(response, REFUSED, f"{what} (an invalid claim set)", "401 unauthorized")
        else:
            ctx.expect(response, {*ACCEPTED, *REFUSED}, what, "401 or 2xx")

    for claim_set in known_claim_sets(base, _other_company(ctx)):
        attempt(claim_set)

    @hypothesis_budget(ctx.max_examples)
    @given(claim_sets(base, reference=issued))
    def explore(claim_set: ClaimSet) -> None:
        attempt(claim_set)

    with generating():
        explore()


def _other_company(ctx: CheckContext) -> str | None:
    """The ``cid`` of the other tenant's token (that tenant holding a job, so a leak would show), or
    ``None`` when no other tenant is configured."""
    try:
        company = unverified_claims(ctx.token(OTHER)).get(COMPANY_CLAIM)
        ctx.resource("job_id", OTHER)
    except CheckSkipped:
        return None
    return company if isinstance(company, str) else None


def _expect_own_company(ctx: CheckContext, real: RealToken, forged: httpx.Response, what: str) -> None:
    """A token whose ``cid`` was changed was accepted: a target that takes the company from its own
    records may do that, but the answer must hold none of another company's data. With another tenant
    configured, its objects are those its own token sees on the same call (objects this company makes
    or deletes meanwhile, as a live run's other checks do, are no leak); without one, those the real
    token does not see on the call right after."""
    if _other_company(ctx) is not None:
        other = send_call(ctx, probe_call(ctx), f"Bearer {ctx.token(OTHER)}")
        ctx.expect(other, ACCEPTED, "control: the other company's own token on the same call", "2xx")
        leaked = sorted(_ids(_json_or_none(forged)) & _ids(_json_or_none(other)))
    else:
        control = send_call(ctx, probe_call(ctx), f"Bearer {real.token}")
        ctx.expect(control, ACCEPTED, "control: the real token after a changed-cid one", "2xx")
        leaked = sorted(_ids(_json_or_none(forged)) - _ids(_json_or_none(control)))
    if leaked:
        ctx.fail(
            f"{what} was accepted and answered objects the real token does not see "
            f"({', '.join(leaked[:3])}): another company's data",
            forged,
            "only the caller's own company's data",
            basis="documented",  # each company sees only its own data (keys and tokens of one company)
        )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _ids(value: Any) -> set[str]:
    """Every string ``id`` member anywhere in a JSON value."""
    if isinstance(value, dict):
        found = {value["id"]} if isinstance(value.get("id"), str) else set()
        return found.union(*(_ids(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_ids(item) for item in value))
    return set()
