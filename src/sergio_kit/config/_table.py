"""The settings table: each setting's variable, the commands that offer it, its help, and secrecy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sergio_kit.config._model import (
    CONFIG_FILE,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_RECEIVER_BIND,
    ENV_PREFIX,
    GROUPS,
    PYPROJECT,
)
from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS, WINDOW_SECONDS
from sergio_kit.contract.samples import DEFAULT_SAMPLES

#: Where settings can be given on a command line: the ``sergio-kit`` subcommands and the pytest plugin.
COMMANDS = ("check", "load", "record", "scan-cassettes", "replay-cassettes", "pytest")

#: How an option takes its setting: one value, a value per use (a list), or no value (a flag).
Kind = Literal["value", "repeatable", "flag"]


@dataclass(frozen=True)
class Setting:
    """One row of :data:`SETTINGS`: a setting, where it may be given, and what it means."""

    name: str  # the KitConfig field, or "config" (the config file itself)
    meaning: str  # what it is, for --help and the README
    default: str  # what holds when it is not given, in words ("" when it is simply not set)
    metavar: str  # "" for a flag
    commands: frozenset[str]  # the COMMANDS offering it as an option
    secret: bool = False  # never shown; best kept in the environment
    spelling: str = ""  # how the option is spelled, when not --<name> (in pytest: --sergio-<spelling>)
    kind: Kind = "value"

    @property
    def env(self) -> str:
        """Its environment variable, ``SERGIO_<NAME>``."""
        return ENV_PREFIX + self.name.upper()

    def option(self, command: str) -> str:
        """Its option on ``command``'s command line: ``--sergio-<name>`` in pytest, else ``--<name>``."""
        option = self.spelling or "--" + self.name.replace("_", "-")
        return "--sergio-" + option[2:] if command == "pytest" else option

    def option_arguments(self) -> dict[str, Any]:
        """Its option's keyword arguments but ``dest``, for argparse's ``add_argument`` and pytest's
        ``addoption`` alike: ``None`` when not given, else the value, a list of the values of a
        repeatable option, or ``True`` for a flag."""
        if self.kind == "flag":
            return {"action": "store_true", "default": None, "help": self.help}
        arguments: dict[str, Any] = {"default": None, "metavar": self.metavar, "help": self.help}
        if self.kind == "repeatable":
            arguments["action"] = "append"
        return arguments

    @property
    def help(self) -> str:
        """The help text of its option: the meaning, the environment variable and the default."""
        default = f"; default: {self.default}" if self.default else ""
        text = f"{self.meaning} (or {self.env}{default})"
        if self.secret:
            text += "; prefer the environment: a command line is visible to other users"
        return text


def limits_text(limits: Mapping[str, int]) -> str:
    """``auth=10,read=120,...``: tier limits as ``--tier-limits`` / ``SERGIO_TIER_LIMITS`` take them."""
    return ",".join(f"{tier}={limit}" for tier, limit in limits.items())


_TARGET = frozenset({"check", "load", "record", "pytest"})  # the commands that aim at a target
_CHECKS = frozenset({"check", "pytest"})  # the commands that run checks
_PYTEST = frozenset({"pytest"})

#: Every setting, in the order of ``--help`` and the README: one row per KitConfig field, plus the
#: config file. ``load`` and ``record`` take the login from the environment or the config file.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "config",
        "TOML settings file; precedence: options > SERGIO_* environment > file > defaults",
        f"{CONFIG_FILE}, else [tool.sergio-kit] in {PYPROJECT}",
        "FILE",
        frozenset(COMMANDS),
    ),
    Setting(
        "base_url",
        "HTTPS base URL of a live target, e.g. https://staging.sergio.example",
        "start the embedded reference server on loopback",
        "URL",
        _TARGET,
    ),
    Setting(
        "ca_bundle",
        "PEM CA bundle that signed the target's certificate; certificates are always verified",
        "the system trust store",
        "PEM",
        _TARGET,
    ),
    Setting(
        "contract",
        "the target's own OpenAPI contract, a file or an https:// URL: the checks send only what it "
        "declares and skip, naming it, what it lacks",
        "the packaged contracts/sergio.openapi.yaml",
        "PATH|URL",
        frozenset({"check", "record", "replay-cassettes", "pytest"}),
    ),
    Setting("email", "admin login email; required with a base URL", "", "EMAIL", _CHECKS),
    Setting(
        "password", "that admin's password; required with a base URL", "", "PASSWORD", _CHECKS, secret=True
    ),
    Setting(
        "other_email",
        "admin email of a second tenant, for cross-tenant checks; needs its password too",
        "those checks skip",
        "EMAIL",
        _CHECKS,
    ),
    Setting("other_password", "the second tenant's admin password", "", "PASSWORD", _CHECKS, secret=True),
    Setting(
        "member_email",
        "email of a member (not an admin) of the first tenant, for auth.member.admin_only; live runs "
        "spread the job operations' contract cases over it too (a quota of its own); needs its "
        "password too",
        "the admins carry them",
        "EMAIL",
        _CHECKS,
    ),
    Setting("member_password", "the member's password", "", "PASSWORD", _CHECKS, secret=True),
    Setting(
        "api_key",
        "an API key with jobs:read and jobs:write, for the API-key checks when the target has no "
        "key-management endpoints",
        "one the kit creates",
        "KEY",
        _CHECKS,
        secret=True,
    ),
    Setting(
        "read_only_api_key",
        "an API key with jobs:read only, of the same company, for the scope checks when the target has "
        "no key-management endpoints",
        "one the kit creates",
        "KEY",
        _CHECKS,
        secret=True,
    ),
    Setting(
        "jwt_secret",
        "the target's HS256 JWT signing secret; enables the forged-token checks on targets with HS256 tokens",
        "those checks skip",
        "SECRET",
        _PYTEST,
        secret=True,
    ),
    Setting(
        "jwt_private_key",
        "PEM file of the target's RS256/ES256 private signing key; enables the forged-token checks on "
        "targets with asymmetric tokens (the file is read, never shown)",
        "those checks skip",
        "PEM",
        _PYTEST,
    ),
    Setting(
        "jwt_public_key",
        "PEM file of the target's public token key, for the key-confusion check when the target "
        "publishes no key set",
        "the key set's keys",
        "PEM",
        _PYTEST,
    ),
    Setting(
        "jwks_url",
        "https URL of the target's JSON Web Key Set (its public token keys), for the key-confusion and "
        "kid checks",
        "/.well-known/jwks.json of the base URL, when the contract declares it",
        "URL",
        _PYTEST,
    ),
    Setting("http_url", "plain-HTTP address to probe", "the base URL with http://", "URL", _PYTEST),
    Setting(
        "clock_url",
        "the target's test-clock URL, for clock-dependent checks; needs the clock token too",
        "those checks skip",
        "URL",
        _PYTEST,
    ),
    Setting("clock_token", "the target's test-clock token", "", "TOKEN", _PYTEST, secret=True),
    Setting(
        "receiver_cert",
        "key + certificate chain the target trusts, for the kit's webhook receiver on this machine",
        "the embedded server issues one; else the webhook checks skip",
        "PEM",
        _CHECKS,
    ),
    Setting(
        "receiver_url",
        "the https URL a remote target should deliver webhooks to, forwarded to the kit's receiver "
        "(a tunnel, a reverse proxy); without a receiver certificate the receiver serves plain HTTP "
        "behind your TLS-terminating proxy",
        "the receiver's own loopback URL",
        "URL",
        _CHECKS,
    ),
    Setting(
        "receiver_bind",
        "HOST:PORT the kit's webhook receiver listens on",
        f"{DEFAULT_RECEIVER_BIND[0]}:{DEFAULT_RECEIVER_BIND[1]} with a receiver URL, else a free "
        "loopback port",
        "HOST:PORT",
        _CHECKS,
    ),
    Setting(
        "sample_customer_id",
        "customer id of the jobs the kit creates; a [sample] table in a config file holds the sample "
        "settings without their sample_ prefix",
        f"{DEFAULT_SAMPLES.customer_id}, the published example's",
        "ID",
        _TARGET,
    ),
    Setting(
        "sample_service_type",
        "service type of the jobs the kit creates",
        f"{DEFAULT_SAMPLES.service_type}, the published example's",
        "TYPE",
        _TARGET,
    ),
    Setting(
        "sample_address",
        'address of the jobs the kit creates, a JSON object such as {"street": "1 High St", "city": '
        '"Springfield", "state": "IL", "zip": "62701"} (a table in a config file)',
        f"{', '.join(DEFAULT_SAMPLES.address.values())}, the published example's",
        "JSON",
        _TARGET,
    ),
    Setting(
        "sample_webhook_sink",
        "https URL of the webhooks the kit registers without needing a delivery; nothing has to listen",
        DEFAULT_SAMPLES.webhook_sink,
        "URL",
        _TARGET,
    ),
    Setting(
        "max_examples",
        "Hypothesis examples per operation in the contract run",
        str(DEFAULT_MAX_EXAMPLES),
        "N",
        _CHECKS,
    ),
    Setting(
        "max_duration",
        "stop the run after this many seconds: the checks that did not run (and one waiting for a "
        "quota past it) end as errors, reason 'out of time', never as passes",
        "no limit",
        "SECONDS",
        _CHECKS,
    ),
    Setting(
        "tier_limits",
        f"the target's quotas per {WINDOW_SECONDS} s where they differ from the published "
        f"{limits_text(DEFAULT_TIER_LIMITS)}, e.g. read=100; the embedded server is started with them",
        "the published ones",
        "TIER=N,...",
        frozenset({"check", "load", "pytest"}),
    ),
    Setting(
        "only",
        f"check groups to run, comma-separated: {', '.join(GROUPS)}; in pytest, select them with -m",
        "all",
        "GROUP[,GROUP]",
        frozenset({"check"}),
    ),
    Setting(
        "check_levels",
        "a check's level: ID=fail or ID=warn (on a breach, whatever the rule's basis) or ID=ignore "
        "(not run); repeatable; ID=LEVEL,... in the environment, a [checks] table in a config file; the "
        "highest layer's levels replace the lower ones",
        "each rule's basis decides: recommended rules warn, the others fail",
        "ID=LEVEL",
        _CHECKS,
        spelling="--check-level",
        kind="repeatable",
    ),
    Setting(
        "strict",
        "exit 1 when a check or a load rule warned, as on a failure; the variable takes 1, true, yes or 0, "
        "false, no",
        "warnings alone exit 0",
        "",
        _CHECKS | {"load"},
        kind="flag",
    ),
    Setting(
        "load_thresholds",
        "a service-level threshold the load run must meet, SCOPE:METRIC<VALUE: read:p95<300ms, "
        "write:p99<800ms, *:error_rate<1%, read:rps>100 (scope *, a tier or an operation such as "
        "'GET /v1/jobs'; p50, p90, p95, p99, max, avg, error_rate, rps); repeatable; comma-separated in "
        "the environment, a [load.thresholds] table of scope = condition(s) in a config file; the highest "
        "layer's thresholds replace the lower ones",
        "none",
        "THRESHOLD",
        frozenset({"load"}),
        spelling="--threshold",
        kind="repeatable",
    ),
    Setting(
        "cassettes",
        "recorded cassettes the cassette group replays against the contract and scans for secrets",
        "fixtures/cassettes",
        "FOLDER",
        _CHECKS,
    ),
    Setting(
        "report_dir", "folder for the reports", "reports", "FOLDER", frozenset({"check"}), spelling="--report"
    ),
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
