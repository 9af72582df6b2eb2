"""Run the reference server: TLS and plain-HTTP listeners in one process, a ready file, clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from sergio_kit.contract.document import load_document, operations
from sergio_kit.contract.resources import accounts_path
from sergio_kit.server.app import build_api, build_plain_http
from sergio_kit.server.clock import Clock
from sergio_kit.server.clock_control import CLOCK_PATH
from sergio_kit.server.ratelimit import RateLimiter
from sergio_kit.server.security.keys import PRIVATE_KEY_FILES, SECRET_FILE, load_token_keys
from sergio_kit.server.seed import seed_if_empty
from sergio_kit.server.settings import KEEP_ALIVE_SECONDS, Settings
from sergio_kit.server.state import AppState
from sergio_kit.server.storage import Database
from sergio_kit.server.tls import ensure_tls_files
from sergio_kit.server.validation import BodyValidators
from sergio_kit.server.webhooks import WebhookDispatcher


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :func:`serve` (two servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve(settings: Settings) -> None:
    """Start the server and block until SIGINT/SIGTERM."""
    asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    tls = ensure_tls_files(data_dir)
    clock = Clock()
    db = Database(data_dir / "sergio.db")
    credentials = seed_if_empty(db, accounts_path(), data_dir, clock.now())
    state = AppState(
        settings=settings,
        db=db,
        clock=clock,
        limiter=RateLimiter(settings.limits, clock, settings.faults, settings.variants),
        token_keys=load_token_keys(data_dir, settings.jwt_alg, fetch_ca=tls.ca_cert),
        validators=BodyValidators(operations(load_document()), load_document()),
        webhooks=WebhookDispatcher(
            clock=clock,
            faults=settings.faults,
            ca_file=tls.ca_cert,
            retry_delays=settings.webhook_retry_delays,
            endpoints_for=db.webhooks_for,
        ),
        clock_token=secrets.token_urlsafe(24) if settings.test_clock else None,
    )
    common: dict[str, Any] = {
        # uvicorn's 5 s would close connections opened ahead for a burst (races, concurrency
        # checks) while the burst's next request is already on its way
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "date_header": False,
        "lifespan": "off",
    }
    https_socket = _bind(settings.host, settings.port)
    servers = [
        (
            _Server(uvicorn.Config(build_api(state), ssl_certfile=str(tls.server_pem), **common)),
            https_socket,
        )
    ]
    http_socket = None
    if settings.http_port is not None:
        http_socket = _bind(settings.host, settings.http_port)
        servers.append((_Server(uvicorn.Config(build_plain_http(state), **common)), http_socket))
    info = _describe(settings, state, https_socket, http_socket, tls.ca_cert, credentials)
    loop = asyncio.get_running_loop()

    def stop_all() -> None:
        for server, _ in servers:
            server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_all)
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers]
    while not all(server.started for server, _ in servers):
        if any(task.done() for task in tasks):
            break
        await asyncio.sleep(0.02)
    else:
        _announce(info, settings)
    try:
        await asyncio.gather(*tasks)
    finally:
        await state.webhooks.aclose()
        db.close()
        if settings.ready_file is not None:
            settings.ready_file.unlink(missing_ok=True)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
    # and without it Nagle holds the response body ~40 ms behind the headers on keep-alive connections.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror}; pick another port") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _describe(
    settings: Settings,
    state: AppState,
    https_socket: socket.socket,
    http_socket: socket.socket | None,
    ca_cert: Path,
    credentials: Path,
) -> dict[str, Any]:
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    base_url = f"https://{host}:{https_socket.getsockname()[1]}"
    return {
        "pid": os.getpid(),
        "base_url": base_url,
        "http_url": f"http://{host}:{http_socket.getsockname()[1]}" if http_socket else None,
        "ca_cert": str(ca_cert),
        "credentials": str(credentials),
        "jwt_alg": settings.jwt_alg,
        # the signing key, for the kit's forged-token checks: the HS256 secret or the private key
        "jwt_secret_file": str(settings.data_dir / SECRET_FILE) if settings.jwt_alg == "HS256" else None,
        "jwt_private_key_file": (
            str(settings.data_dir / PRIVATE_KEY_FILES[settings.jwt_alg])
            if settings.jwt_alg in PRIVATE_KEY_FILES
            else None
        ),
        "data_dir": str(settings.data_dir),
        "faults": sorted(settings.faults.enabled),
        "variants": sorted(settings.variants.enabled),
        "limits": settings.limits,
        "delays": settings.delays,
        "test_clock": {"url": base_url + CLOCK_PATH, "token": state.clock_token}
        if state.clock_token
        else None,
    }


def _announce(info: dict[str, Any], settings: Settings) -> None:
    faults = ", ".join(info["faults"]) or "none"
    line = (
        f"sergio-kit reference server on {info['base_url']}  CA: {info['ca_cert']}  "
        f"credentials: {info['credentials']}  tokens: {info['jwt_alg']}  faults: {faults}"
    )
    if info["variants"]:
        line += f"  variants: {', '.join(info['variants'])}"
    if info["http_url"]:
        line += f"  plain HTTP: {info['http_url']}"
    if info["test_clock"]:
        line += (
            f"  test clock: {info['test_clock']['url']} (X-Sergio-Clock-Token: {info['test_clock']['token']})"
        )
    print(line, flush=True)
    if info["faults"]:
        print(
            f"WARNING: FAULTS ARE ON ({faults}): this server breaks the Sergio contract on purpose",
            file=sys.stderr,
            flush=True,
        )
    if settings.ready_file is not None:
        temporary = settings.ready_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(info, indent=2))
        os.chmod(temporary, 0o600)
        temporary.replace(settings.ready_file)
