"""Reading a list operation: its pages (the contract's ``limit`` at its maximum, then ``next_cursor``)
and the objects each page holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.operation_facts import query_parameter
from sergio_kit.contract.document import Operation

#: Pages read of one list at most: a leak of a new object shows on the first page of a list that
#: puts the newest first, and within a few pages of a test company's list that puts it last.
MAX_PAGES = 5


def pages(ctx: CheckContext, operation: Operation, **credentials: Any) -> Iterator[httpx.Response]:
    """The pages of the list ``operation`` (a ``GET`` without path parameters), sent with
    ``credentials`` (``token=`` or ``api_key=``): the first, then, while the contract declares a
    ``cursor`` query parameter and a 2xx page names a ``next_cursor``, the next, up to
    :data:`MAX_PAGES`. Each page asks for the largest ``limit`` the contract declares."""
    limit = query_parameter(ctx.contract, operation, "limit")
    maximum = limit.get("maximum") if limit is not None else None
    query: dict[str, Any] = {"limit": maximum} if isinstance(maximum, int) and maximum > 0 else {}
    follows = query_parameter(ctx.contract, operation, "cursor") is not None
    for _ in range(MAX_PAGES):
        path = operation.path + ("?" + urlencode(query) if query else "")
        response = ctx.send("GET", path, **credentials)
        yield response
        following = next_cursor(response) if follows else None
        if following is None:
            return
        query["cursor"] = following


def next_cursor(response: httpx.Response) -> str | None:
    """The ``next_cursor`` of a 2xx page, or ``None`` on the last page (or any other answer)."""
    if not 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    following = body.get("next_cursor") if isinstance(body, dict) else None
    return following if isinstance(following, str) and following else None


def items_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The objects a list response holds: a JSON array of them, or an object with them in ``data``."""
    try:
        body = response.json()
    except ValueError:
        return []
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        body = body["data"]
    return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []
