"""The test CA and the server certificate, kept in the data folder across restarts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the CA certificate clients trust and the server's key + certificate chain."""

    ca_cert: Path
    server_pem: Path


def ensure_tls_files(data_dir: Path) -> TlsFiles:
    """Load the data folder's test CA (creating it on first run) and issue a fresh server cert."""
    ca_cert = data_dir / "ca.pem"
    ca_key = data_dir / "ca-key.pem"
    if ca_cert.is_file() and ca_key.is_file():
        ca = trustme.CA.from_pem(ca_cert.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="sergio-kit test CA")
        ca.cert_pem.write_to_path(str(ca_cert))
        ca.private_key_pem.write_to_path(str(ca_key))
        os.chmod(ca_key, 0o600)
    server_pem = data_dir / "server.pem"
    ca.issue_cert("127.0.0.1", "localhost", "::1").private_key_and_cert_chain_pem.write_to_path(
        str(server_pem)
    )
    os.chmod(server_pem, 0o600)
    return TlsFiles(ca_cert=ca_cert, server_pem=server_pem)


def issue_receiver_cert(data_dir: Path, destination: Path) -> Path:
    """Issue a loopback certificate from the data folder's CA, e.g. for a webhook receiver.

    The server trusts this CA for its deliveries, so a receiver using this certificate is reachable.
    """
    ca = trustme.CA.from_pem((data_dir / "ca.pem").read_bytes(), (data_dir / "ca-key.pem").read_bytes())
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(destination))
    return destination
