"""Compressed answers recorded for real (httpx under vcrpy): gzip, deflate and brotli bodies are decoded
and scrubbed whether vcrpy decoded them first or the redactor meets them still encoded, and the cassette
replays the scrubbed body. httpx decodes brotli because ``brotli`` is installed (a dependency: the
redactor and the scanner need it too)."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
import vcr
import yaml

from sergio_kit.cassettes.redact import CassetteRedactor
from sergio_kit.cassettes.scan import scan_path

#: The secrets the answers hold, built at run time.
TOKEN = (
    ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in ({"alg": "HS256", "typ": "JWT"}, {"sub": "compressed"})
    )
    + ".c2lnbmF0dXJl"
)
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"\xfb\xef\xbe" * 11).decode()
PAYLOAD = json.dumps({"token": TOKEN, "note": f"sign with {WEBHOOK_SECRET}"}).encode()
ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": lambda raw: bytes(brotli.compress(raw)),
}


class _Handler(BaseHTTPRequestHandler):
    """Answers ``GET /<encoding>`` with :data:`PAYLOAD` compressed in that encoding."""

    def do_GET(self) -> None:
        encoding = self.path.strip("/")
        body = ENCODERS[encoding](PAYLOAD)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """A loopback HTTP server answering compressed bodies."""
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=stub.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{stub.server_address[1]}"
    stub.shutdown()
    stub.server_close()
    thread.join(5)


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
@pytest.mark.parametrize("decode", [True, False], ids=["vcr-decodes", "still-encoded"])
def test_compressed_answer_is_scrubbed(base_url: str, tmp_path: Path, encoding: str, decode: bool) -> None:
    """The cassette holds the decoded, scrubbed JSON (no Content-Encoding left), the scanner finds
    nothing, and replay answers the scrubbed body."""
    path = tmp_path / f"{encoding}.yaml"
    redactor = CassetteRedactor()
    recorder = vcr.VCR(
        decode_compressed_response=decode,
        before_record_request=redactor.before_record_request,
        before_record_response=redactor.before_record_response,
    )
    with recorder.use_cassette(str(path)):
        live = httpx.get(f"{base_url}/{encoding}")
    assert live.json()["token"] == TOKEN  # httpx decoded the live answer, brotli included
    text = path.read_text()
    assert TOKEN not in text and WEBHOOK_SECRET not in text
    response = yaml.safe_load(text)["interactions"][0]["response"]
    assert not any(name.lower() == "content-encoding" for name in response["headers"])
    recorded = json.loads(response["body"]["string"])
    assert recorded == {"token": "<redacted:jwt:1>", "note": "sign with <redacted:webhook-secret:1>"}
    assert scan_path(path, []) == []
    with vcr.VCR(record_mode="none").use_cassette(str(path)):
        assert httpx.get(f"{base_url}/{encoding}").json() == recorded


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_scanner_reads_a_compressed_body_left_encoded(base_url: str, tmp_path: Path, encoding: str) -> None:
    """Recorded without the redactor and without decoding, the compressed body is a ``!!binary`` value;
    the scanner decodes it per its Content-Encoding and reports both secrets."""
    path = tmp_path / f"raw-{encoding}.yaml"
    with vcr.VCR(decode_compressed_response=False).use_cassette(str(path)):
        httpx.get(f"{base_url}/{encoding}")
    assert TOKEN not in path.read_text()  # compressed: no line shows it
    leaks = scan_path(path, [])
    assert sorted(leak.kind for leak in leaks) == ["jwt", "webhook-secret"]
    assert all(f"({encoding})" in leak.excerpt_masked for leak in leaks)
