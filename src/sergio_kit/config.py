"""The kit's settings, with one precedence implemented in one function: :func:`load_config`.

CLI > environment (``SERGIO_*``) > config file > defaults. The config file is ``--config FILE`` /
``SERGIO_CONFIG`` when given, else ``sergio-kit.toml`` in the working directory, else the
``[tool.sergio-kit]`` table of its ``pyproject.toml``. File keys are the field names, spelled with
``-`` or ``_``. Every bad value ends in one :class:`~sergio_kit.errors.SergioKitError` line saying
where it came from, what was given, what is allowed and how to fix it. Secrets (passwords, the
API key, the signing secret, the test-clock token) are never shown: not in ``repr()``, not in errors.
The environment is the preferred home for secrets; a config file may hold them but is easy to commit.

:data:`SETTINGS` is the one table of settings: each row's environment variable, the commands that
offer it as an option (``sergio-kit check``, ``load``, ``record``, ``scan-cassettes``, and the pytest
plugin's ``--sergio-*``), its help text and whether it is a secret. The command lines, the plugin's
options and the README's settings table are all generated from it (or compared with it in a test).
"""

from __future__ import annotations

import difflib
import tomllib
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS, WINDOW_SECONDS
from sergio_kit.errors import SergioKitError

__all__ = [
    "COMMANDS",
    "CONFIG_FILE",
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_TIER_LIMITS",
    "FIELDS",
    "GROUPS",
    "MARKERS",
    "SECRETS",
    "SETTINGS",
    "KitConfig",
    "Setting",
    "command_labels",
    "command_settings",
    "load_config",
    "tier_limits_environment",
    "tier_limits_from_environment",
]

GROUPS = ("contract", "auth", "refresh", "apikey", "transport", "webhook", "ratelimit", "cassette")
MARKERS = (*GROUPS, "replay")  # pytest markers; `only` selects among GROUPS
CONFIG_FILE = "sergio-kit.toml"
PYPROJECT = "pyproject.toml"
ENV_PREFIX = "SERGIO_"
EXAMPLE_URL = "https://sergio.example.com"
DEFAULT_MAX_EXAMPLES = 25
#: Where settings can be given on a command line: the ``sergio-kit`` subcommands and the pytest plugin.
COMMANDS = ("check", "load", "record", "scan-cassettes", "pytest")


@dataclass(frozen=True)
class KitConfig:
    """The settings in force for one run. ``base_url is None`` means: start the embedded server."""

    base_url: str | None = None
    ca_bundle: Path | None = None
    email: str | None = None
    password: str | None = field(default=None, repr=False)
    other_email: str | None = None
    other_password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    jwt_secret: str | None = field(default=None, repr=False)  # enables the forged-token checks
    http_url: str | None = None  # plain-HTTP address to probe; default: base_url with http://
    clock_url: str | None = None
    clock_token: str | None = field(default=None, repr=False)
    receiver_cert: Path | None = None  # PEM (key + chain) the target trusts, for the kit's webhook receiver
    max_examples: int = DEFAULT_MAX_EXAMPLES
    tier_limits: Mapping[str, int] = field(default_factory=lambda: DEFAULT_TIER_LIMITS)  # every tier
    only: tuple[str, ...] = GROUPS
    cassettes: Path = Path("fixtures/cassettes")  # recorded exchanges the cassette group replays
    report_dir: Path = Path("reports")
    config_file: Path | None = None  # the file layer that was read, if any
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def embedded(self) -> bool:
        """True when no base URL is set: the kit starts the embedded reference server."""
        return self.base_url is None

    def marker_expression(self) -> str | None:
        """The pytest ``-m`` expression selecting :attr:`only`, or ``None`` when every group runs."""
        if set(self.only) == set(GROUPS):
            return None
        return " or ".join(self.only)

    def summary(self) -> list[str]:
        """The settings in force, one per line, for headers and logs; secrets only as set/not set."""
        lines = [f"target: {self.base_url or 'embedded reference server (TLS, test clock on)'}"]
        if not self.embedded:
            lines.append(f"CA bundle: {self.ca_bundle or 'system trust store'}")
            lines.append(f"plain-HTTP probe: {self.http_url}")
            lines.append(f"account: {self.email}; other tenant: {self.other_email or 'not set'}")
            lines.append(f"test clock: {self.clock_url or 'not set'}")
            secrets = ", ".join(
                f"{name} {'set' if getattr(self, name) else 'not set'}" for name in ("api_key", "jwt_secret")
            )
            lines.append(f"secrets: {secrets}")
        lines.append(f"groups: {', '.join(self.only)}; max examples: {self.max_examples}")
        if dict(self.tier_limits) != dict(DEFAULT_TIER_LIMITS):
            limits = ", ".join(f"{tier} {n}" for tier, n in self.tier_limits.items())
            lines.append(f"tier limits (per {WINDOW_SECONDS} s): {limits}")
        if self.config_file is not None:
            lines.append(f"config file: {self.config_file}")
        return lines


FIELDS = tuple(f.name for f in fields(KitConfig) if f.name not in ("config_file", "sources"))


# --- the settings table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One row of :data:`SETTINGS`: a setting, where it may be given, and what it means."""

    name: str  # the KitConfig field, or "config" (the config file itself)
    meaning: str  # what it is, for --help and the README
    default: str  # what holds when it is not given, in words ("" when it is simply not set)
    metavar: str
    commands: frozenset[str]  # the COMMANDS offering it as an option
    secret: bool = False  # never shown; best kept in the environment
    spelling: str = ""  # how the sergio-kit subcommands spell the option, when not --<name>

    @property
    def env(self) -> str:
        """Its environment variable, ``SERGIO_<NAME>``."""
        return ENV_PREFIX + self.name.upper()

    def option(self, command: str) -> str:
        """Its option on ``command``'s command line: ``--sergio-<name>`` in pytest, else ``--<name>``."""
        dashed = self.name.replace("_", "-")
        if command == "pytest":
            return "--sergio-" + dashed
        return self.spelling or "--" + dashed

    @property
    def help(self) -> str:
        """The help text of its option: the meaning, the environment variable and the default."""
        default = f"; default: {self.default}" if self.default else ""
        text = f"{self.meaning} (or {self.env}{default})"
        if self.secret:
            text += "; prefer the environment: a command line is visible to other users"
        return text


def _setting(
    name: str,
    meaning: str,
    default: str,
    metavar: str,
    commands: tuple[str, ...],
    *,
    secret: bool = False,
    spelling: str = "",
) -> Setting:
    return Setting(name, meaning, default, metavar, frozenset(commands), secret, spelling)


def _limits_text(limits: Mapping[str, int]) -> str:
    """``auth=10,read=120,...``: tier limits as ``--tier-limits`` / ``SERGIO_TIER_LIMITS`` take them."""
    return ",".join(f"{tier}={limit}" for tier, limit in limits.items())


_TARGET = ("check", "load", "record", "pytest")  # the commands that aim at a target
_CHECKS = ("check", "pytest")  # the commands that run checks

#: Every setting, in the order of ``--help`` and the README: one row per KitConfig field, plus the
#: config file. ``load`` and ``record`` take the login from the environment or the config file.
SETTINGS: tuple[Setting, ...] = (
    _setting(
        "config",
        "TOML settings file; precedence: options > SERGIO_* environment > file > defaults",
        f"{CONFIG_FILE}, else [tool.sergio-kit] in {PYPROJECT}",
        "FILE",
        COMMANDS,
    ),
    _setting(
        "base_url",
        "HTTPS base URL of a live target, e.g. https://staging.sergio.example",
        "start the embedded reference server on loopback",
        "URL",
        _TARGET,
    ),
    _setting(
        "ca_bundle",
        "PEM CA bundle that signed the target's certificate; certificates are always verified",
        "the system trust store",
        "PEM",
        _TARGET,
    ),
    _setting("email", "admin login email; required with a base URL", "", "EMAIL", _CHECKS),
    _setting(
        "password", "that admin's password; required with a base URL", "", "PASSWORD", _CHECKS, secret=True
    ),
    _setting(
        "other_email",
        "admin email of a second tenant, for cross-tenant checks; needs its password too",
        "those checks skip",
        "EMAIL",
        _CHECKS,
    ),
    _setting("other_password", "the second tenant's admin password", "", "PASSWORD", _CHECKS, secret=True),
    _setting(
        "api_key", "an API key for the API-key checks", "one the kit creates", "KEY", ("pytest",), secret=True
    ),
    _setting(
        "jwt_secret",
        "the target's JWT signing secret; enables the forged-token checks",
        "those checks skip",
        "SECRET",
        ("pytest",),
        secret=True,
    ),
    _setting("http_url", "plain-HTTP address to probe", "the base URL with http://", "URL", ("pytest",)),
    _setting(
        "clock_url",
        "the target's test-clock URL, for clock-dependent checks; needs the clock token too",
        "those checks skip",
        "URL",
        ("pytest",),
    ),
    _setting("clock_token", "the target's test-clock token", "", "TOKEN", ("pytest",), secret=True),
    _setting(
        "receiver_cert",
        "key + certificate chain the target trusts, for the kit's webhook receiver on this machine",
        "the embedded server issues one; else the webhook checks skip",
        "PEM",
        _CHECKS,
    ),
    _setting(
        "max_examples",
        "Hypothesis examples per operation in the contract run",
        str(DEFAULT_MAX_EXAMPLES),
        "N",
        _CHECKS,
    ),
    _setting(
        "tier_limits",
        f"the target's quotas per {WINDOW_SECONDS} s where they differ from the published "
        f"{_limits_text(DEFAULT_TIER_LIMITS)}, e.g. read=100; the embedded server is started with them",
        "the published ones",
        "TIER=N,...",
        ("check", "load", "pytest"),
    ),
    _setting(
        "only",
        f"check groups to run, comma-separated: {', '.join(GROUPS)}; in pytest, select them with -m",
        "all",
        "GROUP[,GROUP]",
        ("check",),
    ),
    _setting(
        "cassettes",
        "recorded cassettes the cassette group replays against the contract and scans for secrets",
        "fixtures/cassettes",
        "FOLDER",
        _CHECKS,
    ),
    _setting("report_dir", "folder for the reports", "reports", "FOLDER", ("check",), spelling="--report"),
)
SECRETS = frozenset(setting.name for setting in SETTINGS if setting.secret)


def command_settings(command: str) -> tuple[Setting, ...]:
    """The settings ``command`` (one of :data:`COMMANDS`) offers as options, in table order."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}: expected one of {', '.join(COMMANDS)}")
    return tuple(setting for setting in SETTINGS if command in setting.commands)


def command_labels(command: str) -> dict[str, str]:
    """Setting name -> ``command``'s option for it (``load_config``'s ``cli_labels``)."""
    return {setting.name: setting.option(command) for setting in command_settings(command)}


@dataclass(frozen=True)
class _Given:
    """One raw value and where it came from (for messages and relative paths)."""

    name: str  # the KitConfig field
    label: str  # --base-url, SERGIO_BASE_URL, sergio-kit.toml: base_url
    value: Any
    base_dir: Path  # relative paths are resolved against this


def load_config(
    cli: Mapping[str, Any],
    environ: Mapping[str, str],
    cwd: Path,
    *,
    cli_labels: Mapping[str, str] | None = None,
    require_login: bool = True,
) -> KitConfig:
    """Resolve every setting: CLI > ``SERGIO_*`` environment > config file > default.

    ``cli`` maps field names (and ``config``) to values, ``None`` meaning not given; other keys are
    ignored. Empty environment variables count as unset. ``cli_labels`` maps each setting the
    command line offers to its option, for messages (default: ``sergio-kit check``'s, see
    :func:`command_labels`); a setting it does not offer is never suggested as an option.
    ``require_login=False`` lets a live target go without ``email``/``password`` (``load`` given its
    accounts in ``SERGIO_LOAD_ACCOUNTS``).
    """
    labels = command_labels("check") if cli_labels is None else dict(cli_labels)

    def cli_label(name: str) -> str:
        return labels.get(name, "--" + name.replace("_", "-"))

    config_file, file_layer = _file_layer(cli.get("config"), cli_label("config"), environ, cwd)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in FIELDS:
        given = _pick(name, cli, environ, file_layer, cli_label(name), cwd)
        if given is None:
            continue
        values[name] = _PARSERS[name](given)
        sources[name] = given.label
    _check_combinations(values, sources, labels, require_login=require_login)
    if values.get("base_url") and "http_url" not in values:
        values["http_url"] = _with_scheme(values["base_url"], "http")
        sources["http_url"] = "derived from the base URL"
    values.setdefault("report_dir", cwd / "reports")
    values.setdefault("cassettes", cwd / "fixtures" / "cassettes")
    return KitConfig(**values, config_file=config_file, sources=types.MappingProxyType(sources))


def _pick(
    name: str,
    cli: Mapping[str, Any],
    environ: Mapping[str, str],
    file_layer: Mapping[str, _Given],
    label: str,
    cwd: Path,
) -> _Given | None:
    """The highest-precedence value given for ``name``, or ``None``."""
    if cli.get(name) is not None:
        return _Given(name, label, cli[name], cwd)
    env = ENV_PREFIX + name.upper()
    if environ.get(env):
        return _Given(name, env, environ[env], cwd)
    return file_layer.get(name)


# --- the config file ---------------------------------------------------------------------------


def _file_layer(
    explicit: Any, cli_label: str, environ: Mapping[str, str], cwd: Path
) -> tuple[Path | None, dict[str, _Given]]:
    """The config file in force and its settings, keyed by field name."""
    env = ENV_PREFIX + "CONFIG"
    if explicit is not None or environ.get(env):
        label, value = (cli_label, explicit) if explicit is not None else (env, environ[env])
        path = cwd / Path(value)
        if not path.is_file():
            raise SergioKitError(
                f"{label} has value {str(value)!r}: the file does not exist; expected a TOML file "
                f"such as {CONFIG_FILE}"
            )
        required = path.name == PYPROJECT
    elif (cwd / CONFIG_FILE).is_file():
        path, required = cwd / CONFIG_FILE, False
    elif (cwd / PYPROJECT).is_file():
        path, required = cwd / PYPROJECT, False
    else:
        return None, {}
    document = _read_toml(path, cwd)
    display = _display(path, cwd)
    if path.name == PYPROJECT:
        table = document.get("tool", {}).get("sergio-kit")
        if table is None:
            if required:
                raise SergioKitError(
                    f"{display} has no [tool.sergio-kit] table: add one, or point {cli_label} at a "
                    f"{CONFIG_FILE}"
                )
            return None, {}
        prefix = f"{display} [tool.sergio-kit]"
        if not isinstance(table, dict):
            raise SergioKitError(f"{prefix} is not a table: write it as [tool.sergio-kit] with key = value")
    else:
        table, prefix = document, display
    return path, _file_settings(table, prefix, path.parent)


def _read_toml(path: Path, cwd: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise SergioKitError(f"{_display(path, cwd)} is not valid TOML: {error}; fix that line") from None
    except OSError as error:
        raise SergioKitError(f"cannot read {_display(path, cwd)}: {error.strerror}") from None


def _file_settings(table: Mapping[str, Any], prefix: str, base_dir: Path) -> dict[str, _Given]:
    settings: dict[str, _Given] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in FIELDS:
            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SergioKitError(
                f"{prefix} has unknown key {key!r}: {hint}expected one of {', '.join(FIELDS)} "
                "(spelled with - or _)"
            )
        if name in settings:
            raise SergioKitError(
                f"{prefix} sets {name!r} twice ({settings[name].label.rsplit(': ', 1)[-1]!r} and "
                f"{key!r}): keep one"
            )
        settings[name] = _Given(name, f"{prefix}: {key}", value, base_dir)
    return settings


def _display(path: Path, cwd: Path) -> str:
    """``path`` as the user most likely wrote it: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


# --- typed getters -----------------------------------------------------------------------------


def _bad(given: _Given, expected: str) -> SergioKitError:
    """The one-line error for a bad value (the value itself is hidden for secrets)."""
    if given.name in SECRETS:
        return SergioKitError(f"{given.label} has a value that is not allowed: expected {expected}")
    shown = str(given.value) if isinstance(given.value, Path) else given.value
    return SergioKitError(f"{given.label} has value {shown!r}: expected {expected}")


def _text(given: _Given, what: str) -> str:
    if isinstance(given.value, Path):
        return str(given.value)
    if not isinstance(given.value, str) or not given.value.strip():
        raise _bad(given, what)
    return given.value.strip()


def _string(what: str) -> Callable[[_Given], str]:
    return lambda given: _text(given, what)


def _url(scheme: str, what: str) -> Callable[[_Given], str]:
    def parse(given: _Given) -> str:
        text = _text(given, what)
        parts = urlsplit(text)
        if parts.scheme.lower() != scheme or not parts.hostname or parts.query or parts.fragment:
            raise _bad(given, what)
        return text.rstrip("/")

    return parse


def _email(given: _Given) -> str:
    text = _text(given, "an email address such as qa@example.com")
    if "@" not in text.strip("@"):
        raise _bad(given, "an email address such as qa@example.com")
    return text


def _existing_file(given: _Given) -> Path:
    what = "the path of an existing PEM file with the CA certificate(s) that signed the target's certificate"
    path = given.base_dir / Path(_text(given, what))
    if not path.is_file():
        raise _bad(given, what + " (no such file)")
    return path


def _directory(given: _Given) -> Path:
    return given.base_dir / Path(_text(given, "a folder path for the reports"))


def _cassette_folder(given: _Given) -> Path:
    what = "the folder of the recorded cassettes (sergio-kit record --out)"
    return given.base_dir / Path(_text(given, what))


def _positive_int(given: _Given) -> int:
    what = f"a whole number of at least 1 (Hypothesis examples per operation, default {DEFAULT_MAX_EXAMPLES})"
    value = given.value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad(given, what)
    return value


def _groups(given: _Given) -> tuple[str, ...]:
    what = f"a comma-separated list of groups from: {', '.join(GROUPS)}"
    value = given.value
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise _bad(given, what)
    chosen: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _bad(given, what)
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
        raise _bad(given, what)
    return tuple(group for group in GROUPS if group in chosen)


def _tier_limits(given: _Given) -> Mapping[str, int]:
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
        raise _bad(given, what)
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
            raise _bad(given, what)
        limits[name] = number
    if not pairs:
        raise _bad(given, what)
    return types.MappingProxyType(limits)


def tier_limits_from_environment(environ: Mapping[str, str]) -> Mapping[str, int]:
    """The tier limits ``SERGIO_TIER_LIMITS`` sets in ``environ`` (the published ones when unset).

    The environment layer alone, no config file: how a Locust process of ``sergio-kit load`` (its
    own child, or a ``--worker`` on another machine) learns the limits of the run.
    """
    given = _pick("tier_limits", {}, environ, {}, "", Path())
    return DEFAULT_TIER_LIMITS if given is None else _tier_limits(given)


def tier_limits_environment(limits: Mapping[str, int]) -> dict[str, str]:
    """The variable handing ``limits`` to a process that reads :func:`tier_limits_from_environment`."""
    return {ENV_PREFIX + "TIER_LIMITS": _limits_text(limits)}


_PARSERS: dict[str, Callable[[_Given], Any]] = {
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
    "tier_limits": _tier_limits,
    "only": _groups,
    "cassettes": _cassette_folder,
    "report_dir": _directory,
}


# --- settings that go together -----------------------------------------------------------------


def _check_combinations(
    values: Mapping[str, Any], sources: Mapping[str, str], labels: Mapping[str, str], *, require_login: bool
) -> None:
    def ways(name: str) -> str:
        option = f" (or {labels[name]})" if name in labels else ""
        return f"{ENV_PREFIX}{name.upper()}{option}"

    if values.get("base_url") and require_login:
        missing = [name for name in ("email", "password") if not values.get(name)]
        if missing:
            raise SergioKitError(
                f"a live target ({sources['base_url']} = {values['base_url']}) needs a login, but "
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: set "
                f"{' and '.join(ways(name) for name in missing)}; the environment is preferred for "
                "passwords"
            )
    for first, second, what in (
        ("other_email", "other_password", "the other tenant's login"),
        ("clock_url", "clock_token", "the test clock"),
    ):
        if bool(values.get(first)) != bool(values.get(second)):
            given, missing_name = (first, second) if values.get(first) else (second, first)
            raise SergioKitError(
                f"{sources[given]} is set but {missing_name} is not: {what} needs both; set "
                f"{ways(missing_name)}, or remove {sources[given]}"
            )


def _with_scheme(url: str, scheme: str) -> str:
    """``url`` with another scheme, same host, port and path."""
    return urlunsplit(urlsplit(url)._replace(scheme=scheme))
