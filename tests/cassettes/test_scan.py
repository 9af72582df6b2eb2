"""The secret scanner and ``sergio-kit scan-cassettes``: every kind of leak is found (never printed),
a redacted folder is clean, and the command's exit codes are 0, 1 and 2."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from sergio_kit.cassettes.redact import CassetteRedactor
from sergio_kit.cassettes.scan import scan_path, seeded_passwords
from tests.support.kit_process import run_kit

ENV_PASSWORD = "only-in-the-environment-42"


def _b64(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _fake_jwt(subject: str) -> str:
    return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': subject})}.c2lnbmF0dXJl{subject}"


@pytest.fixture(scope="module")
def planted() -> dict[str, str]:
    """The secrets planted in the dirty folder, built at run time (none is written in this file)."""
    return {
        "jwt": _fake_jwt("header"),
        "gzip_jwt": _fake_jwt("gzipped"),
        "api_key": "sk_" + "live_" + "A1b2C3d4" * 5,
        "webhook_secret": "whsec_" + "9f8e7d6c" * 6,
        "seeded_password": seeded_passwords()[0],
        "env_password": ENV_PASSWORD,
        "cookie": "opaque-session-cookie-1",
        "set_cookie": "opaque-session-cookie-2",
        "clock_token": "clock-" + "5a" * 16,
        "signature": "t=1700000000,v1=" + "ab12" * 16,
        "refresh_token": "opaque-refresh-token-value",
    }


def _interactions(planted: dict[str, str]) -> tuple[list[Any], list[dict[str, Any]]]:
    login = Request(
        "POST",
        "https://api.example/v1/auth/login",
        json.dumps({"email": "admin@acme.test", "password": planted["seeded_password"]}).encode(),
        {
            "Authorization": f"Bearer {planted['jwt']}",
            "X-API-Key": planted["api_key"],
            "Cookie": f"session={planted['cookie']}",
            "X-Sergio-Clock-Token": planted["clock_token"],
        },
    )
    login_body = {"secret": planted["webhook_secret"], "refresh_token": planted["refresh_token"]}
    login_response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {
            "Set-Cookie": [f"sid={planted['set_cookie']}; Path=/; HttpOnly"],
            "X-Sergio-Signature": [planted["signature"]],
        },
        "body": {"string": json.dumps(login_body).encode()},
    }
    jobs = Request("GET", "https://api.example/v1/jobs", None, {})
    jobs_response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Encoding": ["gzip"]},
        "body": {"string": gzip.compress(json.dumps({"token": planted["gzip_jwt"]}).encode())},
    }
    return [login, jobs], [login_response, jobs_response]


def _write_cassette(path: Path, requests: list[Any], responses: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(serialize({"requests": requests, "responses": responses}, yamlserializer))


@pytest.fixture(scope="module")
def dirty(planted: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with an unredacted cassette (one body gzip-compressed) and a note holding passwords."""
    folder = tmp_path_factory.mktemp("dirty")
    _write_cassette(folder / "cassettes" / "flow.yaml", *_interactions(planted))
    (folder / "notes.txt").write_text(
        f"log in with {planted['seeded_password']} on staging\nor with {planted['env_password']}\n"
    )
    return folder


@pytest.fixture(scope="module")
def clean(planted: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same cassette written through the redactor, and a note without secrets."""
    folder = tmp_path_factory.mktemp("clean")
    redactor = CassetteRedactor(known_secrets=[planted["seeded_password"], planted["env_password"]])
    requests, responses = _interactions(planted)
    _write_cassette(
        folder / "cassettes" / "flow.yaml",
        [redactor.before_record_request(request) for request in requests],
        [redactor.before_record_response(copy.deepcopy(response)) for response in responses],
    )
    (folder / "notes.txt").write_text("tokens look like <redacted:jwt:1>; see fixtures/cassettes\n")
    return folder


def _assert_no_secret(text: str, planted: dict[str, str]) -> None:
    shown = [name for name, secret in planted.items() if secret in text]
    assert shown == [], f"the scanner printed planted secrets: {shown}"


def test_finds_every_kind_and_never_shows_a_secret(dirty: Path, planted: dict[str, str]) -> None:
    """Each kind of leak is reported at its file and line, the gzip-compressed body included, with
    the secret masked in every excerpt."""
    leaks = scan_path(dirty, [planted["seeded_password"], planted["env_password"]])
    assert Counter(leak.kind for leak in leaks) == {
        "jwt": 2,
        "api-key": 1,
        "webhook-secret": 1,
        "password": 3,
        "signature": 1,
        "cookie": 2,
        "clock-token": 1,
        "secret": 1,
    }
    notes = [(leak.line, leak.kind) for leak in leaks if leak.file.name == "notes.txt"]
    assert notes == [(1, "password"), (2, "password")]
    assert any(leak.kind == "jwt" and "binary" in leak.excerpt_masked for leak in leaks)
    assert all(leak.line >= 1 and leak.file.is_file() for leak in leaks)
    _assert_no_secret("\n".join(map(str, leaks)), planted)


def test_redacted_folder_is_clean(clean: Path, planted: dict[str, str]) -> None:
    """What the redactor wrote from the dirty interactions passes the scanner."""
    assert scan_path(clean, [planted["seeded_password"], planted["env_password"]]) == []
    _assert_no_secret((clean / "cassettes" / "flow.yaml").read_text(), planted)


def test_command_exit_codes(dirty: Path, clean: Path, tmp_path: Path, planted: dict[str, str]) -> None:
    """scan-cassettes exits 1 with a line per leak (SERGIO_PASSWORD counted, nothing shown), 0 on a
    clean folder and 2 with one line when PATH does not exist."""
    found = run_kit("scan-cassettes", str(dirty), env={"SERGIO_PASSWORD": ENV_PASSWORD}, timeout=60)
    assert found.returncode == 1, found.stderr
    lines = found.stdout.strip().splitlines()
    assert len(lines) == 13 and "12 secret(s) in 2 file(s)" in lines[-1], lines[-1]
    _assert_no_secret(found.stdout + found.stderr, planted)
    without_env = run_kit("scan-cassettes", str(dirty / "notes.txt"), timeout=60)
    assert without_env.returncode == 1 and len(without_env.stdout.strip().splitlines()) == 2
    passed = run_kit("scan-cassettes", str(clean), timeout=60)
    assert (passed.returncode, passed.stderr) == (0, ""), passed.stdout
    missing = run_kit("scan-cassettes", str(tmp_path / "nowhere"), timeout=60)
    assert missing.returncode == 2 and missing.stdout == ""
    assert len(missing.stderr.strip().splitlines()) == 1 and "does not exist" in missing.stderr
