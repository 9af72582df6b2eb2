"""A logged-in session that spends the auth tier sparingly: one login, then refreshes.

The kit's own logins and refreshes count against the target's auth tier (10 per minute), so the
session logs in once, reuses the token until shortly before it expires (by the target's clock),
refreshes with the refresh token (the rotated one when the target rotates them, else the same one
again), and waits out a 429 rather than failing a check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from sergio_kit.errors import SergioKitError
from sergio_kit.target.pacing import principal_of
from sergio_kit.target.target import Account, Target
from sergio_kit.target.throttling import Throttle

RENEW_BEFORE = 120  # seconds before expiry at which the session refreshes
#: The settings that hold each role's login (named in the error when a login is refused).
LOGIN_SETTINGS = {
    "primary": "SERGIO_EMAIL / SERGIO_PASSWORD",
    "other": "SERGIO_OTHER_EMAIL / SERGIO_OTHER_PASSWORD",
    "member": "SERGIO_MEMBER_EMAIL / SERGIO_MEMBER_PASSWORD",
}


def unreachable(base_url: str, error: httpx.ConnectError) -> SergioKitError:
    """The one-line error for a target the kit cannot connect to, with the likely fix."""
    hint = ""
    if "CERTIFICATE_VERIFY_FAILED" in str(error):
        hint = "; pass the CA that signed its certificate with --ca-bundle or SERGIO_CA_BUNDLE"
    return SergioKitError(f"cannot reach {base_url}: {error}{hint}")


class TokenSession:
    """The bearer token of one account, renewed as needed; ``role`` names the account in the pacing
    ledger and errors (``primary``, ``other`` or ``member``)."""

    def __init__(self, target: Target, account: Account, throttle: Throttle, role: str = "primary") -> None:
        self._target = target
        self._account = account
        self.role = role
        self._throttle = throttle
        self._client = httpx.Client(base_url=target.base_url, verify=target.ssl_context(), timeout=30.0)
        self._token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0
        self.logins = 0
        self.refreshes = 0

    @property
    def principal(self) -> str:
        """The principal this session's requests are charged to (a login first, if none was made)."""
        return principal_of({"Authorization": f"Bearer {self.token()}"})

    @property
    def target(self) -> Target:
        """The target this session logs in to."""
        return self._target

    def token(self) -> str:
        """A bearer token valid for at least two more minutes of target time."""
        if self._token is not None and self._target.now() < self._expires_at - RENEW_BEFORE:
            return self._token
        if self._refresh_token is not None and self._refresh():
            assert self._token is not None
            return self._token
        self._login()
        assert self._token is not None
        return self._token

    def adopt(self, login: dict[str, Any]) -> None:
        """Take a login response the kit already has (the live plan's) as this session's first."""
        if self._token is None:
            self._store(login)

    def _login(self) -> None:
        body = {"email": self._account.email, "password": self._account.password}
        response = self._post("/v1/auth/login", body, "sergio-kit login")
        if response.status_code != 200:
            raise SergioKitError(
                f"login as {self._account.email} at {self._target.base_url} was refused "
                f"({response.status_code}): check {LOGIN_SETTINGS.get(self.role, LOGIN_SETTINGS['primary'])}"
            )
        self.logins += 1
        self._store(response.json())

    def _refresh(self) -> bool:
        response = self._post(
            "/v1/auth/refresh", {"refresh_token": self._refresh_token}, "sergio-kit refresh"
        )
        if response.status_code != 200:
            self._refresh_token = None
            return False
        self.refreshes += 1
        self._store(response.json())
        return True

    def _store(self, data: dict[str, Any]) -> None:
        self._token = data["token"]
        self._throttle.roles[principal_of({"Authorization": f"Bearer {self._token}"})] = self.role
        # The published refresh answers {token, expires_at}: without a rotated one, keep the old one.
        self._refresh_token = data.get("refresh_token") or self._refresh_token
        self._expires_at = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")).timestamp()

    def _post(self, path: str, body: dict[str, Any], label: str) -> httpx.Response:
        self._target.note_auth_call()
        try:
            response = self._throttle.send(
                label,
                lambda: self._client.post(path, json=body),
                lambda r: (r.status_code, r.headers),
                tier="auth",  # unauthenticated: the bucket of this client's address
            )
        except httpx.ConnectError as error:
            raise unreachable(self._target.base_url, error) from None
        self._target.note_date(response.headers.get("Date"))
        return response

    def close(self) -> None:
        """Close the HTTP connection."""
        self._client.close()
