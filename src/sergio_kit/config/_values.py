"""Typed parsers of the settings' raw values, each failing with one line that says how to fix it."""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sergio_kit.config._model import (
    CHECK_LEVELS,
    DEFAULT_MAX_EXAMPLES,
    ENV_PREFIX,
    EXAMPLE_URL,
    GROUPS,
    SAMPLE_FIELDS,
    KitConfig,
)
from sergio_kit.config._table import SECRETS, limits_text
from sergio_kit.config._thresholds import parse_load_thresholds
from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS
from sergio_kit.contract.samples import DEFAULT_SAMPLES, Samples
from sergio_kit.errors import SergioKitError


@dataclass(frozen=True)
class Given:
    """One raw value and where it came from (for messages and relative paths)."""

    name: str  # the KitConfig field
    label: str  # --base-url, SERGIO_BASE_URL, sergio-kit.toml: base_url
    value: Any
    base_dir: Path  # relative paths are resolved against this


def bad_value(given: Given, expected: str) -> SergioKitError:
    """The one-line error for a bad value (the value itself is hidden for secrets)."""
    if given.name in SECRETS:
        return SergioKitError(f"{given.label} has a value that is not allowed: expected {expected}")
    shown = str(given.value) if isinstance(given.value, Path) else given.value
    return SergioKitError(f"{given.label} has value {shown!r}: expected {expected}")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _text(given: Given, what: str) -> str:
    if isinstance(given.value, Path):
        return str(given.value)
    if not isinstance(given.value, str) or not given.value.strip():
        raise bad_value(given, what)
    return given.value.strip()


def _string(what: str) -> Callable[[Given], str]:
    return lambda given: _text(given, what)


def _url(scheme: str, what: str) -> Callable[[Given], str]:
    def parse(given: Given) -> str:
        text = _text(given, what)
        parts = urlsplit(text)
        if parts.scheme.lower() != scheme or not parts.hostname or parts.query or parts.fragment:
            raise bad_value(given, what)
        return text.rstrip("/")

    return parse


def _email(given: Given) -> str:
    text = _text(given, "an email address such as qa@example.com")
    if "@" not in text.strip("@"):
        raise bad_value(given, "an email address such as qa@example.com")
    return text


def _existing_file(given: Given) -> Path:
    what = "the path of an existing PEM file with the CA certificate(s) that signed the target's certificate"
    path = given.base_dir / Path(_text(given, what))
    if not path.is_file():
        raise bad_value(given, what + " (no such file)")
    return path


def _pem_file(kinds: tuple[str, ...], what: str) -> Callable[[Given], Path]:
    """The path of an existing PEM file holding one of ``kinds`` (``PRIVATE KEY``, ``PUBLIC KEY``...)."""

    def parse(given: Given) -> Path:
        path = given.base_dir / Path(_text(given, what))
        if not path.is_file():
            raise bad_value(given, what + " (no such file)")
        head = path.read_bytes()[:4096]
        if not any(f"-----BEGIN {kind}-----".encode() in head for kind in kinds):
            raise bad_value(given, what + f" (no -----BEGIN {kinds[0]}----- block in it)")
        return path

    return parse


def _contract(given: Given) -> Path | str:
    """An ``https://`` URL of the contract (kept as text), or the path of an existing file."""
    what = "the path of an existing OpenAPI file, or an https:// URL of one"
    text = _text(given, what)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme == "https":
        if not urlsplit(text).hostname:
            raise bad_value(given, what)
        return text
    if scheme:
        raise bad_value(given, f"{what} ({scheme}:// is not allowed: contracts are fetched over HTTPS only)")
    path = given.base_dir / Path(text)
    if not path.is_file():
        raise bad_value(given, what + " (no such file)")
    return path


def _bind_address(given: Given) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 host in brackets) as ``(host, port)``; port 0 picks a free one."""
    what = "HOST:PORT to listen on, such as 127.0.0.1:8444 or [::1]:8444 (port 0 to 65535)"
    host, colon, port = _text(given, what).rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise bad_value(given, what)
    return host, int(port)


def _address(given: Given) -> Mapping[str, str]:
    """A job address: a JSON object (the environment, an option) or a table (a config file) of
    non-empty strings, such as the contract's ``street``, ``city``, ``state`` and ``zip``."""
    what = 'a JSON object of strings such as {"street": "1 High St", "city": "Springfield", "state": "IL", '
    what += '"zip": "62701"}'
    value = given.value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_value(given, what) from None
    if not isinstance(value, dict) or not value:
        raise bad_value(given, what)
    if not all(isinstance(item, str) and item.strip() for item in value.values()):
        raise bad_value(given, what + " (every part a non-empty string)")
    return types.MappingProxyType({str(key): item for key, item in value.items()})


def _directory(given: Given) -> Path:
    return given.base_dir / Path(_text(given, "a folder path for the reports"))


def _cassette_folder(given: Given) -> Path:
    what = "the folder of the recorded cassettes (sergio-kit record --out)"
    return given.base_dir / Path(_text(given, what))


def _positive_int(given: Given) -> int:
    what = f"a whole number of at least 1 (Hypothesis examples per operation, default {DEFAULT_MAX_EXAMPLES})"
    value = given.value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_value(given, what)
    return value


def _groups(given: Given) -> tuple[str, ...]:
    what = f"a comma-separated list of groups from: {', '.join(GROUPS)}"
    value = given.value
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise bad_value(given, what)
    chosen: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise bad_value(given, what)
        group = item.strip().lower()
        if not group:
            continue
        if group not in GROUPS:
            raise SergioKitError(
                f"{given.label} has value {value!r}: unknown group {group!r}{did_you_mean(group, GROUPS)}; "
                f"expected {what}"
            )
        chosen.append(group)
    if not chosen:
        raise bad_value(given, what)
    return tuple(group for group in GROUPS if group in chosen)


def parse_tier_limits(given: Given) -> Mapping[str, int]:
    """``"read=100,write=50"`` (or a TOML table) on top of :data:`DEFAULT_TIER_LIMITS`."""
    what = f"tier=N pairs such as read=100,write=50 (tiers: {', '.join(DEFAULT_TIER_LIMITS)}; N at least 1)"
    value = given.value
    pairs: list[tuple[Any, Any]]
    if isinstance(value, str):
        pairs = []
        for part in value.split(","):
            tier, _, count = part.partition("=")
            if tier.strip() or count.strip():
                pairs.append((tier.strip(), count.strip()))
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise bad_value(given, what)
    limits = dict(DEFAULT_TIER_LIMITS)
    for tier, count in pairs:
        name = str(tier).lower()
        if name not in DEFAULT_TIER_LIMITS:
            hint = did_you_mean(name, DEFAULT_TIER_LIMITS)
            raise SergioKitError(
                f"{given.label} has value {value!r}: unknown tier {tier!r}{hint}; expected {what}"
            )
        number: Any = int(count) if isinstance(count, str) and count.isdigit() else count
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise bad_value(given, what)
        limits[name] = number
    if not pairs:
        raise bad_value(given, what)
    return types.MappingProxyType(limits)


LEVELS_EXPECTED = (
    f"ID=LEVEL pairs such as auth.login.shape=ignore, with LEVEL one of {', '.join(CHECK_LEVELS)} "
    "(the ids: sergio-kit check --list-checks)"
)
CHECK_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


def parse_check_levels(given: Given) -> Mapping[str, str]:
    """Check id -> level, from ``"ID=LEVEL,ID=LEVEL"`` (the environment), a list of ``ID=LEVEL`` (a
    repeated option) or a TOML table (``[checks]``, quoted or dotted ids). Ids are checked here for
    their shape (``group.name``, a known group); whether such a check exists is checked where the
    suite starts, against the check registry."""
    levels: dict[str, str] = {}
    for raw_id, raw_level, shown in _level_entries(given):
        check_id, level = raw_id.strip().lower(), str(raw_level).strip().lower()
        if not isinstance(raw_level, str) or level not in CHECK_LEVELS:
            problem = f"unknown level {raw_level!r}{did_you_mean(level, CHECK_LEVELS)}"
            raise _bad_entry(given, shown, problem)
        if not CHECK_ID.fullmatch(check_id):
            raise _bad_entry(given, shown, f"{raw_id.strip()!r} is not a check id (group.name)")
        group = check_id.split(".", 1)[0]
        if group not in GROUPS:
            problem = f"unknown group {group!r}{did_you_mean(group, GROUPS)} in check {check_id!r}"
            raise _bad_entry(given, shown, problem)
        if check_id in levels:
            raise SergioKitError(f"{given.label} sets the level of {check_id!r} twice: keep one")
        levels[check_id] = level
    return types.MappingProxyType(levels)


def _level_entries(given: Given) -> list[tuple[str, Any, str]]:
    """``(check id, level, the entry as given)`` for every entry of a check-levels value."""
    value = given.value
    if isinstance(value, dict):
        return [(check_id, level, f"{check_id}={level}") for check_id, level in _flatten(value).items()]
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list | tuple) or not all(isinstance(text, str) for text in texts):
        raise bad_value(given, LEVELS_EXPECTED)
    entries: list[tuple[str, Any, str]] = []
    for part in (part.strip() for text in texts for part in text.split(",")):
        if not part:
            continue
        check_id, equals, level = part.partition("=")
        if not equals:
            raise _bad_entry(given, part, "the level is missing")
        entries.append((check_id, level, part))
    if not entries:
        raise bad_value(given, LEVELS_EXPECTED)
    return entries


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A TOML table with its dotted keys (``auth.login.shape = "warn"`` nests) joined again."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _bad_entry(given: Given, entry: str, problem: str) -> SergioKitError:
    return SergioKitError(f"{given.label} has value {entry!r}: {problem}; expected {LEVELS_EXPECTED}")


TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("0", "false", "no")


def _boolean(given: Given) -> bool:
    value = given.value
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise bad_value(
        given, f"true or false (in the environment {', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)})"
    )


def tier_limits_from_environment(environ: Mapping[str, str]) -> Mapping[str, int]:
    """The tier limits ``SERGIO_TIER_LIMITS`` sets in ``environ`` (the published ones when unset).

    The environment layer alone, no config file: how a Locust process of ``sergio-kit load`` (its
    own child, or a ``--worker`` on another machine) learns the limits of the run.
    """
    variable = ENV_PREFIX + "TIER_LIMITS"
    if not environ.get(variable):
        return DEFAULT_TIER_LIMITS
    return parse_tier_limits(Given("tier_limits", variable, environ[variable], Path()))


def tier_limits_environment(limits: Mapping[str, int]) -> dict[str, str]:
    """The variable handing ``limits`` to a process that reads :func:`tier_limits_from_environment`."""
    return {ENV_PREFIX + "TIER_LIMITS": limits_text(limits)}


def samples_from_environment(environ: Mapping[str, str]) -> Samples:
    """The sample data the ``SERGIO_SAMPLE_*`` variables of ``environ`` set, the published example's
    elsewhere: how a Locust process of ``sergio-kit load`` learns the run's (environment only)."""
    chosen: dict[str, Any] = {}
    for name in SAMPLE_FIELDS:
        variable = ENV_PREFIX + name.upper()
        if environ.get(variable):
            chosen[name.removeprefix("sample_")] = PARSERS[name](
                Given(name, variable, environ[variable], Path())
            )
    return replace(DEFAULT_SAMPLES, **chosen)


def samples_environment(settings: KitConfig) -> dict[str, str]:
    """The ``SERGIO_SAMPLE_*`` variables handing the sample settings of ``settings`` to a process that
    reads :func:`samples_from_environment`."""
    env = {}
    for name in SAMPLE_FIELDS:
        value = getattr(settings, name)
        if value is not None:
            env[ENV_PREFIX + name.upper()] = (
                json.dumps(dict(value)) if isinstance(value, Mapping) else str(value)
            )
    return env


PARSERS: dict[str, Callable[[Given], Any]] = {
    "base_url": _url("https", f"an https:// URL such as {EXAMPLE_URL}"),
    "ca_bundle": _existing_file,
    "contract": _contract,
    "email": _email,
    "password": _string("a non-empty password string"),
    "other_email": _email,
    "other_password": _string("a non-empty password string"),
    "member_email": _email,
    "member_password": _string("a non-empty password string"),
    "api_key": _string("a non-empty API key string"),
    "read_only_api_key": _string("a non-empty API key string"),
    "jwt_secret": _string("the target's non-empty JWT signing secret"),
    "jwt_private_key": _pem_file(
        ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"), "the path of a PEM file with a private key"
    ),
    "jwt_public_key": _pem_file(
        ("PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE"), "the path of a PEM file with a public key"
    ),
    "jwks_url": _url("https", f"an https:// URL such as {EXAMPLE_URL}/.well-known/jwks.json"),
    "http_url": _url("http", "an http:// URL such as http://sergio.example.com"),
    "clock_url": _url("https", f"an https:// URL such as {EXAMPLE_URL}/_sergio/clock"),
    "clock_token": _string("a non-empty test-clock token"),
    "receiver_cert": _existing_file,
    "receiver_url": _url(
        "https", "the https:// URL the target should deliver to, such as https://hooks.example.com/sergio"
    ),
    "receiver_bind": _bind_address,
    "sample_customer_id": _string("a non-empty customer id such as cust_def456"),
    "sample_service_type": _string("a non-empty service type such as exterior_windows"),
    "sample_address": _address,
    "sample_webhook_sink": _url("https", "an https:// URL such as https://127.0.0.1:9/sergio-kit"),
    "max_examples": _positive_int,
    "max_duration": _positive_int,
    "tier_limits": parse_tier_limits,
    "only": _groups,
    "cassettes": _cassette_folder,
    "report_dir": _directory,
    "check_levels": parse_check_levels,
    "strict": _boolean,
    "load_thresholds": parse_load_thresholds,
}
