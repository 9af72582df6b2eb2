"""Excerpts of secrets that YAML folded across lines: every piece on every line is masked.

vcrpy writes a long body on several lines: in single quotes it folds at spaces (inside a password that
has some), in double quotes (a body with a carriage return) it cuts anywhere after an escape, with a
trailing backslash. A line that holds the end of one secret and another secret whole is reported for
the whole one, and its excerpt must not show the piece of the first. The fillers are shifted one
character at a time so that the folds fall at every place in the secrets.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from sergio_kit.cassettes.scan import scan_path

#: Known passwords: words of four characters (each a piece a fold may leave alone on a line), and one
#: whose non-ASCII characters YAML escapes (a double-quoted fold cuts right after an escape).
PASSWORDS = ["Qwv7 Zrx9 Kpl3 Mnb5 Jhg2 Tfd4", "ünï-Zrx9-çødé-Kpl3-ßwört-Mnb5"]


def _jwt() -> str:
    parts = ({"alg": "HS256", "typ": "JWT"}, {"sub": "folded-excerpt-test"})
    encoded = [base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode() for part in parts]
    return ".".join([*encoded, "c2lnbmF0dXJlLWZvbGRlZA"])


def _cassette(path: Path, body: str) -> Path:
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["text/plain"]},
        "body": {"string": body.encode()},
    }
    request = Request("GET", "https://api.example/v1/jobs", None, {})
    path.write_text(serialize({"requests": [request], "responses": [response]}, yamlserializer))
    return path


def _pieces(secret: str, size: int) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)} - {"-", " "}


@pytest.mark.parametrize("password", PASSWORDS, ids=["spaces", "escapes"])
@pytest.mark.parametrize("quoted", ["single", "double"])
def test_no_piece_of_a_folded_secret_is_shown(password: str, quoted: str, tmp_path: Path) -> None:
    """Whatever the fold, no four characters of the password and no six of the JWT are shown, and
    every secret is reported."""
    jwt = _jwt()
    shown_words, cut = set(), 0
    for shift in range(0, 70, 3):
        filler = "ab " * (shift // 3) + "x" * (shift % 3)
        newline = "\r\n" if quoted == "double" else ""
        body = f"{filler} note {password} {jwt} and {newline}again {password} then {jwt} end " * 2
        path = _cassette(tmp_path / f"{quoted}-{shift}.yaml", body)
        text = path.read_text()
        cut += text.count(password) < body.count(password)  # a fold (or the escapes) cut it
        leaks = scan_path(path, PASSWORDS)
        assert {"jwt", "password"} <= {leak.kind for leak in leaks}, (shift, text)
        shown = "\n".join(str(leak) for leak in leaks)
        assert not [p for p in _pieces(jwt, 6) if p in shown], (shift, shown)
        shown_words |= {p for p in _pieces(password, 4) if p in shown}
    assert shown_words == set()
    assert cut > 0
