"""Remove what a fuzzing run registered on the target: webhook endpoints and API keys.

Schemathesis creates resources with generated data. Jobs are harmless, but webhook endpoints keep
receiving deliveries and API keys stay valid credentials, so the kit deletes every one that
appeared during its run (it never touches those that existed before, nor those the kit's checks
made meanwhile: in a live run the auth lane runs beside the contract, and removes its own).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection

import httpx

from sergio_kit.contract.document import Contract
from sergio_kit.target.session import TokenSession
from sergio_kit.target.throttling import Throttle

LEDGER_NAME = "contract.leftovers"  # what the run's ledger (and the plan's costs) call this clean-up
COLLECTIONS = ("/v1/webhooks", "/v1/api-keys")  # those the contract in force lists and deletes
_ID = {"/v1/webhooks": "webhook_id", "/v1/api-keys": "key_id"}


class Leftovers:
    """Snapshot the target's webhooks and API keys, and later delete the ones added since."""

    def __init__(
        self, client: httpx.Client, session: TokenSession, throttle: Throttle, contract: Contract
    ) -> None:
        self._client = client
        self._collections = [
            path
            for path in COLLECTIONS
            if contract.offers(f"GET {path}") and contract.offers(f"DELETE {path}/{{{_ID[path]}}}")
        ]
        self._session = session
        self._throttle = throttle
        self._contract = contract
        self._before: dict[str, set[str]] = {}

    def snapshot(self) -> None:
        """Remember the ids that exist now."""
        self._before = {path: self._ids(path) for path in self._collections}

    def remove_new(self, keep: Collection[str] = ()) -> int:
        """Delete what was added since :meth:`snapshot`, but for the paths in ``keep`` (the objects the
        kit's other checks made meanwhile: they remove their own); return how many were deleted."""
        removed = 0
        for path, before in self._before.items():
            for resource_id in sorted(self._ids(path) - before):
                if f"{path}/{resource_id}" in keep:
                    continue
                response = self._request("DELETE", f"{path}/{resource_id}")
                removed += response.status_code == 204
        return removed

    def _ids(self, path: str) -> set[str]:
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
            response = self._request("GET", path)
            if response.status_code == 200:
                return {str(item["id"]) for item in response.json()["data"]}
        return set()

    def _request(self, method: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._session.token()}"}
        operation = self._contract.operation_for(method, path)
        return self._throttle.send(
            f"sergio-kit cleanup {method}",
            lambda: self._client.request(method, path, headers=headers),
            lambda response: (response.status_code, response.headers),
            headers=headers,
            tier=operation.tier if operation is not None else None,
        )
