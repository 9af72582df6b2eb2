"""What each fault's finding says: the proof that a check failed *for its fault*, not for a setup step.

A proof test (``test_check_proofs.py``, ``test_faults_with_variants.py``, ...) that accepted any
:class:`~sergio_kit.reports.findings.CheckFailed` would also pass when the check broke down earlier (a
login refused, a job it could not create, an unreachable target). :data:`SYMPTOMS` maps every fault id of
:data:`sergio_kit.server.faults.FAULTS` whose check is registered to a regular expression the finding's
text (its message, then what was expected, one per line; :func:`finding_text`) must match, chosen from
what the check says when *that* rule breaks and never from the words a setup failure uses
(:data:`SETUP_FAILURES`: "could not create ...", "login ... failed", "unreachable", "control: ...").

A new fault adds its line here (``test_every_fault_has_a_symptom`` asks for it).
"""

from __future__ import annotations

import re

from sergio_kit.contract.document import TIERS
from sergio_kit.reports.findings import CheckFailed, Finding

#: A tier's name, then its operation in brackets, as the rate-limit checks start their messages.
_TIER = r"{tier} tier \([^)]*\)"

_STATIC_SYMPTOMS: dict[str, str] = {
    # contract (the registered ones; Schemathesis' are proven in tests/cli/ and tests/suite/)
    "contract.declared": r"declared operation\(s\) not served: GET /v1/webhooks \(405\)",
    # auth: login
    "auth.login.shape": r"login response has no 'refresh_token'",
    "auth.login.lifetime": r"expires_at .* is -300 s from the token's exp",
    "auth.login.enumeration": r"an unknown email and a wrong password get different",
    "auth.login.bad_input": r"login with .*: got 5\d\d",
    # auth: bearer header
    "auth.bearer.missing": r"without Authorization: got 2\d\d",
    "auth.bearer.malformed": r"with ('Basic <token>'|the bare token|'Token <token>'|'JWT <token>'|scheme '"
    r"|'Bearer[^']*'[^:]*): got 2\d\d",
    "auth.bearer.malformed@tab": r"with 'Bearer<TAB><token>' \(a tab, not a space\): got 2\d\d",
    "auth.bearer.placement": r"with a valid token in the query string \(\?access_token=\) was not refused: "
    r"got \d+ \(a wrong token there gets 401\)",
    "auth.bearer.placement@form": r"with a valid token in a form-encoded body \(access_token=\) was not "
    r"refused: got \d+ \(a wrong token there gets 401\)",
    # auth: JWT verification
    "auth.jwt.tampered_claims": r"moved .*, signature kept: got 2\d\d",
    "auth.jwt.truncated_signature": r"signature cut to \d+ of \d+ characters: got 2\d\d",
    "auth.jwt.null_signature": r"with an empty signature: got 2\d\d",
    "auth.jwt.alg_none": r"with alg '?none'? .*: got 2\d\d",
    "auth.jwt.alg_confusion": r"HS256 signed with (the empty key|a common secret|'[^']*').*: got 2\d\d",
    "auth.jwt.header_injection": r"'jwk' header carrying the signing key: got 2\d\d",
    "auth.jwt.header_injection@asymmetric-jwk": r"'jwk' header carrying the kit's own \S+ public key, "
    r"\w+ signed with it: got 2\d\d",
    "auth.jwt.key_confusion": r"HS256 signed with the public key \(its PEM\) as the HMAC secret: got 2\d\d",
    "auth.jwt.key_confusion@jwk": r"HS256 signed with the public key \(its JWK's JSON[^)]*\) as the HMAC "
    r"secret: got 2\d\d",
    "auth.jwt.kid": r"a kid traversing to /dev/null, HS256 signed with the empty key: got 2\d\d",
    "auth.jwt.kid@unknown": r"a kid naming no key of the target, signed with the kit's key: got 2\d\d",
    "auth.jwt.jku": r"a jku header pointing at the kit's key set on loopback .*: got 2\d\d; the target "
    r"fetched that URL first",
    "auth.jwt.jku@x5u": r"an x5u header pointing at the kit's certificate on loopback.*: got 2\d\d; the "
    r"target fetched that URL first",
    "auth.jwt.jku@fetch": r"the target fetched \d+ URL\(s\) that forged tokens named in jku/x5u headers",
    "auth.jwt.expired": r"with exp an hour ago \(re-signed\): got 2\d\d",
    "auth.jwt.not_yet_valid": r"with (nbf|iat) .* in the future \(re-signed\): got 2\d\d",
    "auth.jwt.wrong_audience": r"with aud of another service \(re-signed\): got 2\d\d",
    "auth.jwt.wrong_issuer": r"with iss of another issuer \(re-signed\): got 2\d\d",
    "auth.jwt.missing_exp": r"with no exp claim \(re-signed\): got 2\d\d",
    "auth.jwt.claim_fuzz": r"with a re-signed token whose .*: got 5\d\d",
    "auth.jwt.claim_fuzz@cid-trusted": r"was accepted and answered objects the real token does not see "
    r".*another company's data",
    "auth.token_kind": r"with the refresh token as a bearer token: got 2\d\d",
    # auth: tenancy and roles
    "auth.tenant.objects": r"PATCH /v1/jobs/\{job_id\} as another company's admin (answered 2\d\d with "
    r"this company's job's data|changed this company's job)",
    "auth.tenant.objects@read": r"GET /v1/jobs/\{job_id\} as another company's admin answered 200 with "
    r"this company's job's data",
    "auth.tenant.objects@webhook-delete": r"DELETE /v1/webhooks/\{webhook_id\} as another company's admin "
    r"deleted this company's webhook",
    "auth.tenant.objects@rotate": r"POST /v1/api-keys/\{key_id\}/rotate as another company's admin "
    r"(answered 2\d\d with this company's API key's data|made this company's API key stop working)",
    "auth.tenant.lists": r"GET /v1/jobs as another company's admin lists this company's job",
    "auth.tenant.lists@webhooks": r"GET /v1/webhooks as another company's admin lists this company's webhook",
    "auth.tenant.lists@api-keys": r"GET /v1/api-keys as another company's admin lists this company's API key",
    "auth.member.admin_only": r"GET /v1/api-keys as a member \(not an admin\) was not refused: got 200",
    "auth.member.admin_only@rotate": r"POST /v1/api-keys/\{key_id\}/rotate as a member \(not an admin\) "
    r"was not refused: got 2\d\d",
    "auth.expiry.live": r"with a token \d+ s after its login: got 2\d\d",
    # refresh
    "refresh.rotation": r"the access token issued by refresh was refused",
    "refresh.reuse": r"the spent refresh token was accepted a second time",
    "refresh.race": r"simultaneous refreshes of one refresh token succeeded",
    "refresh.logout": r"refresh token still works after logout",
    "refresh.property": r"is alive in the model but its refresh was refused.*logout",
    "refresh.claims": r"refresh: the token('s exp is 7200 s after the target's now| lives 7200 s)",
    "refresh.claims@identity": r"refresh issued a token of another user: its sub differs from the login's",
    "refresh.claims@expires_at": r"refresh: expires_at \S+ is -300 s from the token's exp",
    # apikey
    "apikey.missing": r"with no X-API-Key header was not refused: got 2\d\d",
    "apikey.unknown": r"a real key whose secret's last characters changed was not refused: got 2\d\d",
    "apikey.malformed": r"with a malformed key .* was not refused: got 5\d\d",
    "apikey.surface_separation": r"with an API key as the bearer token was not refused: got 2\d\d",
    "apikey.surface_separation@x-api-key": r"with X-API-Key alone \(no Authorization\) was not refused: "
    r"got 2\d\d",
    "apikey.surface_separation@beside-bad-bearer": r"with X-API-Key beside an invalid bearer token was "
    r"not refused: got 2\d\d",
    "apikey.scope": r"POST /zapier/v1/actions/create-job with a jobs:read key \(it needs jobs:write\) was "
    r"not refused: got 2\d\d",
    "apikey.scope@trigger": r"GET /zapier/v1/triggers/new-job with a jobs:write-only key \(it needs "
    r"jobs:read\) was not refused: got 2\d\d",
    "apikey.tenant": r"this company's key sees the other company's new job",
    "apikey.revoked": r"with a key revoked a moment ago was not refused: got 2\d\d",
    "apikey.rotated": r"with the key that was just rotated out was not refused: got 2\d\d",
    "apikey.no_echo": r"the response body contains a full API key",
    "apikey.hint": r"GET /v1/api-keys: the response body shows 12 consecutive characters of an API key's "
    r"secret part",
    # transport
    "transport.https_only": r"was served over plain HTTP",
    # ratelimit: cross-tier rules
    "ratelimit.isolation.keys": r"as \S+, after \S+ spent the tier's quota, was refused: got 429",
    "ratelimit.isolation.keys@apikey": r"with a second key of the same company, after the first key "
    r"spent the tier's quota, was refused: got 429",
    "ratelimit.isolation.tiers": r"was refused after the same user spent the \w+ tier",
    "ratelimit.isolation.tiers@write-read": r"read tier \([^)]*\) was refused after the same user spent the "
    r"write tier: \d+ of its quota",
    "ratelimit.isolation.tiers@bulk-write": r"write tier \([^)]*\) was refused after the same user spent the "
    r"bulk tier: \d+ of its quota",
    "ratelimit.isolation.tiers@webhook-bulk": r"bulk tier \([^)]*\) was refused after the same user spent "
    r"the webhook tier: \d+ of its quota",
    "ratelimit.isolation.users": r"as \S+, a user of the same company, after \S+ spent the tier's quota, was "
    r"refused: got 429",
    "ratelimit.relogin_bypass": r"with a fresh login's token, after the user spent the tier's quota, "
    r"was admitted",
    "ratelimit.concurrency": r"simultaneous .* requests at a fresh window: \d+ admitted",
    **{
        f"ratelimit.concurrency@{tier}": rf"simultaneous {tier} tier \([^)]*\) requests at a fresh window: "
        r"\d+ admitted"
        for tier in ("write", "webhook", "bulk")
    },
    "ratelimit.window": r"a \d+-s span admitted \d+, quota \d+",
    "ratelimit.window@first-request": r"a \d+-s span admitted \d+, quota \d+",
    "ratelimit.window@offset": r"a \d+-s span admitted \d+, quota \d+",
    "ratelimit.read.headers@quota-only": r"read tier \([^)]*\), request \d+: .*says a quota of 240",
    "ratelimit.webhook.headers@remaining-only": r"webhook tier \([^)]*\), request \d+: .* says \d+ remain",
    "ratelimit.read.boundary@apikey": r"read tier \(GET /zapier/[^)]*per API key\): 121 requests admitted "
    r"in one window, quota 120",
    "ratelimit.write.boundary@apikey": r"write tier \([A-Z]+ /zapier/[^)]*per API key\): 61 requests "
    r"admitted in one window, quota 60",
    # webhook
    "webhook.registration": r"registering a webhook did not show a signing secret",
    "webhook.secret_once": r"GET /v1/webhooks shows (a secret field|the webhook's signing secret) again",
    "webhook.signature": r"X-Sergio-Signature does not verify over the raw body",
    "webhook.https_only": r"registering the plain-HTTP URL \S+ answered 2\d\d",
    "webhook.https_only@public-host": r"registering the plain-HTTP URL http://[a-z.-]+\.invalid/\S* "
    r"answered 2\d\d",
}

#: Each tier's rules (``ratelimit.<tier>.<rule>``): the tier named first, then what broke.
_TIER_SYMPTOMS: dict[str, str] = {
    "boundary": _TIER + r": \d+ requests admitted in one window, quota \d+",
    "headers": _TIER + r", request \d+: .* says \d+ remain",
    "body": _TIER + r": the 429 body is not the error shape",
    "retry_after": _TIER + r", the first 429: a 429 without Retry-After",
    "retry_after_honest": _TIER + r": still refused once the Retry-After of \d+ s had elapsed",
}

SYMPTOMS: dict[str, str] = _STATIC_SYMPTOMS | {
    f"ratelimit.{tier}.{rule}": pattern.format(tier=tier)
    for tier in TIERS
    for rule, pattern in _TIER_SYMPTOMS.items()
}

#: What the kit says when a setup step fails (taken from its checks): no symptom may match these, so a
#: check that broke down before judging its rule never passes as a proof.
SETUP_FAILURES = (
    "login as admin@acme.test failed: got 429",
    "could not create a primary job to test with: got 500 from POST /v1/jobs; the check's rule was not "
    "judged",
    "could not create a job to test with: got 400 from POST /v1/jobs; the check's rule was not judged",
    "could not register a webhook to test with: got 500",
    "could not create an API key to test with: got 403 from POST /v1/api-keys; the check's rule was not "
    "judged",
    "the target at https://127.0.0.1:9 is unreachable: connection refused",
    "control: the real token after a changed-cid one: got 401",
    "control: the real token's claims re-signed with the configured key (is SERGIO_JWT_SECRET or "
    "SERGIO_JWT_PRIVATE_KEY right?): got 401",
    "control: the real token after the key-URL ones was refused at GET /v1/jobs: got 401",
    "the new-job trigger failed: got 500",
    "refresh failed: got 401",
    "GET /v1/jobs with the real token: got 401",
    "the rate-limit probe could not start: got 500",
    "registering a webhook to test with failed: got 500",
    "creating a job to trigger a delivery failed: got 500 from POST /v1/jobs; the check's rule was not "
    "judged",
    "could not make a job to call on: got 500 from POST /v1/jobs; the check's rule was not judged",
    "could not create a job for the write probe to update: got 500",
    "could not create an API key for the live plan: got 500",
    "revoking the key failed: got 500",
    "rotating the key failed: got 500",
    "listing webhooks failed: got 500",
)


def finding_text(finding: Finding) -> str:
    """The finding's words a symptom is looked for in: its message, then what was expected."""
    return f"{finding.message}\n{finding.expected}"


def symptom_of(fault_id: str) -> re.Pattern[str]:
    """The compiled symptom of ``fault_id`` (case-insensitive); KeyError when it has none."""
    return re.compile(SYMPTOMS[fault_id], re.IGNORECASE | re.DOTALL)


def assert_symptom(fault_id: str, failure: CheckFailed) -> None:
    """Assert that ``failure`` is about the rule ``fault_id`` breaks: its finding shows the symptom."""
    text = finding_text(failure.finding)
    assert symptom_of(fault_id).search(text), (
        f"{fault_id}: the check failed, but not for its fault (a setup step?): {text!r}; "
        f"expected a finding matching {SYMPTOMS[fault_id]!r}"
    )
