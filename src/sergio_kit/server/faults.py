"""Switchable faults: each one breaks exactly one rule, named by the check id that must catch it.

``sergio-kit serve --fault <check id>`` turns a fault on; ``--list-faults`` prints this catalogue.
Checks that test the kit itself rather than the server (``transport.tls_verified``,
``webhook.verifier``) and checks of the kit's own reporting (``contract.coverage``) have no server
fault: the server cannot break them.

A rule with more than one way to break has variants named ``<check id>@<variant>``: the check
before the ``@`` must catch each of them (``ratelimit.read.boundary@apikey`` breaks the read tier's
boundary on the Zapier surface only).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from sergio_kit.contract.document import TIERS

_STATIC_FAULTS: dict[str, str] = {
    # contract
    "contract.schemathesis": "GET /v1/jobs answers 500 for limit > 50 instead of honouring 1..100",
    "contract.stateful": "DELETE /v1/jobs/{id} answers 204 but the job can still be fetched",
    "contract.health": "GET /v1/health reports its timestamp without the trailing Z",
    "contract.declared": "GET /v1/webhooks is not routed, though declared: 405 (the path serves only POST)",
    # auth: login
    "auth.login.shape": "login omits refresh_token from its response",
    "auth.login.lifetime": "login reports expires_at 5 minutes before the token's exp",
    "auth.login.enumeration": "login tells an unknown email apart from a wrong password",
    "auth.login.bad_input": "login answers 500 when the body is not valid JSON",
    # auth: bearer header
    "auth.bearer.missing": "a request without Authorization is served as the first seeded admin",
    "auth.bearer.malformed": "the Authorization scheme is ignored: 'Basic <jwt>' or a bare JWT works",
    "auth.bearer.malformed@tab": "any whitespace may follow 'Bearer': 'Bearer<TAB><jwt>' works",
    "auth.bearer.placement": "a token in the query string (?access_token=) authenticates",
    "auth.bearer.placement@form": "a token in a form-encoded body (access_token=) authenticates",
    # auth: JWT verification
    "auth.jwt.tampered_claims": "a cache of verified (jti, signature) pairs accepts a changed payload",
    "auth.jwt.truncated_signature": "the signature is compared only over the bytes sent (prefix match; "
    "HS256 and RS256, whose signatures are deterministic)",
    "auth.jwt.null_signature": "a token of the server's algorithm with an empty signature is accepted",
    "auth.jwt.alg_none": "unsigned tokens (alg none, any case) are accepted",
    "auth.jwt.alg_confusion": "HS256 tokens signed with the empty key or a common secret are accepted",
    "auth.jwt.header_injection": "an embedded 'jwk' header key (an HMAC key) is trusted to verify the token",
    "auth.jwt.header_injection@asymmetric-jwk": "an embedded RSA or EC 'jwk' header key is trusted to "
    "verify the token",
    "auth.jwt.key_confusion": "HS256 tokens are verified with the public key's PEM as the HMAC secret "
    "(the algorithm is taken from the token)",
    "auth.jwt.key_confusion@jwk": "HS256 tokens are verified with the published JWK's JSON as the HMAC "
    "secret (the algorithm is taken from the token)",
    "auth.jwt.kid": "a kid naming no published key is read as a file under the key folder, whose bytes "
    "verify an HS256 token (a traversal to /dev/null: the empty key)",
    "auth.jwt.kid@unknown": "a token whose kid names no published key is accepted unverified",
    "auth.jwt.jku": "the key set a jku header URL serves is fetched and trusted",
    "auth.jwt.jku@x5u": "the certificate an x5u header URL serves is fetched and its key trusted",
    "auth.jwt.jku@fetch": "jku and x5u header URLs are fetched (a server-side request to any URL a "
    "token names), though their keys are not trusted",
    "auth.jwt.expired": "exp is not checked",
    "auth.jwt.not_yet_valid": "nbf and iat in the future are not checked",
    "auth.jwt.wrong_audience": "aud is not checked",
    "auth.jwt.wrong_issuer": "iss is not checked",
    "auth.jwt.missing_exp": "a token without exp is accepted (and never expires)",
    "auth.jwt.claim_fuzz": "a non-string cid claim crashes the request with a 500",
    "auth.jwt.claim_fuzz@cid-trusted": "the company is read from the token's cid, unchecked against its user",
    "auth.token_kind": "a refresh token is accepted as a bearer token",
    "auth.expiry.live": "access tokens are accepted for 120 s after exp (clock-skew leeway)",
    # auth: tenancy and roles
    "auth.tenant.objects": "PATCH /v1/jobs/{job_id} changes any company's job (the company is not checked)",
    "auth.tenant.objects@read": "GET /v1/jobs/{job_id} answers any company's job",
    "auth.tenant.objects@webhook-delete": "DELETE /v1/webhooks/{webhook_id} deletes any company's webhook",
    "auth.tenant.objects@rotate": "POST /v1/api-keys/{key_id}/rotate rotates any company's key",
    "auth.tenant.lists": "GET /v1/jobs lists every company's jobs",
    "auth.tenant.lists@webhooks": "GET /v1/webhooks lists every company's webhooks",
    "auth.tenant.lists@api-keys": "GET /v1/api-keys lists every company's API keys",
    "auth.member.admin_only": "a member (not an admin) may manage the company's API keys",
    "auth.member.admin_only@rotate": "a member (not an admin) may rotate the company's API keys (only)",
    # refresh
    "refresh.rotation": "refresh issues an access token for the wrong audience, so it never works",
    "refresh.reuse": "a refresh token that was already used still works",
    "refresh.race": "refresh checks and rotates the token non-atomically (concurrent reuse wins)",
    "refresh.logout": "logout answers 204 but leaves the refresh-token family alive",
    "refresh.property": "logout revokes every session of the user, not only the one logged out",
    "refresh.claims": "refresh issues access tokens that live 2 hours (exp - iat = 7200)",
    "refresh.claims@identity": "refresh issues the access token to another user (another sub)",
    "refresh.claims@expires_at": "refresh reports expires_at 5 minutes before the token's exp",
    # apikey
    "apikey.missing": "a Zapier request without X-API-Key is served as the first seeded key",
    "apikey.unknown": "a key is looked up by its visible prefix; the secret part is not compared",
    "apikey.malformed": "a key shorter than the prefix crashes the request with a 500",
    "apikey.surface_separation": "an API key is accepted as a bearer token on /v1",
    "apikey.surface_separation@x-api-key": "X-API-Key alone, without Authorization, authenticates a /v1 call",
    "apikey.surface_separation@beside-bad-bearer": "X-API-Key beside an invalid bearer token authenticates "
    "a /v1 call (a fallback)",
    "apikey.scope": "the Zapier create-job action does not check the jobs:write scope",
    "apikey.scope@trigger": "the Zapier new-job trigger does not check the jobs:read scope",
    "apikey.tenant": "the Zapier new-job trigger lists every company's jobs",
    "apikey.revoked": "a revoked key keeps working",
    "apikey.rotated": "rotating a key leaves the old key working",
    "apikey.no_echo": "GET /zapier/v1/me echoes the presented key",
    "apikey.hint": "GET /v1/api-keys shows each new key's first 28 characters: 12 of its secret part",
    # transport
    "transport.https_only": "the plain-HTTP listener serves the whole API",
    # ratelimit: cross-tier rules
    "ratelimit.isolation.keys": "every principal shares one bucket per tier",
    "ratelimit.isolation.tiers": "all tiers of a principal share one bucket",
    "ratelimit.relogin_bypass": "buckets are per token, so a fresh login resets the quota",
    "ratelimit.concurrency": "admission is check-then-act across an await (concurrent bursts overshoot)",
    "ratelimit.window": "a fixed window aligned to the minute replaces the rolling window",
    "ratelimit.isolation.keys@apikey": "all API keys of a company share one bucket per tier",
    "ratelimit.isolation.users": "the users of one company share one bucket per tier (keyed by company)",
    "ratelimit.isolation.tiers@write-read": "each admitted write-tier request is charged to the read "
    "bucket too",
    "ratelimit.isolation.tiers@bulk-write": "each admitted bulk request is charged to the write bucket too",
    "ratelimit.isolation.tiers@webhook-bulk": "each admitted webhook registration is charged to the bulk "
    "bucket too",
    "ratelimit.concurrency@write": "write tier only: admission is check-then-act across an await",
    "ratelimit.concurrency@webhook": "webhook tier only: admission is check-then-act across an await",
    "ratelimit.concurrency@bulk": "bulk tier only: admission is check-then-act across an await",
    "ratelimit.window@first-request": "a fixed window that opens at a bucket's first request (and closes "
    "60 s later) replaces the rolling window",
    "ratelimit.window@offset": "a fixed window aligned to second 17 of every minute replaces the rolling "
    "window",
    "ratelimit.read.headers@quota-only": "read tier: only the quota's field is sent (RateLimit-Policy; "
    "RateLimit-Limit in the older forms), and it says twice the quota",
    "ratelimit.webhook.headers@remaining-only": "webhook tier: only the fields of what remains are sent "
    "(RateLimit; RateLimit-Remaining and -Reset in the older forms), and remaining stays at the limit",
    "ratelimit.read.boundary@apikey": "read tier: API-key calls (only) get limit + 1 per window",
    "ratelimit.write.boundary@apikey": "write tier: API-key calls (only) get limit + 1 per window",
    # webhook
    "webhook.registration": "registering a webhook answers without its signing secret",
    "webhook.secret_once": "GET /v1/webhooks shows each endpoint's signing secret again",
    "webhook.signature": "deliveries are signed over re-serialized JSON, not the raw body sent",
    "webhook.https_only": "http:// webhook URLs are accepted",
    "webhook.https_only@public-host": "an SSRF filter refuses loopback and private webhook hosts, but "
    "http:// URLs of any other host are accepted",
}

_TIER_FAULTS: dict[str, str] = {
    "boundary": "admits limit + 1 requests per window",
    "retry_after": "429 responses carry no Retry-After",
    "retry_after_honest": "Retry-After always says 1 s, however long the wait really is",
    "headers": "RateLimit remaining stays at the limit instead of counting down",
    "body": "the 429 body is plain text, without the error shape or Cache-Control: no-store",
}


def _catalogue() -> dict[str, str]:
    faults = dict(_STATIC_FAULTS)
    for tier in TIERS:
        for rule, description in _TIER_FAULTS.items():
            faults[f"ratelimit.{tier}.{rule}"] = f"{tier} tier: {description}"
    return faults


FAULTS: dict[str, str] = _catalogue()


def caught_by(fault_id: str) -> str:
    """The check id that must catch ``fault_id`` (the part before a variant's ``@``)."""
    return fault_id.split("@", 1)[0]


class UnknownFaultError(ValueError):
    """A fault id that is not in the catalogue."""


class Faults:
    """The set of faults in force for one server run."""

    def __init__(self, enabled: Iterable[str] = ()) -> None:
        enabled = frozenset(enabled)
        for fault_id in enabled:
            if fault_id not in FAULTS:
                raise UnknownFaultError(_unknown_message(fault_id))
        self.enabled = enabled

    def __contains__(self, fault_id: object) -> bool:
        return fault_id in self.enabled

    def __bool__(self) -> bool:
        return bool(self.enabled)

    def header_value(self) -> str:
        """The ``X-Sergio-Faults`` header: the enabled fault ids, sorted."""
        return ",".join(sorted(self.enabled))


def _unknown_message(fault_id: str) -> str:
    message = f"unknown fault {fault_id!r}"
    close = difflib.get_close_matches(fault_id, FAULTS, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message + " (sergio-kit serve --list-faults shows them all)"
