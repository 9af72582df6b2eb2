"""Start and stop the reference server as a real process on free loopback ports.

Used by ``sergio-kit check`` (the embedded default target), by the project's tests and by the
benchmarks. The server is reached only over HTTPS, like any other target.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sergio_kit.contract.document import JWKS_OPERATION
from sergio_kit.errors import TargetUnreachableError
from sergio_kit.target.clock import TestClock
from sergio_kit.target.contract import keep_reduced, variant_contract
from sergio_kit.target.target import Account, Target

READY_FILE = "ready.json"
LOG_FILE = "server.log"


@dataclass
class RunningServer:
    """A reference server process and what a client needs to talk to it."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    info: dict[str, Any] = field(repr=False)

    @property
    def base_url(self) -> str:
        """The HTTPS base URL, e.g. ``https://127.0.0.1:40123``."""
        return str(self.info["base_url"])

    @property
    def http_url(self) -> str | None:
        """The plain-HTTP URL (answers 403 https_required), if that listener is open."""
        return self.info.get("http_url")

    @property
    def ca_cert(self) -> Path:
        """The test CA's certificate (PEM) that signed the server certificate."""
        return Path(self.info["ca_cert"])

    @property
    def clock_url(self) -> str | None:
        """The test-clock endpoint, when the server runs with ``--test-clock``."""
        clock = self.info.get("test_clock")
        return clock["url"] if clock else None

    @property
    def clock_token(self) -> str | None:
        """The token guarding the test clock."""
        clock = self.info.get("test_clock")
        return clock["token"] if clock else None

    @property
    def variants(self) -> frozenset[str]:
        """The allowed choices the server runs with (``--variant``)."""
        return frozenset(self.info.get("variants", ()))

    def credentials(self) -> dict[str, Any]:
        """The seeded accounts and API keys (``credentials.json``)."""
        data: dict[str, Any] = json.loads(Path(self.info["credentials"]).read_text())
        return data

    @property
    def jwt_algorithm(self) -> str:
        """The one algorithm the server signs its tokens with (``--jwt-alg``: RS256, ES256 or HS256)."""
        return str(self.info.get("jwt_alg", "HS256"))

    def jwt_secret(self) -> bytes | None:
        """The server's HS256 signing secret (for forged-token checks); ``None`` when it signs with a
        private key."""
        path = self.info.get("jwt_secret_file")
        return Path(path).read_text().strip().encode() if path else None

    def jwt_private_key(self) -> bytes | None:
        """The server's RS256 or ES256 private key, PEM (for forged-token checks); ``None`` for HS256."""
        path = self.info.get("jwt_private_key_file")
        return Path(path).read_bytes() if path else None

    def signing_key(self) -> bytes:
        """What signs the server's tokens, as PyJWT takes it for :attr:`jwt_algorithm`: the HS256 secret
        or the PEM private key."""
        key = self.jwt_secret() or self.jwt_private_key()
        if key is None:
            raise RuntimeError(f"the server at {self.base_url} reported no signing key")
        return key

    def deployment_settings(self, receiver_pem: Path | None = None) -> dict[str, str]:
        """The ``SERGIO_*`` settings a team would give the kit for this server as its deployment (run
        ``sergio-kit check --base-url`` with them): both companies' admins, the first company's member,
        the signing key (the HS256 secret, or the private key's file), the CA,
        the plain-HTTP address, and, with ``receiver_pem`` (where to write it), a webhook-receiver
        certificate the server trusts."""
        from sergio_kit.server.tls import issue_receiver_cert

        companies = self.credentials()["companies"][:2]
        admins = [_admin(company) for company in companies]
        member = _member(companies[0])
        settings = {
            "SERGIO_EMAIL": admins[0].email,
            "SERGIO_PASSWORD": admins[0].password,
            "SERGIO_OTHER_EMAIL": admins[1].email,
            "SERGIO_OTHER_PASSWORD": admins[1].password,
            "SERGIO_CA_BUNDLE": str(self.ca_cert),
        }
        secret = self.jwt_secret()
        if secret is not None:
            settings["SERGIO_JWT_SECRET"] = secret.decode()
        if self.info.get("jwt_private_key_file"):
            settings["SERGIO_JWT_PRIVATE_KEY"] = str(self.info["jwt_private_key_file"])
        if member is not None:
            settings["SERGIO_MEMBER_EMAIL"] = member.email
            settings["SERGIO_MEMBER_PASSWORD"] = member.password
        if self.http_url is not None:
            settings["SERGIO_HTTP_URL"] = self.http_url
        if receiver_pem is not None:
            settings["SERGIO_RECEIVER_CERT"] = str(issue_receiver_cert(self.data_dir, receiver_pem))
        return settings

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def log(self) -> str:
        """What the server printed so far."""
        path = self.data_dir / LOG_FILE
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``)."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(
    data_dir: Path,
    *,
    faults: Sequence[str] = (),
    variants: Sequence[str] = (),
    test_clock: bool = True,
    limits: dict[str, int] | None = None,
    plain_http: bool = True,
    template: Path | None = None,
    timeout: float = 60.0,
    jwt_alg: str | None = None,
    delays: Sequence[str] = (),
) -> RunningServer:
    """Start ``sergio-kit serve`` on free loopback ports and wait until it is listening.

    ``template`` is a data folder of an earlier run to copy (skips CA creation, key generation and
    seeding). ``jwt_alg``: the server's token algorithm (``--jwt-alg``; ``None``: its default, RS256).
    ``delays``: ``TIER=DURATION`` latencies the server adds (``--delay``).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    if template is not None:
        names = ["ca.pem", "ca-key.pem", "sergio.db", "credentials.json"]
        names += [key.name for key in template.glob("jwt-*")]  # the signing secret and private keys
        for name in names:
            if (template / name).exists():
                shutil.copy2(template / name, data_dir / name)
    ready = data_dir / READY_FILE
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "sergio_kit", "serve", "--port", "0", "--data", str(data_dir)]
    command += ["--ready-file", str(ready)]
    if plain_http:
        command += ["--http-port", "0"]
    if test_clock:
        command.append("--test-clock")
    for fault in faults:
        command += ["--fault", fault]
    for variant in variants:
        command += ["--variant", variant]
    for tier, limit in (limits or {}).items():
        command += ["--limit", f"{tier}={limit}"]
    if jwt_alg is not None:
        command += ["--jwt-alg", jwt_alg]
    for delay in delays:
        command += ["--delay", delay]
    with open(data_dir / LOG_FILE, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = (data_dir / LOG_FILE).read_text(errors="replace").strip().splitlines()
            last = output[-1] if output else "no output"
            raise TargetUnreachableError(f"the embedded reference server did not start: {last}")
        time.sleep(0.05)
    return RunningServer(process=process, data_dir=data_dir, info=json.loads(ready.read_text()))


@contextmanager
def embedded_server(data_dir: Path, **options: Any) -> Iterator[RunningServer]:
    """Run a reference server for the duration of a ``with`` block."""
    server = start_server(data_dir, **options)
    try:
        yield server
    finally:
        server.stop()


def clean_environment() -> dict[str, str]:
    """The environment for child processes, without the kit's own ``SERGIO_*`` settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SERGIO_")}


def embedded_target(server: RunningServer) -> Target:
    """A :class:`Target` for a reference server this process started: both tenants' admins, the
    signing key (HS256 secret or private key), the test clock and a way to issue webhook-receiver
    certificates it trusts.
    Its tier limits are the ones the server reports running with. When the server has no key
    management (``no-key-management``), the first company's seeded full and read-only keys are the
    target's supplied keys, as ``SERGIO_API_KEY`` and ``SERGIO_READ_ONLY_API_KEY`` give them. Its
    contract is the packaged one minus what its variants drop, and minus the key set when it signs
    HS256 (written to its data folder then)."""
    from sergio_kit.server.tls import issue_receiver_cert

    contract = variant_contract(server.variants)  # the packaged one minus what its variants drop
    if server.jwt_algorithm == "HS256" and contract.offers(JWKS_OPERATION):
        contract = contract.without([JWKS_OPERATION], "HS256 tokens: no public keys to publish")
    keep_reduced(contract, server.data_dir)
    companies = server.credentials()["companies"]
    primary, other = (_admin(company) for company in companies[:2])
    member = _member(companies[0])
    clock = None
    if server.clock_url and server.clock_token:
        clock = TestClock(server.clock_url, server.clock_token, server.ssl_context())
        clock.now()
    target = Target(
        base_url=server.base_url,
        account=primary,
        ca_bundle=server.ca_cert,
        http_url=server.http_url,
        clock=clock,
        embedded=True,
        other_account=other,
        member_account=member,
        jwt_secret=server.jwt_secret(),
        jwt_private_key=server.jwt_private_key(),
        receiver_cert=lambda destination: issue_receiver_cert(server.data_dir, destination),
        tier_limits={tier: int(limit) for tier, limit in server.info["limits"].items()},
        contract=contract,
    )
    if "no-key-management" in server.variants:
        target.api_key = _seeded_key(companies[0], ("jobs:read", "jobs:write"))
        target.read_only_api_key = _seeded_key(companies[0], ("jobs:read",))
    return target


def _seeded_key(company: dict[str, Any], scopes: tuple[str, ...]) -> str:
    """The key ``company`` was seeded with that has exactly ``scopes``."""
    return str(next(key["key"] for key in company["api_keys"] if sorted(key["scopes"]) == sorted(scopes)))


def _admin(company: dict[str, Any]) -> Account:
    admin = next(user for user in company["users"] if user["role"] == "admin")
    return Account(admin["email"], admin["password"])


def _member(company: dict[str, Any]) -> Account | None:
    """``company``'s first seeded user who is not an admin, if it has one."""
    member = next((user for user in company["users"] if user["role"] != "admin"), None)
    return Account(member["email"], member["password"]) if member is not None else None
