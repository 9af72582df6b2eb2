"""Configuration: one precedence (CLI > SERGIO_* > config file > default), typed values, clear errors."""

from __future__ import annotations

import argparse
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sergio_kit.checks.registry import refuse_unknown_check_levels
from sergio_kit.cli.main import COMMANDS as CLI_COMMANDS
from sergio_kit.cli.main import build_parser, main
from sergio_kit.cli.settings import resolve_settings
from sergio_kit.config import (
    COMMANDS,
    DEFAULT_TIER_LIMITS,
    FIELDS,
    GROUPS,
    SECRETS,
    SETTINGS,
    KitConfig,
    Setting,
    command_labels,
    command_settings,
    load_config,
    parse_threshold,
    tier_limits_environment,
    tier_limits_from_environment,
)
from sergio_kit.errors import SergioKitError
from sergio_kit.plugin import pytest_addoption
from sergio_kit.suite.runner import SettingsPlugin, pytest_arguments
from tests.support.environment import isolate_settings

LIVE_LOGIN = {"SERGIO_EMAIL": "qa@acme.example", "SERGIO_PASSWORD": "pw-env"}
#: The keys a config file may hold, as the unknown-key error lists them (``checks``: the check levels).
FILE_KEYS = (
    "base_url, ca_bundle, contract, email, password, other_email, other_password, member_email, "
    "member_password, api_key, "
    "read_only_api_key, jwt_secret, jwt_private_key, jwt_public_key, jwks_url, http_url, clock_url, "
    "clock_token, receiver_cert, receiver_url, "
    "receiver_bind, "
    "sample_customer_id, sample_service_type, sample_address, sample_webhook_sink, max_examples, "
    "max_duration, tier_limits, only, cassettes, report_dir, checks, strict, load_thresholds"
)


@dataclass(frozen=True)
class Case:
    """One field's value in each layer, the parsed value each layer yields, and the default."""

    cli: Any
    env: str
    file: Any  # written to sergio-kit.toml
    expected: tuple[Any, Any, Any]  # parsed value from CLI, environment, file
    default: Any
    companions: dict[str, str] = field(default_factory=dict)  # env settings the field needs


def _cases(tmp: Path) -> dict[str, Case]:
    """Distinct values per layer for every field (paths under ``tmp``)."""
    for name in ("cli.pem", "env.pem", "file.pem"):
        (tmp / name).write_text("-----BEGIN CERTIFICATE-----\n")
    for name in ("cli-key.pem", "env-key.pem", "file-key.pem"):
        (tmp / name).write_text("-----BEGIN PRIVATE KEY-----\n")
    urls = ("https://cli.example", "https://env.example:8443", "https://file.example/api")
    return {
        "base_url": Case(*urls, (urls[0], urls[1], urls[2]), None, LIVE_LOGIN),
        "ca_bundle": Case(
            "cli.pem", "env.pem", "file.pem", (tmp / "cli.pem", tmp / "env.pem", tmp / "file.pem"), None
        ),
        "email": Case(
            "c@x.example", "e@x.example", "f@x.example", ("c@x.example", "e@x.example", "f@x.example"), None
        ),
        "password": Case("pw-c", "pw-e", "pw-f", ("pw-c", "pw-e", "pw-f"), None),
        "other_email": Case(
            "c@y.example",
            "e@y.example",
            "f@y.example",
            ("c@y.example", "e@y.example", "f@y.example"),
            None,
            {"SERGIO_OTHER_PASSWORD": "pw-other"},
        ),
        "other_password": Case(
            "op-c", "op-e", "op-f", ("op-c", "op-e", "op-f"), None, {"SERGIO_OTHER_EMAIL": "o@y.example"}
        ),
        "member_email": Case(
            "c@m.example",
            "e@m.example",
            "f@m.example",
            ("c@m.example", "e@m.example", "f@m.example"),
            None,
            {"SERGIO_MEMBER_PASSWORD": "pw-member"},
        ),
        "member_password": Case(
            "mp-c", "mp-e", "mp-f", ("mp-c", "mp-e", "mp-f"), None, {"SERGIO_MEMBER_EMAIL": "m@y.example"}
        ),
        "api_key": Case("key-c", "key-e", "key-f", ("key-c", "key-e", "key-f"), None),
        "read_only_api_key": Case("ro-c", "ro-e", "ro-f", ("ro-c", "ro-e", "ro-f"), None),
        "jwt_secret": Case("jwt-c", "jwt-e", "jwt-f", ("jwt-c", "jwt-e", "jwt-f"), None),
        "jwt_private_key": Case(
            "cli-key.pem",
            "env-key.pem",
            "file-key.pem",
            (tmp / "cli-key.pem", tmp / "env-key.pem", tmp / "file-key.pem"),
            None,
        ),
        "jwt_public_key": Case(
            "cli.pem", "env.pem", "file.pem", (tmp / "cli.pem", tmp / "env.pem", tmp / "file.pem"), None
        ),
        "jwks_url": Case(
            "https://c.example/.well-known/jwks.json",
            "https://e.example/keys",
            "https://f.example/jwks/",
            (
                "https://c.example/.well-known/jwks.json",
                "https://e.example/keys",
                "https://f.example/jwks",
            ),
            None,
        ),
        "http_url": Case(
            "http://c.example",
            "http://e.example:8080",
            "http://f.example/",
            ("http://c.example", "http://e.example:8080", "http://f.example"),
            None,
        ),
        "clock_url": Case(
            "https://c.example/_sergio/clock",
            "https://e.example/_sergio/clock",
            "https://f.example/_sergio/clock",
            (
                "https://c.example/_sergio/clock",
                "https://e.example/_sergio/clock",
                "https://f.example/_sergio/clock",
            ),
            None,
            {"SERGIO_CLOCK_TOKEN": "tok"},
        ),
        "clock_token": Case(
            "tok-c",
            "tok-e",
            "tok-f",
            ("tok-c", "tok-e", "tok-f"),
            None,
            {"SERGIO_CLOCK_URL": "https://clock.example/_sergio/clock"},
        ),
        "receiver_cert": Case(
            "cli.pem", "env.pem", "file.pem", (tmp / "cli.pem", tmp / "env.pem", tmp / "file.pem"), None
        ),
        "receiver_url": Case(
            "https://c.example/hooks",
            "https://e.example:8443/hooks",
            "https://f.example/",
            ("https://c.example/hooks", "https://e.example:8443/hooks", "https://f.example"),
            None,
        ),
        "receiver_bind": Case(
            "0.0.0.0:9001",
            "[::1]:9002",
            "127.0.0.1:9003",
            (("0.0.0.0", 9001), ("::1", 9002), ("127.0.0.1", 9003)),
            None,
        ),
        "sample_customer_id": Case("cust_c", "cust_e", "cust_f", ("cust_c", "cust_e", "cust_f"), None),
        "sample_service_type": Case(
            "solar_panels", "gutter_cleaning", "x", ("solar_panels", "gutter_cleaning", "x"), None
        ),
        "sample_address": Case(
            '{"street": "1 C St", "city": "C", "state": "IL", "zip": "62701"}',
            '{"street": "1 E St", "city": "E", "state": "IL", "zip": "62702"}',
            {"street": "1 F St", "city": "F", "state": "IL", "zip": "62703"},
            (
                {"street": "1 C St", "city": "C", "state": "IL", "zip": "62701"},
                {"street": "1 E St", "city": "E", "state": "IL", "zip": "62702"},
                {"street": "1 F St", "city": "F", "state": "IL", "zip": "62703"},
            ),
            None,
        ),
        "sample_webhook_sink": Case(
            "https://c.example/sink",
            "https://e.example/sink",
            "https://f.example/sink",
            ("https://c.example/sink", "https://e.example/sink", "https://f.example/sink"),
            None,
        ),
        "max_examples": Case("3", "7", 11, (3, 7, 11), 25),
        "max_duration": Case("120", "150", 180, (120, 150, 180), None),
        "tier_limits": Case(
            "read=5",
            "write=7, bulk=2",
            "auth=3",
            (
                {**DEFAULT_TIER_LIMITS, "read": 5},
                {**DEFAULT_TIER_LIMITS, "write": 7, "bulk": 2},
                {**DEFAULT_TIER_LIMITS, "auth": 3},
            ),
            DEFAULT_TIER_LIMITS,
        ),
        "only": Case(
            "auth,refresh",
            "webhook",
            ["contract", "apikey"],
            (("auth", "refresh"), ("webhook",), ("contract", "apikey")),
            GROUPS,
        ),
        "contract": Case(
            "https://cli.example/openapi.yaml",
            "https://env.example/openapi.yaml",
            "https://file.example/openapi.yaml",
            (
                "https://cli.example/openapi.yaml",
                "https://env.example/openapi.yaml",
                "https://file.example/openapi.yaml",
            ),
            None,
        ),
        "cassettes": Case(
            "cli-tapes",
            "env-tapes",
            "file-tapes",
            (tmp / "cli-tapes", tmp / "env-tapes", tmp / "file-tapes"),
            tmp / "fixtures" / "cassettes",
        ),
        "report_dir": Case(
            "cli-reports",
            "env-reports",
            "file-reports",
            (tmp / "cli-reports", tmp / "env-reports", tmp / "file-reports"),
            tmp / "reports",
        ),
        "check_levels": Case(
            ["auth.login.shape=ignore", "ratelimit.window=fail"],
            "auth.jwt.alg_none=warn, refresh.rotation=WARN",
            {"auth.login.enumeration": "fail"},
            (
                {"auth.login.shape": "ignore", "ratelimit.window": "fail"},
                {"auth.jwt.alg_none": "warn", "refresh.rotation": "warn"},
                {"auth.login.enumeration": "fail"},
            ),
            {},
        ),
        "strict": Case(True, "0", True, (True, False, True), False),
        "load_thresholds": Case(
            ["read:p95<300ms", "*:error_rate<1%"],
            "write:p99<0.8s,GET /v1/jobs:rps>100",
            {"bulk": ["p50<20ms", "max<2s"]},
            (
                (parse_threshold("read:p95<300ms"), parse_threshold("*:error_rate<1%")),
                (parse_threshold("write:p99<800ms"), parse_threshold("GET /v1/jobs:rps>100")),
                (parse_threshold("bulk:p50<20ms"), parse_threshold("bulk:max<2000ms")),
            ),
            (),
        ),
    }


LAYERS = list(itertools.product([True, False], repeat=3))  # (cli, env, file) given?


def _toml(value: Any) -> str:
    """A TOML literal for a string, int, bool, list of strings or a table of those (an inline table)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)} = {_toml(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)  # JSON syntax is valid TOML for the others


def write_toml(path: Path, settings: dict[str, Any], header: str = "") -> Path:
    """Write ``settings`` as a TOML file (under ``header`` when given) and return its path."""
    lines = [header] if header else []
    lines += [f"{key} = {_toml(value)}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _layer_id(layers: tuple[bool, bool, bool]) -> str:
    return (
        "+".join(name for name, given in zip(("cli", "env", "file"), layers, strict=True) if given) or "none"
    )


def test_matrix_covers_every_field(tmp_path: Path) -> None:
    """Every setting of KitConfig has a row in the precedence matrix."""
    assert set(_cases(tmp_path)) == set(FIELDS)


@pytest.mark.parametrize("layers", LAYERS, ids=_layer_id)
@pytest.mark.parametrize("name", FIELDS)
def test_precedence_matrix(tmp_path: Path, name: str, layers: tuple[bool, bool, bool]) -> None:
    """For every field and every combination of layers: CLI beats env beats file beats default."""
    case = _cases(tmp_path)[name]
    use_cli, use_env, use_file = layers
    cli = {name: case.cli} if use_cli else {}
    environ = dict(case.companions) if any(layers) else {}
    if use_env:
        environ[f"SERGIO_{name.upper()}"] = case.env
    if use_file:
        write_toml(tmp_path / "sergio-kit.toml", {name: case.file})
    settings = load_config(cli, environ, tmp_path)
    cli_label = _setting(name).option("check")
    labels = (cli_label, f"SERGIO_{name.upper()}", f"sergio-kit.toml: {name}")
    winners = [
        (value, label) for given, value, label in zip(layers, case.expected, labels, strict=True) if given
    ]
    expected, label = winners[0] if winners else (case.default, None)
    assert getattr(settings, name) == expected
    assert settings.sources.get(name) == label


def test_file_keys_may_use_dashes(tmp_path: Path) -> None:
    """``base-url`` and ``base_url`` are the same key; the source names the key as written."""
    write_toml(tmp_path / "sergio-kit.toml", {"base-url": "https://dash.example", "max-examples": 4})
    settings = load_config({}, LIVE_LOGIN, tmp_path)
    assert (settings.base_url, settings.max_examples) == ("https://dash.example", 4)
    assert settings.sources["base_url"] == "sergio-kit.toml: base-url"


def test_pyproject_tool_table_is_the_fallback_file(tmp_path: Path) -> None:
    """Without sergio-kit.toml, ``[tool.sergio-kit]`` in pyproject.toml is read, paths relative to it."""
    (tmp_path / "ca.pem").write_text("pem")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.sergio-kit]\nmax-examples = 9\nonly = "auth"\nca_bundle = "ca.pem"\n'
    )
    settings = load_config({}, {}, tmp_path)
    assert (settings.max_examples, settings.only, settings.ca_bundle) == (9, ("auth",), tmp_path / "ca.pem")
    assert settings.config_file == tmp_path / "pyproject.toml"
    assert settings.sources["max_examples"] == "pyproject.toml [tool.sergio-kit]: max-examples"


def test_pyproject_without_tool_table_means_defaults(tmp_path: Path) -> None:
    """A pyproject.toml with no ``[tool.sergio-kit]`` is no config file: every default holds."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config({}, {}, tmp_path) == KitConfig(
        report_dir=tmp_path / "reports", cassettes=tmp_path / "fixtures" / "cassettes"
    )


def test_sergio_kit_toml_wins_over_pyproject(tmp_path: Path) -> None:
    """When both exist, sergio-kit.toml is the config file and pyproject.toml is not read at all."""
    write_toml(tmp_path / "sergio-kit.toml", {"max_examples": 5})
    write_toml(tmp_path / "pyproject.toml", {"max_examples": 6, "only": "auth"}, header="[tool.sergio-kit]")
    settings = load_config({}, {}, tmp_path)
    assert (settings.max_examples, settings.only) == (5, GROUPS)
    assert settings.config_file == tmp_path / "sergio-kit.toml"


def test_explicit_config_file_beats_the_working_directory(tmp_path: Path) -> None:
    """``--config`` beats ``SERGIO_CONFIG`` beats ./sergio-kit.toml; relative paths follow the file."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "ca.pem").write_text("pem")
    write_toml(tmp_path / "sergio-kit.toml", {"max_examples": 1})
    write_toml(tmp_path / "env.toml", {"max_examples": 2})
    write_toml(tmp_path / "conf" / "cli.toml", {"max_examples": 3, "ca-bundle": "ca.pem"})
    environ = {"SERGIO_CONFIG": "env.toml"}
    assert load_config({}, {}, tmp_path).max_examples == 1
    assert load_config({}, environ, tmp_path).max_examples == 2
    settings = load_config({"config": Path("conf/cli.toml")}, environ, tmp_path)
    assert (settings.max_examples, settings.ca_bundle) == (3, tmp_path / "conf" / "ca.pem")
    assert settings.sources["max_examples"] == "conf/cli.toml: max_examples"


def test_explicit_pyproject_reads_its_tool_table(tmp_path: Path) -> None:
    """``--config path/pyproject.toml`` reads that file's ``[tool.sergio-kit]`` table."""
    (tmp_path / "sub").mkdir()
    write_toml(tmp_path / "sub" / "pyproject.toml", {"only": ["refresh"]}, header="[tool.sergio-kit]")
    assert load_config({"config": "sub/pyproject.toml"}, {}, tmp_path).only == ("refresh",)


def test_http_url_defaults_to_the_base_url_with_http(tmp_path: Path) -> None:
    """The plain-HTTP probe is the base URL with http:// (same host, port, path) unless set."""
    settings = load_config({"base_url": "https://s.example:8443/api/"}, LIVE_LOGIN, tmp_path)
    assert settings.base_url == "https://s.example:8443/api"
    assert settings.http_url == "http://s.example:8443/api"
    assert settings.sources["http_url"] == "derived from the base URL"
    embedded = load_config({}, {}, tmp_path)
    assert embedded.http_url is None and embedded.embedded


def test_empty_environment_variable_counts_as_unset(tmp_path: Path) -> None:
    """``SERGIO_BASE_URL=`` falls through to the file, not to an error."""
    write_toml(tmp_path / "sergio-kit.toml", {"max_examples": 8})
    settings = load_config({}, {"SERGIO_BASE_URL": "", "SERGIO_MAX_EXAMPLES": ""}, tmp_path)
    assert (settings.base_url, settings.max_examples) == (None, 8)


def test_only_becomes_a_marker_expression_in_group_order(tmp_path: Path) -> None:
    """``--only`` keeps the canonical group order, drops duplicates; all groups means no ``-m``."""
    settings = load_config({"only": " refresh, AUTH ,refresh"}, {}, tmp_path)
    assert settings.only == ("auth", "refresh")
    assert settings.marker_expression() == "auth or refresh"
    assert load_config({"only": ",".join(GROUPS)}, {}, tmp_path).marker_expression() is None


def test_repr_and_summary_hide_secrets(tmp_path: Path) -> None:
    """No password, API key, signing secret or clock token in ``repr``, ``str`` or the summary."""
    secrets = {
        "SERGIO_PASSWORD": "s3cret-pw",
        "SERGIO_OTHER_PASSWORD": "s3cret-other",
        "SERGIO_API_KEY": "s3cret-key",
        "SERGIO_READ_ONLY_API_KEY": "s3cret-read-only-key",
        "SERGIO_JWT_SECRET": "s3cret-jwt",
        "SERGIO_CLOCK_TOKEN": "s3cret-clock",
    }
    environ = {
        **secrets,
        "SERGIO_BASE_URL": "https://s.example",
        "SERGIO_EMAIL": "qa@s.example",
        "SERGIO_OTHER_EMAIL": "other@s.example",
        "SERGIO_CLOCK_URL": "https://s.example/_sergio/clock",
    }
    settings = load_config({}, environ, tmp_path)
    assert settings.jwt_secret == "s3cret-jwt"
    shown = repr(settings) + str(settings) + "\n".join(settings.summary())
    for secret in secrets.values():
        assert secret not in shown
    assert "jwt_secret set" in shown and "qa@s.example" in shown


LEVEL_PAIRS = (
    "expected ID=LEVEL pairs such as auth.login.shape=ignore, with LEVEL one of fail, warn, ignore (the ids: "
    "sergio-kit check --list-checks)"
)
TRUE_OR_FALSE = "expected true or false (in the environment 1, true, yes or 0, false, no)"

ERRORS = [
    pytest.param(
        {},
        {"SERGIO_BASE_URL": "ftp://x"},
        {},
        "SERGIO_BASE_URL has value 'ftp://x': expected an https:// URL such as https://sergio.example.com",
        id="env-base-url-not-https",
    ),
    pytest.param(
        {},
        {"SERGIO_JWT_PRIVATE_KEY": "public.pem"},
        {"public.pem": "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"},
        "SERGIO_JWT_PRIVATE_KEY has value 'public.pem': expected the path of a PEM file with a private key "
        "(no -----BEGIN PRIVATE KEY----- block in it)",
        id="env-private-key-is-a-public-key",
    ),
    pytest.param(
        {},
        {"SERGIO_JWT_PUBLIC_KEY": "missing.pem"},
        {},
        "SERGIO_JWT_PUBLIC_KEY has value 'missing.pem': expected the path of a PEM file with a public key "
        "(no such file)",
        id="env-public-key-missing",
    ),
    pytest.param(
        {},
        {"SERGIO_JWKS_URL": "http://keys.example/jwks.json"},
        {},
        "SERGIO_JWKS_URL has value 'http://keys.example/jwks.json': expected an https:// URL such as "
        "https://sergio.example.com/.well-known/jwks.json",
        id="env-jwks-url-not-https",
    ),
    pytest.param(
        {"base_url": "http://127.0.0.1:9"},
        {},
        {},
        "--base-url has value 'http://127.0.0.1:9': expected an https:// URL such as https://sergio.example.com",
        id="cli-base-url-not-https",
    ),
    pytest.param(
        {},
        LIVE_LOGIN,
        {"sergio-kit.toml": "base_url = 'https://'\n"},
        "sergio-kit.toml: base_url has value 'https://': expected an https:// URL such as https://sergio.example.com",
        id="file-base-url-no-host",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "base_ulr = 'https://x.example'\n"},
        f"sergio-kit.toml has unknown key 'base_ulr': did you mean 'base_url'? expected one of {FILE_KEYS} "
        "(spelled with - or _)",
        id="file-unknown-key-did-you-mean",
    ),
    pytest.param(
        {},
        {},
        {"pyproject.toml": "[tool.sergio-kit]\nmax-exampels = 3\n"},
        "pyproject.toml [tool.sergio-kit] has unknown key 'max-exampels': did you mean 'max_examples'? "
        f"expected one of {FILE_KEYS} (spelled with - or _)",
        id="pyproject-unknown-key",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "base-url = 'https://a.example'\nbase_url = 'https://b.example'\n"},
        "sergio-kit.toml sets 'base_url' twice ('base-url' and 'base_url'): keep one",
        id="file-duplicate-key",
    ),
    pytest.param(
        {"only": "auth,tls"},
        {},
        {},
        "--only has value 'auth,tls': unknown group 'tls'; expected a comma-separated list of groups from: "
        "contract, auth, refresh, apikey, transport, webhook, ratelimit, cassette",
        id="cli-only-unknown-group",
    ),
    pytest.param(
        {},
        {"SERGIO_ONLY": "refesh"},
        {},
        "SERGIO_ONLY has value 'refesh': unknown group 'refesh' (did you mean 'refresh'?); expected a "
        "comma-separated list of groups from: contract, auth, refresh, apikey, transport, webhook, "
        "ratelimit, cassette",
        id="env-only-did-you-mean",
    ),
    pytest.param(
        {"only": " , "},
        {},
        {},
        "--only has value ' , ': expected a comma-separated list of groups from: contract, auth, refresh, "
        "apikey, transport, webhook, ratelimit, cassette",
        id="cli-only-empty",
    ),
    pytest.param(
        {"max_examples": "0"},
        {},
        {},
        "--max-examples has value '0': expected a whole number of at least 1 (Hypothesis examples per "
        "operation, default 25)",
        id="cli-max-examples-zero",
    ),
    pytest.param(
        {},
        {"SERGIO_MAX_EXAMPLES": "ten"},
        {},
        "SERGIO_MAX_EXAMPLES has value 'ten': expected a whole number of at least 1 (Hypothesis examples "
        "per operation, default 25)",
        id="env-max-examples-not-a-number",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "max_examples = 2.5\n"},
        "sergio-kit.toml: max_examples has value 2.5: expected a whole number of at least 1 (Hypothesis "
        "examples per operation, default 25)",
        id="file-max-examples-float",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "max_examples = true\n"},
        "sergio-kit.toml: max_examples has value True: expected a whole number of at least 1 (Hypothesis "
        "examples per operation, default 25)",
        id="file-max-examples-bool",
    ),
    pytest.param(
        {"tier_limits": "read=0"},
        {},
        {},
        "--tier-limits has value 'read=0': expected tier=N pairs such as read=100,write=50 (tiers: auth, "
        "read, write, webhook, bulk; N at least 1)",
        id="cli-tier-limit-zero",
    ),
    pytest.param(
        {},
        {"SERGIO_TIER_LIMITS": "reads=100"},
        {},
        "SERGIO_TIER_LIMITS has value 'reads=100': unknown tier 'reads' (did you mean 'read'?); expected "
        "tier=N pairs such as read=100,write=50 (tiers: auth, read, write, webhook, bulk; N at least 1)",
        id="env-tier-limit-unknown-tier",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "tier_limits = 100\n"},
        "sergio-kit.toml: tier_limits has value 100: expected tier=N pairs such as read=100,write=50 "
        "(tiers: auth, read, write, webhook, bulk; N at least 1)",
        id="file-tier-limits-not-pairs",
    ),
    pytest.param(
        {"ca_bundle": Path("missing.pem")},
        {},
        {},
        "--ca-bundle has value 'missing.pem': expected the path of an existing PEM file with the "
        "CA certificate(s) that signed the target's certificate (no such file)",
        id="cli-ca-bundle-missing",
    ),
    pytest.param(
        {},
        {"SERGIO_CA_BUNDLE": "missing.pem"},
        {},
        "SERGIO_CA_BUNDLE has value 'missing.pem': expected the path of an existing PEM file with the CA "
        "certificate(s) that signed the target's certificate (no such file)",
        id="env-ca-bundle-missing",
    ),
    pytest.param(
        {"config": "nope.toml"},
        {},
        {},
        "--config has value 'nope.toml': the file does not exist; expected a TOML file such as "
        "sergio-kit.toml",
        id="cli-config-missing",
    ),
    pytest.param(
        {},
        {"SERGIO_CONFIG": "pyproject.toml"},
        {"pyproject.toml": "[project]\nname = 'x'\n"},
        "pyproject.toml has no [tool.sergio-kit] table: add one, or point --config at a sergio-kit.toml",
        id="env-config-pyproject-without-table",
    ),
    pytest.param(
        {},
        {},
        {"pyproject.toml": "[tool]\nsergio-kit = 5\n"},
        "pyproject.toml [tool.sergio-kit] is not a table: write it as [tool.sergio-kit] with key = value",
        id="pyproject-tool-entry-not-a-table",
    ),
    pytest.param(
        {"base_url": "https://s.example"},
        {},
        {},
        "a live target (--base-url = https://s.example) needs a login, but email and password are not set: "
        "set SERGIO_EMAIL (or --email) and SERGIO_PASSWORD (or --password); the environment is preferred "
        "for passwords",
        id="live-target-without-login",
    ),
    pytest.param(
        {},
        {"SERGIO_BASE_URL": "https://s.example", "SERGIO_EMAIL": "qa@s.example"},
        {},
        "a live target (SERGIO_BASE_URL = https://s.example) needs a login, but password is not set: set "
        "SERGIO_PASSWORD (or --password); the environment is preferred for passwords",
        id="live-target-without-password",
    ),
    pytest.param(
        {"other_email": "o@s.example"},
        {},
        {},
        "--other-email is set but other_password is not: the other tenant's login needs both; set "
        "SERGIO_OTHER_PASSWORD (or --other-password), or remove --other-email",
        id="other-email-without-password",
    ),
    pytest.param(
        {},
        {"SERGIO_MEMBER_PASSWORD": "pw"},
        {},
        "SERGIO_MEMBER_PASSWORD is set but member_email is not: the member's login needs both; set "
        "SERGIO_MEMBER_EMAIL (or --member-email), or remove SERGIO_MEMBER_PASSWORD",
        id="member-password-without-email",
    ),
    pytest.param(
        {},
        {"SERGIO_CLOCK_TOKEN": "t"},
        {},
        "SERGIO_CLOCK_TOKEN is set but clock_url is not: the test clock needs both; set SERGIO_CLOCK_URL, "
        "or remove SERGIO_CLOCK_TOKEN",
        id="clock-token-without-url",
    ),
    pytest.param(
        {},
        {"SERGIO_EMAIL": "qa.example.com"},
        {},
        "SERGIO_EMAIL has value 'qa.example.com': expected an email address such as qa@example.com",
        id="env-email-without-at",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "password = 12345678\n"},
        "sergio-kit.toml: password has a value that is not allowed: expected a non-empty password string",
        id="file-secret-wrong-type-not-echoed",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "http_url = 'https://x.example'\n"},
        "sergio-kit.toml: http_url has value 'https://x.example': expected an http:// URL such as "
        "http://sergio.example.com",
        id="file-http-url-not-http",
    ),
    pytest.param(
        {"check_levels": ["auth.login.shape=ignore", "auth.jwt.alg_none=warm"]},
        {},
        {},
        f"--check-level has value 'auth.jwt.alg_none=warm': unknown level 'warm' (did you mean 'warn'?); "
        f"{LEVEL_PAIRS}",
        id="cli-check-level-did-you-mean",
    ),
    pytest.param(
        {"check_levels": ["auth.login.shape"]},
        {},
        {},
        f"--check-level has value 'auth.login.shape': the level is missing; {LEVEL_PAIRS}",
        id="cli-check-level-without-level",
    ),
    pytest.param(
        {"check_levels": ["auth.login.shape=warn", "auth.login.shape=fail"]},
        {},
        {},
        "--check-level sets the level of 'auth.login.shape' twice: keep one",
        id="cli-check-level-twice",
    ),
    pytest.param(
        {},
        {"SERGIO_CHECK_LEVELS": "auth.login.shape=warn,login=fail"},
        {},
        f"SERGIO_CHECK_LEVELS has value 'login=fail': 'login' is not a check id (group.name); {LEVEL_PAIRS}",
        id="env-check-level-not-an-id",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": '[checks]\n"auht.login.shape" = "warn"\n'},
        "sergio-kit.toml: checks has value 'auht.login.shape=warn': unknown group 'auht' (did you mean "
        f"'auth'?) in check 'auht.login.shape'; {LEVEL_PAIRS}",
        id="file-checks-unknown-group",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": '[checks]\n"auth.login.shape" = true\n'},
        f"sergio-kit.toml: checks has value 'auth.login.shape=True': unknown level True; {LEVEL_PAIRS}",
        id="file-checks-level-not-a-string",
    ),
    pytest.param(
        {},
        {},
        {"pyproject.toml": "[tool.sergio-kit]\nchecks = 5\n"},
        f"pyproject.toml [tool.sergio-kit]: checks has value 5: {LEVEL_PAIRS}",
        id="pyproject-checks-not-a-table",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "check = 'auth.login.shape=warn'\n"},
        f"sergio-kit.toml has unknown key 'check': did you mean 'checks'? expected one of {FILE_KEYS} "
        "(spelled with - or _)",
        id="file-checks-misspelt",
    ),
    pytest.param(
        {},
        {"SERGIO_STRICT": "maybe"},
        {},
        f"SERGIO_STRICT has value 'maybe': {TRUE_OR_FALSE}",
        id="env-strict-not-a-boolean",
    ),
    pytest.param(
        {},
        {},
        {"sergio-kit.toml": "strict = 1\n"},
        f"sergio-kit.toml: strict has value 1: {TRUE_OR_FALSE}",
        id="file-strict-a-number",
    ),
]


@pytest.mark.parametrize(("cli", "environ", "files", "message"), ERRORS)
def test_bad_settings_give_one_line_errors(
    tmp_path: Path, cli: dict[str, Any], environ: dict[str, str], files: dict[str, str], message: str
) -> None:
    """Each bad value or combination raises SergioKitError with exactly this one-line message."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(SergioKitError) as raised:
        load_config(cli, environ, tmp_path)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)
    assert "12345678" not in str(raised.value)


@pytest.mark.parametrize("name", ["sergio-kit.toml", "pyproject.toml"])
def test_malformed_toml_names_the_file_and_line(tmp_path: Path, name: str) -> None:
    """Broken TOML: one line naming the file and the line of the mistake."""
    (tmp_path / name).write_text("# settings\nmax_examples = \n")
    with pytest.raises(SergioKitError) as raised:
        load_config({}, {}, tmp_path)
    assert re.fullmatch(
        rf"{re.escape(name)} is not valid TOML: .*\(at line 2, column \d+\); fix that line", str(raised.value)
    )


def test_plugin_options_name_themselves_in_errors(tmp_path: Path) -> None:
    """``cli_labels`` names the CLI layer as its caller spells it (the plugin's ``--sergio-*``)."""
    with pytest.raises(SergioKitError, match=r"^--sergio-base-url has value 'x'"):
        load_config({"base_url": "x"}, {}, tmp_path, cli_labels={"base_url": "--sergio-base-url"})


def _check_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["check", *argv])


def test_check_command_selects_groups_and_keeps_secrets_off_argv(tmp_path: Path) -> None:
    """``sergio-kit check --only`` becomes ``-m``; settings (and secrets) travel in the stash, not argv."""
    args = _check_args("--only", "refresh,auth", "--base-url", "https://s.example", "--password", "pw-argv")
    settings = load_config(vars(args), {"SERGIO_EMAIL": "qa@s.example"}, tmp_path)
    arguments = pytest_arguments(settings, args.fault)
    assert arguments[arguments.index("-m") + 1] == "auth or refresh"
    assert not any("pw-argv" in argument or "s.example" in argument for argument in arguments)
    assert SettingsPlugin(settings).settings.password == "pw-argv"
    everything = pytest_arguments(load_config({}, {}, tmp_path))
    assert "-m" not in everything


def test_check_cli_layer_beats_environment(tmp_path: Path) -> None:
    """``sergio-kit check`` options are the CLI layer: ``--max-examples`` beats SERGIO_MAX_EXAMPLES."""
    args = _check_args("--max-examples", "4", "--report", "out")
    settings = load_config(vars(args), {"SERGIO_MAX_EXAMPLES": "9"}, tmp_path)
    assert (settings.max_examples, settings.report_dir) == (4, tmp_path / "out")


def test_tier_limits_as_a_toml_table(tmp_path: Path) -> None:
    """``[tier_limits]`` as a TOML table overrides only the tiers it names."""
    (tmp_path / "sergio-kit.toml").write_text("[tier_limits]\nread = 90\nbulk = 4\n")
    settings = load_config({}, {}, tmp_path)
    assert settings.tier_limits == {**DEFAULT_TIER_LIMITS, "read": 90, "bulk": 4}
    assert "tier limits (per 60 s): auth 10, read 90, write 60, webhook 10, bulk 4" in settings.summary()


@pytest.mark.parametrize(
    "text",
    [
        '[checks]\n"auth.login.shape" = "ignore"\n"ratelimit.window" = "FAIL"\n',
        '[checks]\nauth.login.shape = "ignore"\nratelimit.window = "fail"\n',
        'check-levels = "auth.login.shape=ignore, ratelimit.window=fail"\n',
        'checks = ["auth.login.shape=ignore", "ratelimit.window=fail"]\n',
    ],
    ids=["quoted-ids", "dotted-ids", "dashed-key-string", "list"],
)
def test_check_levels_in_the_config_file(tmp_path: Path, text: str) -> None:
    """``[checks]`` with quoted or dotted ids (or ``check-levels`` as a string or list) sets the levels;
    a level may be written in any case."""
    (tmp_path / "sergio-kit.toml").write_text("strict = true\n" + text)
    settings = load_config({}, {}, tmp_path)
    assert settings.check_levels == {"auth.login.shape": "ignore", "ratelimit.window": "fail"}
    assert settings.strict is True
    assert settings.sources["check_levels"].startswith("sergio-kit.toml: check")


def test_check_levels_in_pyproject(tmp_path: Path) -> None:
    """In pyproject.toml the levels are the ``[tool.sergio-kit.checks]`` table."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.sergio-kit]\nstrict = false\n\n'
        '[tool.sergio-kit.checks]\n"auth.login.enumeration" = "fail"\n'
    )
    settings = load_config({}, {}, tmp_path)
    assert (dict(settings.check_levels), settings.strict) == ({"auth.login.enumeration": "fail"}, False)
    assert settings.sources["check_levels"] == "pyproject.toml [tool.sergio-kit]: checks"


def test_check_levels_of_the_highest_layer_replace_the_others(tmp_path: Path) -> None:
    """The levels are one setting: the highest layer's replace the lower ones', they are not merged."""
    write_toml(tmp_path / "sergio-kit.toml", {"checks": {"auth.login.shape": "ignore"}})
    environ = {"SERGIO_CHECK_LEVELS": "ratelimit.window=fail"}
    assert load_config({}, environ, tmp_path).check_levels == {"ratelimit.window": "fail"}
    settings = load_config({"check_levels": ["auth.jwt.alg_none=warn"]}, environ, tmp_path)
    assert settings.check_levels == {"auth.jwt.alg_none": "warn"}
    assert settings.sources["check_levels"] == "--check-level"


def test_summary_shows_changed_levels_and_strict(tmp_path: Path) -> None:
    """The header lists the levels the user changed and says when a warning fails the run."""
    settings = load_config(
        {"check_levels": ["auth.login.shape=ignore,ratelimit.window=fail"]},
        {"SERGIO_STRICT": "yes"},
        tmp_path,
    )
    assert "check levels changed: auth.login.shape ignore, ratelimit.window fail" in settings.summary()
    assert "strict: a warning fails the run (exit 1)" in settings.summary()
    plain = "\n".join(load_config({}, {"SERGIO_STRICT": "no"}, tmp_path).summary())
    assert "check levels" not in plain and "strict" not in plain


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        (
            "auth.jwt.alg_nun=warn",
            "--check-level has unknown check 'auth.jwt.alg_nun': did you mean 'auth.jwt.alg_none'? see "
            "sergio-kit check --list-checks",
        ),
        (
            "webhook.nothing_like_it=fail",
            "--check-level has unknown check 'webhook.nothing_like_it': see sergio-kit check --list-checks",
        ),
        (
            "contract.coverage=warn",
            "--check-level sets a level for 'contract.coverage', but the contract checks have none: a breach "
            "of the contract always fails; see sergio-kit check --list-checks",
        ),
    ],
    ids=["did-you-mean", "no-close-id", "contract-check"],
)
def test_check_level_ids_are_checked_against_the_registry(tmp_path: Path, levels: str, message: str) -> None:
    """An id of the right shape that names no registered check is one line, with a did-you-mean."""
    settings = load_config({"check_levels": ["auth.login.shape=ignore", levels]}, {}, tmp_path)
    with pytest.raises(SergioKitError) as raised:
        refuse_unknown_check_levels(settings)
    assert str(raised.value) == message
    refuse_unknown_check_levels(load_config({"check_levels": ["auth.login.shape=ignore"]}, {}, tmp_path))


def test_check_command_collects_levels_and_takes_strict_as_a_flag() -> None:
    """``--check-level`` is repeatable (a list) and ``--strict`` a flag; neither given means ``None``."""
    args = _check_args(
        "--check-level", "auth.login.shape=ignore", "--check-level=ratelimit.window=fail", "--strict"
    )
    assert (args.check_levels, args.strict) == (["auth.login.shape=ignore", "ratelimit.window=fail"], True)
    assert (_check_args().check_levels, _check_args().strict) == (None, None)


# --- the settings table: the one source of every command line, the plugin and the README --------

#: Each subcommand's own options, outside the settings table.
OWN_OPTIONS = {
    "check": {"--fault", "--variant", "--list-checks"},
    "load": {
        "--profile",
        "--users",
        "--duration",
        "--window",
        "--processes",
        "--master",
        "--expect-workers",
        "--worker",
        "--master-host",
        "--fault",
        "--variant",
        "--report",
        "--locustfile",
        "--start-users",
        "--step-duration",
        "--abort-on-fail",
        "--save-baseline",
        "--baseline",
        "--tolerance",
        "--delay",
    },
    "record": {"--out"},
    "scan-cassettes": set(),
    "replay-cassettes": set(),
}
SUBCOMMANDS = [command for command in COMMANDS if command != "pytest"]
README = Path(__file__).resolve().parents[1] / "README.md"
README_HEADER = "| variable | `sergio-kit` option (commands) | pytest plugin | meaning (default) |"


def _setting(name: str) -> Setting:
    return next(setting for setting in SETTINGS if setting.name == name)


def _subcommand_actions(command: str) -> list[argparse.Action]:
    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [action for action in subcommands.choices[command]._actions if action.dest != "help"]


def test_settings_table_has_one_row_per_setting() -> None:
    """A row for the config file and for every KitConfig field; env var, help and secrecy consistent."""
    names = [setting.name for setting in SETTINGS]
    assert sorted(names) == sorted(("config", *FIELDS)) and len(set(names)) == len(names)
    secret_names = {
        "password",
        "other_password",
        "member_password",
        "api_key",
        "read_only_api_key",
        "jwt_secret",
        "clock_token",
    }
    assert secret_names == SECRETS
    assert set(SUBCOMMANDS) == set(CLI_COMMANDS) - {"serve"}
    for setting in SETTINGS:
        assert setting.env == "SERGIO_" + setting.name.upper()
        assert setting.commands <= set(COMMANDS), setting
        assert f"(or {setting.env}" in setting.help
        assert ("prefer the environment" in setting.help) == setting.secret


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_command_offers_exactly_the_tables_options(command: str) -> None:
    """Every subcommand's options are the table's rows for it (same help, ``None`` = not given) plus its
    own command-specific ones."""
    generated = {setting.option(command): setting for setting in command_settings(command)}
    actions = [a for a in _subcommand_actions(command) if a.option_strings]
    offered = {option for action in actions for option in action.option_strings}
    assert offered - OWN_OPTIONS[command] == set(generated)
    for action in actions:
        setting = generated.get(action.option_strings[0])
        if setting is not None:
            assert (action.dest, action.default, action.help) == (setting.name, None, setting.help)
    assert command_labels(command) == {setting.name: option for option, setting in generated.items()}


class _OptionRecorder:
    """Stands in for pytest's parser and option group: records what ``pytest_addoption`` registers."""

    def __init__(self) -> None:
        self.options: dict[str, dict[str, Any]] = {}

    def getgroup(self, name: str, description: str = "") -> _OptionRecorder:
        """The one option group."""
        return self

    def addoption(self, *names: str, **attributes: Any) -> None:
        """Record an option by its first name."""
        self.options[names[0]] = attributes


def test_plugin_offers_exactly_the_tables_options() -> None:
    """The plugin's ``--sergio-*`` options are the table's (every setting but ``only``, ``report_dir``
    and the load command's ``load_thresholds``), with the same help as the command line, plus
    ``--sergio-embedded-fault`` and ``--sergio-embedded-variant``."""
    recorder = _OptionRecorder()
    pytest_addoption(recorder)  # type: ignore[arg-type]
    options = recorder.options
    assert options.pop("--sergio-embedded-fault")["action"] == "append"
    assert options.pop("--sergio-embedded-variant")["action"] == "append"
    assert set(options) == {setting.option("pytest") for setting in command_settings("pytest")}
    not_in_pytest = {s.name for s in SETTINGS} - {s.name for s in command_settings("pytest")}
    assert not_in_pytest == {"only", "report_dir", "load_thresholds"}
    for setting in command_settings("pytest"):
        assert options[setting.option("pytest")] == {
            "dest": "sergio_" + setting.name,
            **setting.option_arguments(),
        }
        assert options[setting.option("pytest")]["default"] is None
    assert options["--sergio-check-level"]["action"] == "append"
    assert options["--sergio-strict"]["action"] == "store_true"


def readme_row(setting: Setting) -> str:
    """The README's settings-table row of ``setting``."""
    commands = [command for command in SUBCOMMANDS if command in setting.commands]
    command_line = f"`{setting.option(commands[0])}` ({', '.join(commands)})" if commands else ""
    plugin = f"`{setting.option('pytest')}`" if "pytest" in setting.commands else ""
    meaning = setting.meaning + (f" ({setting.default})" if setting.default else "")
    if setting.secret:
        meaning += "; a secret: keep it in the environment"
    return f"| `{setting.env}` | {command_line} | {plugin} | {meaning} |"


def test_readme_settings_table_is_the_table() -> None:
    """README.md's settings table has exactly the rows of the settings table, in its order."""
    expected = [README_HEADER, "|---|---|---|---|", *map(readme_row, SETTINGS), ""]
    lines = README.read_text().splitlines()
    assert README_HEADER in lines, f"README.md has no settings table; add:\n{chr(10).join(expected)}"
    start = lines.index(README_HEADER)
    assert lines[start : start + len(expected)] == expected, (
        "README.md's settings table is out of date; replace it with:\n" + "\n".join(expected)
    )


# --- every command resolves its settings through load_config -------------------------------------


def _argv(command: str, *options: str) -> list[str]:
    """``command`` with ``options`` (and the path scan-cassettes and replay-cassettes require)."""
    return [command, *options, *(["."] if command in ("scan-cassettes", "replay-cassettes") else [])]


def _cli_arguments(option: str, value: Any) -> list[str]:
    """``value`` on a command line: a flag alone, each item of a list after its own option."""
    if value is True:
        return [option]
    if isinstance(value, list):
        return [argument for item in value for argument in (option, item)]
    return [option, str(value)]


COMMAND_SETTINGS = [
    (command, setting.name)
    for command in SUBCOMMANDS
    for setting in command_settings(command)
    if setting.name != "config"
]


@pytest.mark.parametrize("layers", LAYERS, ids=_layer_id)
@pytest.mark.parametrize(("command", "name"), COMMAND_SETTINGS, ids=[f"{c}-{n}" for c, n in COMMAND_SETTINGS])
def test_command_precedence_matrix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, name: str, layers: tuple[bool, bool, bool]
) -> None:
    """Through each command's real parser: its option beats SERGIO_* beats the file beats the default."""
    case = _cases(tmp_path)[name]
    use_cli, use_env, use_file = layers
    setting = _setting(name)
    environ = dict(case.companions) if any(layers) else {}
    if use_env:
        environ[setting.env] = case.env
    if use_file:
        write_toml(tmp_path / "sergio-kit.toml", {name: case.file})
    isolate_settings(monkeypatch, tmp_path, environ)
    options = _cli_arguments(setting.option(command), case.cli) if use_cli else []
    settings = resolve_settings(build_parser().parse_args(_argv(command, *options)), command)
    labels = (setting.option(command), setting.env, f"sergio-kit.toml: {name}")
    winners = [
        (value, label) for given, value, label in zip(layers, case.expected, labels, strict=True) if given
    ]
    expected, label = winners[0] if winners else (case.default, None)
    assert getattr(settings, name) == expected
    assert settings.sources.get(name) == label


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_command_reads_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """``--config`` beats ``SERGIO_CONFIG`` beats ./sergio-kit.toml, on every command, secrets included."""
    (tmp_path / "conf").mkdir()
    write_toml(tmp_path / "sergio-kit.toml", {"password": "pw-cwd"})
    write_toml(tmp_path / "env.toml", {"password": "pw-env-file"})
    write_toml(tmp_path / "conf" / "cli.toml", {"password": "pw-cli-file", "tier-limits": "read=30"})
    isolate_settings(monkeypatch, tmp_path, {})
    assert resolve_settings(build_parser().parse_args(_argv(command)), command).password == "pw-cwd"
    isolate_settings(monkeypatch, tmp_path, {"SERGIO_CONFIG": "env.toml"})
    assert resolve_settings(build_parser().parse_args(_argv(command)), command).password == "pw-env-file"
    args = build_parser().parse_args(_argv(command, "--config", "conf/cli.toml"))
    settings = resolve_settings(args, command)
    assert (settings.password, settings.tier_limits["read"]) == ("pw-cli-file", 30)
    assert settings.sources["password"] == "conf/cli.toml: password"


SCHEMES = "expected an https:// URL such as https://sergio.example.com"
TIER_PAIRS = (
    "expected tier=N pairs such as read=100,write=50 (tiers: auth, read, write, webhook, bulk; N at least 1)"
)
LIVE = {"SERGIO_BASE_URL": "https://s.example"}

COMMAND_ERRORS = [
    pytest.param(
        ["load", "--base-url", "http://s.example"],
        {},
        {},
        f"--base-url has value 'http://s.example': {SCHEMES}",
        id="load-base-url-not-https",
    ),
    pytest.param(
        ["load"],
        {},
        {"sergio-kit.toml": "base-url = 'ftp://s.example'\n"},
        f"sergio-kit.toml: base-url has value 'ftp://s.example': {SCHEMES}",
        id="load-file-base-url-not-https",
    ),
    pytest.param(
        ["load"],
        LIVE,
        {},
        "a live target (SERGIO_BASE_URL = https://s.example) needs a login, but email and password are not "
        "set: set SERGIO_EMAIL and SERGIO_PASSWORD; the environment is preferred for passwords",
        id="load-live-target-without-login",
    ),
    pytest.param(
        ["load", "--tier-limits", "reads=5"],
        {},
        {},
        f"--tier-limits has value 'reads=5': unknown tier 'reads' (did you mean 'read'?); {TIER_PAIRS}",
        id="load-tier-limits-unknown-tier",
    ),
    pytest.param(
        ["load"],
        {"SERGIO_TIER_LIMITS": "read=lots"},
        {},
        f"SERGIO_TIER_LIMITS has value 'read=lots': {TIER_PAIRS}",
        id="load-env-tier-limits-not-a-number",
    ),
    pytest.param(
        ["load"],
        {},
        {"sergio-kit.toml": "tier_limits = 'read=0'\n"},
        f"sergio-kit.toml: tier_limits has value 'read=0': {TIER_PAIRS}",
        id="load-file-tier-limit-zero",
    ),
    pytest.param(
        ["load", "--fault", "ratelimit.read.boundary"],
        {**LIVE, **LIVE_LOGIN},
        {},
        "--fault only applies to the embedded server, but SERGIO_BASE_URL sets a live target: drop one of "
        "them",
        id="load-fault-on-a-live-target",
    ),
    pytest.param(
        ["load", "--worker", "--tier-limits", "read=5", "--ca-bundle", "ca.pem"],
        {},
        {},
        "a --worker takes its settings from its environment, not from --ca-bundle, --tier-limits: set "
        "SERGIO_CA_BUNDLE / SERGIO_TIER_LIMITS there, as on the master",
        id="load-worker-settings-options",
    ),
    pytest.param(
        ["record", "--ca-bundle", "missing.pem"],
        {},
        {},
        "--ca-bundle has value 'missing.pem': expected the path of an existing PEM file with the CA "
        "certificate(s) that signed the target's certificate (no such file)",
        id="record-ca-bundle-missing",
    ),
    pytest.param(
        ["record"],
        {**LIVE, "SERGIO_EMAIL": "qa@s.example"},
        {},
        "a live target (SERGIO_BASE_URL = https://s.example) needs a login, but password is not set: set "
        "SERGIO_PASSWORD; the environment is preferred for passwords",
        id="record-live-target-without-password",
    ),
    pytest.param(
        ["record", "--config", "nope.toml"],
        {},
        {},
        "--config has value 'nope.toml': the file does not exist; expected a TOML file such as "
        "sergio-kit.toml",
        id="record-config-missing",
    ),
    pytest.param(
        ["scan-cassettes", "."],
        {},
        {"sergio-kit.toml": "pasword = 'x'\n"},
        f"sergio-kit.toml has unknown key 'pasword': did you mean 'password'? expected one of {FILE_KEYS} "
        "(spelled with - or _)",
        id="scan-file-unknown-key",
    ),
    pytest.param(
        ["scan-cassettes", "."],
        {"SERGIO_OTHER_PASSWORD": "s3cret-other"},
        {},
        "SERGIO_OTHER_PASSWORD is set but other_email is not: the other tenant's login needs both; set "
        "SERGIO_OTHER_EMAIL, or remove SERGIO_OTHER_PASSWORD",
        id="scan-other-password-alone",
    ),
]


@pytest.mark.parametrize(("argv", "environ", "files", "message"), COMMAND_ERRORS)
def test_commands_give_one_line_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
    files: dict[str, str],
    message: str,
) -> None:
    """load, record and scan-cassettes stop on a bad setting with load_config's one line, exit 2."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    isolate_settings(monkeypatch, tmp_path, environ)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == f"sergio-kit: error: {message}\n"
    assert "s3cret" not in captured.out + captured.err


def test_scan_cassettes_looks_for_the_passwords_in_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """scan-cassettes looks for the password settings wherever they were given (here the config file
    and the environment), and never prints them."""
    write_toml(tmp_path / "sergio-kit.toml", {"password": "file-password-123"})
    (tmp_path / "tapes").mkdir()
    (tmp_path / "tapes" / "a.yaml").write_text("body: login with file-password-123\n")
    (tmp_path / "tapes" / "b.yaml").write_text("body: other tenant env-password-456\n")
    environ = {"SERGIO_OTHER_EMAIL": "o@s.example", "SERGIO_OTHER_PASSWORD": "env-password-456"}
    isolate_settings(monkeypatch, tmp_path, environ)
    assert main(["scan-cassettes", "tapes"]) == 1
    out = capsys.readouterr().out
    assert "a.yaml:1: password" in out and "b.yaml:1: password" in out
    assert "file-password-123" not in out and "env-password-456" not in out
    isolate_settings(monkeypatch, tmp_path / "tapes", {})  # no config file there, no variables: nothing known
    assert main(["scan-cassettes", "."]) == 0


def test_scan_cassettes_needs_no_login_for_a_live_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """scan-cassettes reaches no target: a live base URL in the config file (a lint job has no
    passwords) is no reason to refuse the scan; the commands that reach the target still need a login."""
    write_toml(tmp_path / "sergio-kit.toml", {"base_url": "https://staging.example"})
    (tmp_path / "tapes").mkdir()
    (tmp_path / "tapes" / "a.yaml").write_text("body: nothing secret\n")
    isolate_settings(monkeypatch, tmp_path, {})
    assert main(["scan-cassettes", "tapes"]) == 0
    assert "no secrets in tapes" in capsys.readouterr().out
    assert main(["record"]) == 2
    assert "needs a login" in capsys.readouterr().err


def test_tier_limits_reach_processes_through_the_environment() -> None:
    """The kit hands tier limits to its Locust processes as SERGIO_TIER_LIMITS, read by the one parser."""
    limits = {**DEFAULT_TIER_LIMITS, "read": 30, "bulk": 2}
    environ = tier_limits_environment(limits)
    assert environ == {"SERGIO_TIER_LIMITS": "auth=10,read=30,write=60,webhook=10,bulk=2"}
    assert tier_limits_from_environment(environ) == limits
    assert tier_limits_from_environment({}) == DEFAULT_TIER_LIMITS
    assert tier_limits_from_environment({"SERGIO_TIER_LIMITS": " read = 7 "})["read"] == 7
    with pytest.raises(SergioKitError, match=r"^SERGIO_TIER_LIMITS has value 'read=lots': expected tier=N"):
        tier_limits_from_environment({"SERGIO_TIER_LIMITS": "read=lots"})
