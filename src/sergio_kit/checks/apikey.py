"""``apikey.*``: the Zapier surface's ``X-API-Key``: presence, form, scope, tenant, lifecycle, secrecy.

Keys are ``sk_(live|test)_`` + an 8-character lookup id + a 32-character secret. The refusal checks
run against every operation the contract secures with ``apiKeyAuth``. Checks that revoke or rotate
create their own keys (and delete them), so the context's cached keys stay usable; without key
management in the contract (keys made in a dashboard) they skip, and the others use the keys the
user supplies (``SERGIO_API_KEY``, ``SERGIO_READ_ONLY_API_KEY``).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from sergio_kit.checks.auth.forgeries import with_wrong_signature
from sergio_kit.checks.context import KEY_MANAGEMENT, OTHER, PRIMARY, SUCCESS, CheckContext
from sergio_kit.checks.operation_facts import declares_status, security_scopes
from sergio_kit.checks.registry import check
from sergio_kit.contract.document import Operation
from sergio_kit.reports.findings import CheckSkipped

ALPHANUMERIC = string.ascii_letters + string.digits
SECRET_LENGTH = 32
BOTH_SCOPES = ("jobs:read", "jobs:write")
CREATE_JOB = "zapierCreateJob"
TRIGGER = "zapierNewJobTrigger"
ME = "GET /zapier/v1/me"  # assumed: the kit's favourite "does this key work" call
NEW_JOB_TRIGGER = "GET /zapier/v1/triggers/new-job"  # documented
CREATE_JOB_ACTION = "POST /zapier/v1/actions/create-job"
CREATE_JOB_V1 = "POST /v1/jobs"
DELETE_JOB = "DELETE /v1/jobs/{job_id}"
ROTATE = "POST /v1/api-keys/{key_id}/rotate"
REVOKE = "DELETE /v1/api-keys/{key_id}"
#: The key-management operations (the dashboard's actions as endpoints; none of them published).
KEY_LIFECYCLE = (KEY_MANAGEMENT, "GET /v1/api-keys", ROTATE, REVOKE)
#: What a rotation may answer without a warning: the new key, as an update (200) or a creation (201).
ROTATION_STATUSES = (200, 201)


def path_of(label: str) -> str:
    """The path of an operation ``label`` (``"METHOD /path"``)."""
    return label.split(" ", 1)[1]


def zapier_operations(ctx: CheckContext) -> list[Operation]:
    """Every operation the contract secures with an API key; skips when it secures none."""
    operations = ctx.protected("apiKeyAuth")
    if not operations:
        raise CheckSkipped("the contract secures no operation with apiKeyAuth (the Zapier operations)")
    return operations


def random_key() -> str:
    """A well-formed key that nobody was ever issued."""
    return "sk_live_" + "".join(secrets.choice(ALPHANUMERIC) for _ in range(8 + SECRET_LENGTH))


def with_changed_secret(key: str, count: int = 4) -> str:
    """``key`` with its last ``count`` characters (part of the secret) replaced by different ones."""
    changed = "".join(ALPHANUMERIC[(ALPHANUMERIC.index(c) + 7) % len(ALPHANUMERIC)] for c in key[-count:])
    return key[:-count] + changed


def created_job_ids(response: httpx.Response) -> list[str]:
    """The ids of the jobs a successful job-creating call (single, bulk or Zapier) made."""
    path = response.request.url.path
    creates = path.endswith(("/actions/create-job", "/v1/jobs", "/v1/jobs/bulk"))
    if response.request.method != "POST" or not creates or not 200 <= response.status_code < 300:
        return []
    try:
        body = response.json()
    except ValueError:
        return []
    jobs = body.get("created", [body]) if isinstance(body, dict) else []
    return [str(job["id"]) for job in jobs if isinstance(job, dict) and isinstance(job.get("id"), str)]


def remove_job(ctx: CheckContext, response: httpx.Response) -> None:
    """Delete the jobs a (possibly wrongly) successful create call made, in whichever tenant owns them
    (when the contract declares deleting a job)."""
    for job_id in created_job_ids(response):
        for tenant in (PRIMARY, OTHER):
            if delete_job(ctx, job_id, tenant):
                break


def delete_job(ctx: CheckContext, job_id: str, tenant: str) -> bool:
    """Delete ``job_id`` as ``tenant`` when the contract declares deleting a job: whether it went (204)."""
    if not ctx.offers(DELETE_JOB):
        return False
    return ctx.send("DELETE", f"/v1/jobs/{job_id}", token=ctx.token(tenant)).status_code == 204


def call_zapier(
    ctx: CheckContext, operation: Operation, headers: Mapping[str, str | bytes]
) -> httpx.Response:
    """One call of ``operation`` with exactly ``headers`` (values may be raw bytes); removes a job it made."""
    method, path, body = ctx.request_for(operation)
    raw = {
        name.encode(): value if isinstance(value, bytes) else value.encode()
        for name, value in headers.items()
    }
    response = ctx.throttle.send(
        f"{method} {path}",
        lambda: ctx.client.request(method, path, headers=raw, json=body),
        lambda r: (r.status_code, r.headers),
        headers={
            name: value if isinstance(value, str) else value.decode("latin-1")
            for name, value in headers.items()
        },
    )
    remove_job(ctx, response)
    return response


def refused_everywhere(
    ctx: CheckContext, headers: Mapping[str, str | bytes], what: str, statuses: Iterable[int] = (401,)
) -> list[httpx.Response]:
    """Every API-key operation called with ``headers`` must be refused with one of ``statuses``;
    returns the refusals."""
    allowed = set(statuses)
    expected = " or ".join(str(status) for status in sorted(allowed))
    refusals = []
    for operation in zapier_operations(ctx):
        response = call_zapier(ctx, operation, headers)
        ctx.expect(response, allowed, f"{operation.label} with {what} was not refused", expected)
        refusals.append(response)
    return refusals


def create_key(ctx: CheckContext, scopes: Iterable[str], name: str) -> tuple[httpx.Response, str, str]:
    """A key of our own, through key management: ``(response, key id, key)`` (skips without it)."""
    response = ctx.create_api_key(list(scopes), name)
    body = response.json()
    return response, str(body["id"]), str(body["key"])


@contextmanager
def own_key(ctx: CheckContext, scopes: Iterable[str], name: str) -> Iterator[tuple[httpx.Response, str, str]]:
    """:func:`create_key`, revoked again afterwards (a 404 there means it is already gone)."""
    created = create_key(ctx, scopes, name)
    try:
        yield created
    finally:
        ctx.send("DELETE", f"/v1/api-keys/{created[1]}", token=ctx.token())


def works_probe(ctx: CheckContext) -> str:
    """The operation that shows a key works: ``GET /zapier/v1/me`` when the contract offers it, else
    the documented new-job trigger; skips, naming both, when it declares neither."""
    for label in (ME, NEW_JOB_TRIGGER):
        if ctx.offers(label):
            return label
    raise CheckSkipped(f"the contract does not declare {ME} or {NEW_JOB_TRIGGER} (to try a key on)")


def expect_works(ctx: CheckContext, key: str, what: str) -> httpx.Response:
    """The key-probing operation (:func:`works_probe`) with ``key`` must be 200."""
    label = works_probe(ctx)
    response = ctx.send("GET", path_of(label), api_key=key)
    ctx.expect(response, {200}, f"{what} was refused on {label}", "200")
    return response


@check("apikey.missing", basis="documented")
def missing(ctx: CheckContext) -> None:
    """Every API-key operation without X-API-Key is 401."""
    refused_everywhere(ctx, {}, "no X-API-Key header")


@check("apikey.unknown", basis="documented")
def unknown(ctx: CheckContext) -> None:
    """A made-up well-formed key, and a real key with its secret changed, are 401 everywhere."""
    works_probe(ctx)
    _, real = ctx.api_key(BOTH_SCOPES)
    expect_works(ctx, real, "control: the real key")
    refused_everywhere(ctx, {"X-API-Key": random_key()}, "a well-formed key nobody was issued")
    refused_everywhere(
        ctx, {"X-API-Key": with_changed_secret(real)}, "a real key whose secret's last characters changed"
    )
    refused_everywhere(
        ctx, {"X-API-Key": with_changed_secret(real, SECRET_LENGTH)}, "a real key with another secret"
    )


def malformed_forms(real: str) -> list[tuple[str, str | bytes]]:
    """``(description, header value)`` pairs: keys of the wrong shape, many derived from a real one."""
    body = real.split("_", 2)[2]
    prefix = real[: len(real) - len(body)]
    return [
        ("an empty value", ""),
        ("the key without its sk_ prefix", body),
        ("a short word", "abc"),
        ("the prefix alone", prefix),
        ("the key cut short by one character", real[:-1]),
        ("the key with one character too many", real + "a"),
        ("an upper-case prefix", prefix.upper() + body),
        ("another prefix (pk_)", "pk_" + real[3:]),
        ("an unknown environment (sk_prod_)", "sk_prod_" + body),
        ("a space inside the key", real[:20] + " " + real[20:]),
        ("a tab inside the key", real[:20] + "\t" + real[21:]),
        ("punctuation in the secret", prefix + body[:8] + "!" * SECRET_LENGTH),
        ("a non-ASCII secret (UTF-8)", (prefix + body[:8]).encode() + "é".encode() * 16),
        ("a real key with one non-ASCII character", real[:-1].encode() + "ü".encode()),
        ("a Latin-1 byte in the key", real[:-1].encode() + b"\xe9"),
        ("two keys separated by a comma", real + ", " + real),
        ("a NUL byte inside the key", real[:20] + "\x00" + real[20:]),
    ]


@check("apikey.malformed", basis="documented")
def malformed(ctx: CheckContext) -> None:
    """Malformed keys (no prefix, too short or long, whitespace, non-ASCII...) are 401 everywhere."""
    _, real = ctx.api_key(BOTH_SCOPES)
    sent = 0
    bad_requests: list[tuple[str, httpx.Response]] = []  # refused, but not as the kit assumes
    for description, value in malformed_forms(real):
        what = f"a malformed key ({description})"
        try:
            refusals = refused_everywhere(ctx, {"X-API-Key": value}, what, (400, 401))
        except httpx.LocalProtocolError:
            continue  # the HTTP client itself refuses to send this value
        sent += 1
        bad_requests += [(what, response) for response in refusals if response.status_code == 400]
    if sent < 5:
        ctx.fail(f"only {sent} malformed key forms could be sent", expected="most forms sent")
    if bad_requests:  # the 401 of a bad key is the kit's assumption; a 400 refuses the key too
        what, response = bad_requests[0]
        ctx.fail(
            f"{response.request.method} {response.request.url.path} with {what}: 400, not 401",
            response,
            "401 unauthorized",
            basis="recommended",
        )


@check("apikey.surface_separation", basis="documented")
def surface_separation(ctx: CheckContext) -> None:
    """A JWT in X-API-Key is 401 on every Zapier operation; on /v1 an API key is never a credential:
    as the bearer token or in X-API-Key alone it is 401 on every bearer operation, and beside an
    invalid bearer token it is 401 too.

    X-API-Key alone goes to every bearer operation but the auth tier's (a forgotten guard is per
    route; the auth tier is the scarcest and ``auth.bearer.missing`` guards logout); beside an invalid
    bearer token (a fallback to the key is one shared bug) it goes to one operation, a read when the
    contract has one without path parameters.
    """
    refused_everywhere(ctx, {"X-API-Key": ctx.token()}, "a valid bearer JWT in X-API-Key")
    _, key = ctx.api_key(BOTH_SCOPES)
    operations, as_bearer = ctx.protected("bearerAuth"), {"Authorization": f"Bearer {key}"}
    for operation in operations:
        _expect_v1_refused(ctx, operation, "an API key as the bearer token", as_bearer)
    for operation in operations:
        if operation.tier != "auth":
            _expect_v1_refused(ctx, operation, "X-API-Key alone (no Authorization)", {"X-API-Key": key})
    readers = [op for op in operations if op.method == "GET" and "{" not in op.path]
    probe = next(iter(readers or [op for op in operations if op.tier != "auth"]), None)
    if probe is not None:
        headers = {"Authorization": f"Bearer {with_wrong_signature(ctx.token())}", "X-API-Key": key}
        _expect_v1_refused(ctx, probe, "X-API-Key beside an invalid bearer token", headers)


def _expect_v1_refused(ctx: CheckContext, operation: Operation, what: str, headers: dict[str, str]) -> None:
    """``operation`` (a /v1 bearer operation) called with exactly ``headers`` must be 401; a
    resource it made after all is removed."""
    method, path, body = ctx.request_for(operation)
    response = ctx.send(method, path, headers=headers, json=body)
    remove_job(ctx, response)
    remove_made(ctx, response)
    ctx.expect(response, {401}, f"{operation.label} with {what} was not refused", "401")


def remove_made(ctx: CheckContext, response: httpx.Response) -> None:
    """Remove, when the context closes, a webhook or API key a (wrongly) successful call made."""
    path = response.request.url.path
    if response.request.method != "POST" or path not in ("/v1/webhooks", "/v1/api-keys"):
        return
    if not 200 <= response.status_code < 300:
        return
    try:
        made = response.json().get("id")
    except (ValueError, AttributeError):
        return
    if isinstance(made, str) and made:
        ctx.remove_later(PRIMARY, f"{path}/{made}")


#: The scope each published Zapier operation needs by the kit's assumption (sergio-api.md), for a
#: contract that names no scope on it and declares no 403 for it.
ASSUMED_SCOPES = {NEW_JOB_TRIGGER: ("jobs:read",), CREATE_JOB_ACTION: ("jobs:write",)}


def needed_scopes(ctx: CheckContext, operation: Operation) -> tuple[str, ...]:
    """The scopes the API-key ``operation`` needs: those its security requirement names (OpenAPI 3.1
    lets any scheme list role names); else, when it declares a 403 (the contract's answer to a key
    without the scope), ``jobs:read`` for a ``GET`` and ``jobs:write`` for any other method; else the
    kit's assumption for the published operations (:data:`ASSUMED_SCOPES`). Empty for an operation any
    valid key may call (the connection test, ``GET /zapier/v1/me``, declares no 403)."""
    named = tuple(s for s in security_scopes(ctx.contract, operation, "apiKeyAuth") if s in BOTH_SCOPES)
    if named:
        return named
    if declares_status(ctx.contract, operation, 403):
        return ("jobs:read",) if operation.method in ("GET", "HEAD") else ("jobs:write",)
    return ASSUMED_SCOPES.get(operation.label, ())


@check("apikey.scope", basis="documented")
def scope(ctx: CheckContext) -> str:
    """A jobs:read key is refused (403) every Zapier operation that needs jobs:write, and a
    jobs:write-only key (when key management can make one) every one that needs jobs:read; a key
    with the scopes an operation needs is served (2xx).

    Which scope an operation needs comes from the contract (:func:`needed_scopes`): the scopes its
    security requirement names, else its method when it declares a 403; an operation without either
    (the connection test) serves every valid key and is not judged here.
    """
    scoped = [(op, needs) for op in zapier_operations(ctx) if (needs := needed_scopes(ctx, op))]
    if not scoped:
        raise CheckSkipped(
            "the contract declares no Zapier operation that needs a scope (none declares a 403)"
        )
    _, read_key = ctx.api_key(["jobs:read"])
    try:
        _, write_key = ctx.api_key(["jobs:write"])
        write_only = True
    except CheckSkipped:  # no key management: the supplied keys are read-only and full
        write_only = False
    for operation, needs in scoped:
        lacking = [("a jobs:read key", read_key, "jobs:write")] if "jobs:write" in needs else []
        if write_only and "jobs:read" in needs:
            lacking.append(("a jobs:write-only key", write_key, "jobs:read"))
        for what, key, missing in lacking:
            refused = call_zapier(ctx, operation, {"X-API-Key": key})
            ctx.expect(
                refused,
                {403},
                f"{operation.label} with {what} (it needs {missing}) was not refused",
                f"403 (the key lacks {missing})",
            )
        holding = needs if write_only or needs == ("jobs:read",) else BOTH_SCOPES
        _, key = ctx.api_key(holding)
        allowed = call_zapier(ctx, operation, {"X-API-Key": key})
        ctx.expect(
            allowed, SUCCESS, f"{operation.label} with a key holding {' + '.join(holding)} was refused", "2xx"
        )
    judged = ", ".join(operation.label for operation, _ in scoped)
    return f"scopes judged on {judged}" + ("" if write_only else " (no write-only key: reads not refused)")


def new_job(ctx: CheckContext, tenant: str) -> str:
    """Create a job for ``tenant`` through /v1 and return its id."""
    body = ctx.job(notes="sergio-kit tenant")
    response = ctx.send("POST", path_of(CREATE_JOB_V1), token=ctx.token(tenant), json=body)
    ctx.setup_step(response, SUCCESS, f"could not create a {tenant} job to test with")
    return str(response.json()["id"])


def listed_job_ids(trigger: httpx.Response) -> set[Any] | None:
    """The ids of the jobs the new-job trigger lists: its body is a JSON array of jobs, or an object
    with them in ``data``; ``None`` for any other shape."""
    try:
        body = trigger.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        body = body["data"]
    if not isinstance(body, list):
        return None
    return {job.get("id") for job in body if isinstance(job, dict)}


@check("apikey.tenant", basis="documented")
def tenant(ctx: CheckContext) -> None:
    """This company's key never sees another company's jobs: the new-job trigger lists the key's own
    company's new job and not the other company's (another company's admin on this company's objects
    and lists: ``auth.tenant.objects``, ``auth.tenant.lists``)."""
    # The trigger's jobs may come as an array or in "data" (the array is the kit's assumption).
    ctx.require(CREATE_JOB_V1, "to create the jobs the companies must not share")
    ctx.require(NEW_JOB_TRIGGER, "to see which jobs a key is shown")
    _, key = ctx.api_key(["jobs:read"])  # this company's: a supplied key belongs to the first company
    ours, theirs = new_job(ctx, PRIMARY), new_job(ctx, OTHER)
    try:
        trigger = ctx.send("GET", path_of(NEW_JOB_TRIGGER), api_key=key)
        ctx.expect(trigger, {200}, "the new-job trigger failed", "200")
        ids = listed_job_ids(trigger)
        if theirs in (trigger.text if ids is None else ids):
            ctx.fail(
                f"this company's key sees the other company's new job {theirs} in the trigger",
                trigger,
                "only its own jobs",
            )
        if ids is not None and ours not in ids:
            ctx.fail(
                f"the trigger does not list the key's own company's new job {ours}",
                trigger,
                "its own new job",
            )
        if ids is None:
            ctx.fail(
                "the new-job trigger answered neither a JSON array of jobs nor an object with them in data",
                trigger,
                "a JSON array of jobs",
                basis="recommended",
            )
    finally:
        delete_job(ctx, ours, PRIMARY)
        delete_job(ctx, theirs, OTHER)


@check("apikey.revoked", basis="documented")
def revoked(ctx: CheckContext) -> None:
    """A revoked key is 401 on every API-key operation at once."""
    ctx.require(REVOKE, "the kit revokes a key of its own")
    with own_key(ctx, ["jobs:read"], "sergio-kit revoke probe") as (_, key_id, key):
        expect_works(ctx, key, "the new key")
        response = ctx.send("DELETE", f"/v1/api-keys/{key_id}", token=ctx.token())
        ctx.expect(response, SUCCESS, "revoking the key failed", "2xx (204)")
        refused_everywhere(ctx, {"X-API-Key": key}, "a key revoked a moment ago")


@check("apikey.rotated", basis="documented")
def rotated(ctx: CheckContext) -> None:
    """After rotation the old key is 401 on every API-key operation and the new key works (the
    rotation's status is not published: 200 or 201 pass, another 2xx warns)."""
    ctx.require(ROTATE, "the kit rotates a key of its own")
    with own_key(ctx, ["jobs:read"], "sergio-kit rotate probe") as (_, key_id, old):
        expect_works(ctx, old, "the new key")
        response = ctx.send("POST", f"/v1/api-keys/{key_id}/rotate", token=ctx.token())
        ctx.expect(response, SUCCESS, "rotating the key failed", "200 or 201 with the new key")
        new = response.json().get("key")
        if not isinstance(new, str) or new == old:
            ctx.fail("rotation returned no new key", response, "a new key")
        refused_everywhere(ctx, {"X-API-Key": old}, "the key that was just rotated out")
        expect_works(ctx, new, "the key issued by rotation")
        if ctx.offers(ME) and ctx.offers(NEW_JOB_TRIGGER):  # else expect_works tried the trigger
            trigger = ctx.send("GET", path_of(NEW_JOB_TRIGGER), api_key=new)
            what = "the key issued by rotation was refused on the new-job trigger"
            ctx.expect(trigger, {200}, what, "200")
        if response.status_code not in ROTATION_STATUSES:
            ctx.fail(
                f"rotating the key answered {response.status_code}",
                response,
                "200 or 201 with the new key",
                basis="recommended",
            )


class EchoScanner:
    """Scans every response a check receives for any full key (or its secret part) it must not show."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.keys: list[str] = []

    def scan(self, response: httpx.Response, what: str, allowed: str | None = None) -> None:
        """Fail if ``response`` shows a known key other than ``allowed`` (the one it just created)."""
        for key in self.keys:
            if key == allowed:
                continue
            for needle, kind in ((key, "a full API key"), (key[-SECRET_LENGTH:], "an API key's secret part")):
                if needle in response.text:
                    self.ctx.fail(
                        f"{what}: the response body contains {kind}", response, "no key after creation"
                    )
                for name, value in response.headers.items():
                    if needle in value:
                        self.ctx.fail(
                            f"{what}: the {name} header contains {kind}", response, "no key after creation"
                        )

    def send(self, method: str, path: str, what: str, **options: Any) -> httpx.Response:
        """Send through the context, scan the answer, and remove a job it created."""
        response = self.ctx.send(method, path, **options)
        remove_job(self.ctx, response)
        self.scan(response, what)
        return response

    def zapier(self, key: str, what: str) -> None:
        """Every API-key operation with ``key``, scanned."""
        for operation in zapier_operations(self.ctx):
            method, path, body = self.ctx.request_for(operation)
            self.send(method, path, f"{operation.label} with {what}", api_key=key, json=body)


@check("apikey.no_echo", basis="recommended")
def no_echo(ctx: CheckContext) -> None:
    """No Zapier or key-management response shows a full key after the one that created it (without
    key management: no Zapier response shows the supplied keys)."""
    scanner = EchoScanner(ctx)
    scanner.keys.append(ctx.api_key(["jobs:read"])[1])
    if not all(ctx.offers(label) for label in KEY_LIFECYCLE):  # keys made in a dashboard
        full = ctx.api_key(BOTH_SCOPES)[1]
        scanner.keys.append(full)
        scanner.zapier(scanner.keys[0], "a jobs:read key")
        scanner.zapier(full, "a jobs:read+jobs:write key")
        scanner.zapier(with_changed_secret(full), "a key with a changed secret")
        return
    token = ctx.token()
    with own_key(ctx, BOTH_SCOPES, "sergio-kit echo probe") as (created, key_id, key):
        scanner.keys.append(key)
        scanner.scan(created, "POST /v1/api-keys", allowed=key)
        scanner.zapier(scanner.keys[0], "a jobs:read key")
        scanner.zapier(key, "a jobs:read+jobs:write key")
        scanner.send("GET", "/v1/api-keys", "GET /v1/api-keys", token=token)
        rotation = ctx.send("POST", f"/v1/api-keys/{key_id}/rotate", token=token)
        ctx.expect(rotation, SUCCESS, "rotating the key failed", "200 or 201 with the new key")
        new = str(rotation.json().get("key"))
        scanner.scan(rotation, f"POST /v1/api-keys/{key_id}/rotate", allowed=new)
        scanner.keys.append(new)
        scanner.zapier(new, "the rotated key")
        scanner.zapier(key, "the key rotated out")
        scanner.zapier(with_changed_secret(new), "a key with a changed secret")
        scanner.send("GET", "/v1/api-keys", "GET /v1/api-keys after rotation", token=token)
        scanner.send("DELETE", f"/v1/api-keys/{key_id}", "DELETE /v1/api-keys/{id}", token=token)
        scanner.zapier(new, "the revoked key")
        scanner.send("GET", "/v1/api-keys", "GET /v1/api-keys after revocation", token=token)
