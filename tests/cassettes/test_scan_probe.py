"""The probe of issue 14: a hand-made leaky cassette with eight secrets, all found, none shown.

The issue's probe: a JWT in a header and another in a query string, an ``sk_live_`` key, a base64
``whsec_`` secret (``+/=`` inside), a JSON password, an opaque refresh token and a form-encoded
password; the eighth is the access token (a JWT) of the login answer beside the refresh token. The
scanner once found 7 of the 8 (not ``password=...`` in a form body) and masked the ``whsec_`` secret
only up to its first ``+``. The secrets are built at run time: none is written in this file.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from vcr.serialize import deserialize, serialize
from vcr.serializers import yamlserializer

from sergio_kit.cassettes.redact import CassetteRedactor
from sergio_kit.cassettes.scan import scan_path
from tests.support.kit_process import run_kit


def _b64url(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _jwt(subject: str) -> str:
    return f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}.{_b64url({'sub': subject})}.c2ln{subject}"


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    """The eight planted secrets, by the kind the scanner must report."""
    return {
        "header JWT": _jwt("in-a-header"),
        "query JWT": _jwt("in-a-query"),
        "login JWT": _jwt("in-a-login-answer"),
        "api key": "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc",
        "webhook secret": "whsec_" + "MfKQ+9r8/GKYqrTwjUPD+8ILPZIo2LaLaSw/mnop==",
        "JSON password": "Json-Passw0rd-41",
        "refresh token": "rt_" + "0paque7Zk2Qw9xLm4Vb8",
        "form password": "Form-Passw0rd-42",
    }


#: Each secret's kind and a text on the line where it is written (and must be reported).
WHERE = {
    "header JWT": ("jwt", "- Bearer "),
    "query JWT": ("jwt", "uri: https://api.example/v1/jobs?access_token="),
    "login JWT": ("jwt", '"token":'),
    "api key": ("api-key", "X-API-Key: "),
    "webhook secret": ("webhook-secret", '"secret":'),
    "JSON password": ("password", '"password":'),
    "refresh token": ("secret", '"refresh_token":'),
    "form password": ("password", "&password="),
}


def _cassette(s: dict[str, str]) -> str:
    """A vcrpy cassette written by hand, one secret per line (the login answer holds two)."""
    login_answer = json.dumps({"token": s["login JWT"], "refresh_token": s["refresh token"]})
    return f"""interactions:
- request:
    body: '{{"email":"ops@acme.test","password":"{s["JSON password"]}"}}'
    headers:
      Content-Type: [application/json]
    method: POST
    uri: https://api.example/v1/auth/login
  response:
    body:
      string: '{login_answer}'
    headers:
      Content-Type: [application/json]
    status: {{code: 200, message: OK}}
- request:
    body: null
    headers:
      Authorization:
      - Bearer {s["header JWT"]}
    method: GET
    uri: https://api.example/v1/jobs?access_token={s["query JWT"]}
  response:
    body: {{string: '[]'}}
    headers: {{}}
    status: {{code: 200, message: OK}}
- request:
    body: '{{"url":"https://hooks.acme.test/in","events":["job.created"]}}'
    headers:
      X-API-Key: {s["api key"]}
    method: POST
    uri: https://api.example/v1/webhooks
  response:
    body:
      string: '{{"id":"wh_1","secret":"{s["webhook secret"]}"}}'
    headers: {{}}
    status: {{code: 201, message: Created}}
- request:
    body: email=ops%40acme.test&password={s["form password"]}&remember=1
    headers:
      Content-Type: [application/x-www-form-urlencoded]
    method: POST
    uri: https://api.example/v1/auth/login
  response:
    body: {{string: '{{}}'}}
    headers: {{}}
    status: {{code: 200, message: OK}}
version: 1
"""


@pytest.fixture
def probe(secrets: dict[str, str], tmp_path: Path) -> Path:
    """The leaky cassette, alone in a folder."""
    path = tmp_path / "probe" / "leaky.yaml"
    path.parent.mkdir()
    path.write_text(_cassette(secrets))
    return path


def _shown(text: str, secrets: dict[str, str]) -> list[str]:
    """The secrets ``text`` shows, whole or any eight characters of one (a mask cut short)."""
    return [
        name
        for name, secret in secrets.items()
        if any(secret[i : i + 8] in text for i in range(len(secret) - 7))
    ]


def test_the_scanner_finds_all_eight(probe: Path, secrets: dict[str, str]) -> None:
    """Eight leaks, each on its secret's line with its kind, and no excerpt shows a piece of a secret
    (the base64 webhook secret masked whole, past every ``+`` and ``/``)."""
    lines = probe.read_text().splitlines()
    expected = sorted(
        (next(n for n, line in enumerate(lines, 1) if marker in line), kind)
        for kind, marker in WHERE.values()
    )
    leaks = scan_path(probe, [])
    assert sorted((leak.line, leak.kind) for leak in leaks) == expected
    assert _shown("\n".join(map(str, leaks)), secrets) == []
    webhook = next(leak for leak in leaks if leak.kind == "webhook-secret")
    assert '"secret":"[webhook-secret]"}' in webhook.excerpt_masked


def test_the_command_reports_eight_and_shows_none(probe: Path, secrets: dict[str, str]) -> None:
    """``sergio-kit scan-cassettes`` exits 1 with one line per secret and shows none of them."""
    result = run_kit("scan-cassettes", str(probe.parent), timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith(f"8 secret(s) in 1 file(s) under {probe.parent}")
    assert _shown(result.stdout + result.stderr, secrets) == []


def test_the_redactor_leaves_none_of_them(probe: Path, secrets: dict[str, str]) -> None:
    """The probe's interactions through the redactor's vcrpy hooks: no secret left, the scanner silent."""
    requests, responses = deserialize(probe.read_text(), yamlserializer)
    redactor = CassetteRedactor()
    text = serialize(
        {
            "requests": [redactor.before_record_request(request) for request in requests],
            "responses": [redactor.before_record_response(response) for response in responses],
        },
        yamlserializer,
    )
    assert _shown(text, secrets) == []
    assert "password=<redacted:password:2>&remember=1" in text
    clean = probe.parent / "leaky.yaml"
    clean.write_text(text)
    assert scan_path(clean, []) == []
