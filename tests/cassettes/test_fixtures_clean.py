"""The repository's ``fixtures/`` folder holds no secret: the scanner proves it on every ``make test``."""

from __future__ import annotations

from pathlib import Path

from sergio_kit.cassettes.scan import scan_path, seeded_passwords

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_fixtures_hold_no_secrets() -> None:
    """No token, key, webhook secret, secret header or field, or seeded password in fixtures/."""
    passwords = seeded_passwords()
    assert passwords and FIXTURES.is_dir()
    leaks = scan_path(FIXTURES, passwords)
    assert leaks == [], "secrets under fixtures/ (masked):\n" + "\n".join(map(str, leaks))
