"""``apikey.hint``: once a key is created, no response shows more of its secret part than a hint.

What is published of a key after its creation: the packaged contract's key listing shows ``prefix``,
"the first 12 characters of the key" (``sk_live_`` and four characters of its lookup id), none of the
32 characters the kit's key form ends with (its secret part). Nothing says how much of the secret a
deployment may show again, so the kit allows the common hint of up to four characters (a tail like
``...abcd``) and warns on a run of five or more of them in any other response: the key listing, the
Zapier operations called with the key, and the rotation's answer (for the old key). Basis
recommended: the listing without secrets and the key shown once are the kit's assumptions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NoReturn

import httpx

from sergio_kit.checks.apikey import (
    KEY_LIFECYCLE,
    ROTATE,
    SECRET_LENGTH,
    EchoScanner,
    own_key,
)
from sergio_kit.checks.context import SUCCESS, CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.reports.findings import CheckFailed, finding_from_response

#: The most characters of a key's secret part a response may show again (a ``...abcd`` hint).
HINT_LENGTH = 4
#: The characters the published ``prefix`` shows: never part of the secret part.
PUBLISHED_PREFIX = 12
LISTING = "GET /v1/api-keys"
HIDDEN = "[part of a key's secret]"


def secret_part(key: str) -> str:
    """The part of ``key`` nothing publishes: its last 32 characters, never its first 12."""
    return key[max(PUBLISHED_PREFIX, len(key) - SECRET_LENGTH) :]


def longest_run(secret: str, text: str) -> str:
    """The longest run of ``secret``'s characters longer than a hint that ``text`` contains, or
    ``""`` when it holds none."""
    for length in range(len(secret), HINT_LENGTH, -1):
        for start in range(len(secret) - length + 1):
            if secret[start : start + length] in text:
                return secret[start : start + length]
    return ""


def hidden(text: str, secrets: list[str]) -> str:
    """``text`` with every run of the ``secrets``' characters longer than a hint replaced."""
    for secret in secrets:
        while run := longest_run(secret, text):
            text = text.replace(run, HIDDEN)
    return text


def issued_key(response: httpx.Response) -> str | None:
    """The ``key`` a creation or rotation answered, or ``None``."""
    try:
        key = response.json().get("key")
    except (ValueError, AttributeError):
        return None
    return key if isinstance(key, str) and key else None


class HintScanner(EchoScanner):
    """Scans the responses a check receives for runs of the secret parts of the keys it knows (sends
    as :class:`EchoScanner` does; only what a response must not show differs)."""

    def scan(self, response: httpx.Response, what: str, allowed: str | None = None) -> None:
        """Fail if ``response`` (its body or a header) shows more than a hint of a known key's secret
        part, ``allowed`` (the key it just issued) excepted."""
        places = [("the response body", response.text)]
        places += [(f"the {name} header", value) for name, value in response.headers.items()]
        for key in self.keys:
            if key == allowed:
                continue
            for where, text in places:
                run = longest_run(secret_part(key), text)
                if run:
                    self.fail(
                        f"{what}: {where} shows {len(run)} consecutive characters of an API key's secret "
                        f"part (a hint shows at most {HINT_LENGTH})",
                        response,
                    )

    def fail(self, message: str, response: httpx.Response) -> NoReturn:
        """Fail with a finding from ``response`` that shows no part of a known key's secret."""
        secrets = [secret_part(key) for key in self.keys]
        finding = finding_from_response(message, response, expected=f"at most {HINT_LENGTH} characters")
        raise CheckFailed(
            replace(
                finding,
                sent=hidden(finding.sent, secrets),
                received=hidden(finding.received, secrets),
                curl=hidden(finding.curl, secrets),
            )
        )


@check("apikey.hint", basis="recommended")
def hint(ctx: CheckContext) -> str:
    """Once a key is created, no other response shows more than a 4-character hint of its secret part
    (the key listing, every Zapier operation with the key, the rotation's answer for the old key;
    without key management: the Zapier operations with the supplied key).

    The published listing shows a key's first 12 characters (its ``prefix``), none of its secret
    part; a run of five or more of the secret's characters anywhere else warns.
    """
    scanner = HintScanner(ctx)
    if not all(ctx.offers(label) for label in KEY_LIFECYCLE):  # keys made in a dashboard
        key = ctx.api_key(["jobs:read"])[1]
        scanner.keys.append(key)
        scanner.zapier(key, "a jobs:read key")
        return "the Zapier operations with the supplied key (no key management in the contract)"
    token = ctx.token()
    with own_key(ctx, ["jobs:read"], "sergio-kit hint probe") as (_, key_id, key):
        scanner.keys.append(key)
        scanner.send("GET", "/v1/api-keys", LISTING, token=token)
        scanner.zapier(key, "the new key")
        rotation = ctx.send("POST", f"/v1/api-keys/{key_id}/rotate", token=token)
        ctx.expect(rotation, SUCCESS, "rotating the key failed", "200 or 201 with the new key")
        new = issued_key(rotation)
        scanner.scan(rotation, f"{ROTATE} (the old key)", allowed=new)
        if new is not None:
            scanner.keys.append(new)
            scanner.zapier(new, "the rotated key")
        scanner.send("GET", "/v1/api-keys", f"{LISTING} after rotation", token=token)
    return "the key listing, the Zapier operations and the rotation show no more than a hint"
