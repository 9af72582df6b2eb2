"""Already-open connections for checks that need requests to overlap (races, bursts)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import httpx

from sergio_kit.checks.context import CheckContext


async def open_clients(stack: AsyncExitStack, ctx: CheckContext, count: int) -> list[httpx.AsyncClient]:
    """``count`` async clients of the target, each with its TLS connection already established.

    OPTIONS is answered before authentication and rate limiting (405), so opening the connections
    spends no quota; the requests that follow then really go out at the same moment.
    """
    context = ctx.target.ssl_context()
    clients = [
        await stack.enter_async_context(
            httpx.AsyncClient(base_url=ctx.target.base_url, verify=context, timeout=60.0)
        )
        for _ in range(count)
    ]
    await asyncio.gather(*(client.options("/v1/health") for client in clients))
    return clients
