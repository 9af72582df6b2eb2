"""Typed parsers of the settings' raw values, each failing with one line that says how to fix it."""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sergio_kit.config._model import DEFAULT_MAX_EXAMPLES, ENV_PREFIX, EXAMPLE_URL, GROUPS
from sergio_kit.config._table import SECRETS, limits_text
from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS
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
            close = difflib.get_close_matches(group, GROUPS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SergioKitError(
                f"{given.label} has value {value!r}: unknown group {group!r}{hint}; expected {what}"
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
            close = difflib.get_close_matches(name, DEFAULT_TIER_LIMITS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
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


PARSERS: dict[str, Callable[[Given], Any]] = {
    "base_url": _url("https", f"an https:// URL such as {EXAMPLE_URL}"),
    "ca_bundle": _existing_file,
    "email": _email,
    "password": _string("a non-empty password string"),
    "other_email": _email,
    "other_password": _string("a non-empty password string"),
    "api_key": _string("a non-empty API key string"),
    "jwt_secret": _string("the target's non-empty JWT signing secret"),
    "http_url": _url("http", "an http:// URL such as http://sergio.example.com"),
    "clock_url": _url("https", f"an https:// URL such as {EXAMPLE_URL}/_sergio/clock"),
    "clock_token": _string("a non-empty test-clock token"),
    "receiver_cert": _existing_file,
    "max_examples": _positive_int,
    "tier_limits": parse_tier_limits,
    "only": _groups,
    "cassettes": _cassette_folder,
    "report_dir": _directory,
}
