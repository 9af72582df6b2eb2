"""A small keep-alive HTTPS load generator: N connections each sending one request after another.

Lighter than any HTTP client library, so on a 2-core machine the server, not the client, stays the
bottleneck. It parses only the status line, Content-Length and the body length.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from dataclasses import dataclass


@dataclass
class LoadResult:
    """Requests completed, by status, over a measured duration."""

    statuses: Counter[int]
    seconds: float

    @property
    def rate(self) -> float:
        """Requests per second."""
        return sum(self.statuses.values()) / self.seconds


async def _connection(
    host: str, port: int, context: ssl.SSLContext, request: bytes, stop_at: float, statuses: Counter[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            statuses[status] += 1
    finally:
        writer.close()


async def _run(
    host: str, port: int, context: ssl.SSLContext, request: bytes, connections: int, seconds: float
) -> LoadResult:
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(_connection(host, port, context, request, stop_at, statuses) for _ in range(connections))
    )
    return LoadResult(statuses, time.perf_counter() - started)


def run_load(
    host: str,
    port: int,
    context: ssl.SSLContext,
    path: str,
    headers: dict[str, str],
    connections: int,
    seconds: float,
) -> LoadResult:
    """Send ``GET path`` over ``connections`` keep-alive connections for ``seconds``."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return asyncio.run(_run(host, port, context, request, connections, seconds))
