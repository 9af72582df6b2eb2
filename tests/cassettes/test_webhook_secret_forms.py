"""Webhook secrets in every form a deployment may issue (hex, standard base64 with ``+/=``, base64url
with ``-_``) are masked whole by the report redaction and the cassette redactor, and found whole by
the scanner: never a prefix up to the first ``+`` with the rest left in the output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sergio_kit.cassettes.redact import CassetteRedactor
from sergio_kit.cassettes.scan import scan_path
from sergio_kit.reports.redaction import WEBHOOK_SECRET, mask_text

SECRETS = {
    "hex": "whsec_" + "0123456789abcdef" * 3,
    "standard base64": "whsec_+//Whq2ONaaXOyNAFBtOf0oBYAFKr9ebCSfCASgJqCs=",
    "base64 with two padding characters": "whsec_ab+cd/ef+gh/ij+kl/mn+op/qr==",
    "base64url": "whsec_-__Whq2ONaaXOyNAFBtOf0oBYAFKr9ebCSfCASgJqCs",
}
#: A part well inside each secret, past its first ``+``, ``/`` or ``-``: what a mask cut short there leaves.
TAILS = {form: secret[12:] for form, secret in SECRETS.items()}


@pytest.mark.parametrize("form", SECRETS)
def test_the_pattern_matches_the_whole_secret(form: str) -> None:
    """The one pattern the redaction, the redactor, the scanner and ``webhook.registration`` share."""
    secret = SECRETS[form]
    assert WEBHOOK_SECRET.fullmatch(secret)
    assert [match.group(0) for match in WEBHOOK_SECRET.finditer(f'{{"secret":"{secret}"}} and more')] == [
        secret
    ]


@pytest.mark.parametrize("bad", ["whsec_", "whsec_short", "whsec_has space inside", "whsec_bang!!!!!!!!"])
def test_the_pattern_refuses_other_forms(bad: str) -> None:
    """No secret, a too-short one, or one with characters outside base64 is not the whsec_ form."""
    assert not WEBHOOK_SECRET.fullmatch(bad)


@pytest.mark.parametrize("form", SECRETS)
def test_report_redaction_masks_the_whole_secret(form: str) -> None:
    """Printed text (a log line, a finding) keeps nothing of the secret."""
    masked = mask_text(f"registered with secret {SECRETS[form]} for job.created")
    assert SECRETS[form] not in masked and TAILS[form] not in masked
    assert "[webhook-secret " in masked and masked.endswith(" for job.created")


def test_report_redaction_masks_a_json_escaped_slash() -> None:
    """A JSON encoder that writes ``/`` as ``\\/`` does not split the secret."""
    escaped = json.dumps(SECRETS["standard base64"]).replace("/", "\\/")
    masked = mask_text(f"webhook {escaped}")
    assert "Whq2ONaaXOyNAFBtOf0oBYAFKr9ebCSfCASgJqCs" not in masked


@pytest.mark.parametrize("form", SECRETS)
def test_cassette_redactor_replaces_the_whole_secret(form: str) -> None:
    """In a recorded body, as free text and as a non-secret JSON field, one placeholder each time."""
    redactor = CassetteRedactor()
    secret = SECRETS[form]
    text = redactor.scrub_text(f"echo {secret} end")
    assert text == "echo <redacted:webhook-secret:1> end"
    body = redactor.scrub_body(json.dumps({"note": f"secret={secret}"}).encode())
    assert isinstance(body, bytes)
    assert secret.encode() not in body and TAILS[form].encode() not in body


@pytest.mark.parametrize("form", SECRETS)
def test_scanner_finds_the_whole_secret_and_shows_none_of_it(form: str, tmp_path: Path) -> None:
    """A leaked secret is reported once, as a webhook secret, with nothing of it in the excerpt."""
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(f"response:\n  body:\n    string: 'note: {SECRETS[form]} was here'\n")
    (leak,) = scan_path(leaky, [])
    assert leak.kind == "webhook-secret"
    assert TAILS[form] not in str(leak) and SECRETS[form] not in str(leak)
