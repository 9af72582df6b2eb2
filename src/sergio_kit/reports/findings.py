"""A finding: what a failed check sent, what came back, what was expected, how to reproduce it.

Findings are built from real exchanges and masked before they leave this module: no token, refresh
token, API key, webhook secret or password is ever stored in one.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from sergio_kit.reports.redaction import mask_headers, mask_text

BODY_PREVIEW = 300


@dataclass(frozen=True)
class Finding:
    """Why a check failed, structured for the reports."""

    message: str
    expected: str = ""
    sent: str = ""
    received: str = ""
    curl: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The finding as plain data (already masked)."""
        return asdict(self)

    def one_line(self) -> str:
        """The message, and what was expected when it adds anything."""
        if self.expected and self.expected not in self.message:
            return f"{self.message} (expected {self.expected})"
        return self.message


#: What each basis means, as the reports and ``--list-checks`` explain it.
BASIS_MEANINGS = {
    "documented": "the published Sergio API documentation asks for it",
    "standard": "a MUST of an RFC",
    "contract": "the OpenAPI contract in use declares it",
    "recommended": "a best practice or an assumption of the kit; a correct deployment may differ",
}
#: Where a rule comes from, which sets the verdict when it is broken: ``documented`` (the published API
#: documentation), ``standard`` (a MUST of an RFC), ``contract`` (what the user's own contract declares)
#: fail; ``recommended`` (a best practice, or one of the kit's assumptions) warns.
BASES = tuple(BASIS_MEANINGS)


def describe_basis(basis: str, level: str = "") -> str:
    """``basis`` explained for a report ("recommended rule: a best practice ..."), with the level the
    user set when there is one; empty when the basis is unknown and no level was set."""
    parts = [f"{basis} rule: {BASIS_MEANINGS[basis]}"] if basis in BASIS_MEANINGS else []
    if level:
        parts.append(f"its level is set to {level}")
    return "; ".join(parts)


class CheckFailed(AssertionError):
    """A check found the target breaking its rule. ``basis`` names the rule's basis when it differs
    from the check's own (a check whose main rule is documented may also test a recommended one)."""

    def __init__(self, finding: Finding, *, basis: str | None = None) -> None:
        super().__init__(finding.one_line())
        if basis is not None and basis not in BASES:
            raise ValueError(f"unknown basis {basis!r}: expected one of {', '.join(BASES)}")
        self.finding = finding
        self.basis = basis


class CheckSkipped(Exception):
    """A check needs something the target does not offer; the message says what."""


class CheckUndecided(Exception):
    """A check got no answer it could judge (a DNS failure, a timeout): neither a pass nor a failure.
    Its result is ``error``, with the message saying what happened."""


def finding_from_response(message: str, response: httpx.Response, *, expected: str = "") -> Finding:
    """A :class:`Finding` describing ``response`` and the request that produced it, masked."""
    request = response.request
    body = request.content.decode("utf-8", errors="replace") if request.content else ""
    sent = f"{request.method} {request.url}"
    if body:
        sent += " " + _preview(mask_text(body))
    received = f"{response.status_code} {_preview(mask_text(response.text))}"
    return Finding(
        message=mask_text(message),
        expected=expected,
        sent=mask_text(sent),
        received=received,
        curl=curl_command(request),
    )


def curl_command(request: httpx.Request) -> str:
    """A curl line that repeats ``request``, with every secret masked."""
    parts = ["curl", "-X", request.method]
    for name, value in mask_headers(dict(request.headers)).items():
        if name.lower() in {
            "host",
            "content-length",
            "accept-encoding",
            "connection",
            "user-agent",
            "accept",
        }:
            continue
        parts += ["-H", f"{name}: {value}"]
    if request.content:
        parts += ["--data-raw", mask_text(request.content.decode("utf-8", errors="replace"))]
    parts.append(mask_text(str(request.url)))  # a token may ride in the query string (?access_token=)
    return " ".join(shlex.quote(part) for part in parts)


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_PREVIEW else text[: BODY_PREVIEW - 3] + "..."
