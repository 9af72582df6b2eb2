"""What a run's settings are: :class:`KitConfig`, its fields, the check groups and the defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from sergio_kit.config._thresholds import Threshold
from sergio_kit.contract.document import shown_url
from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS, WINDOW_SECONDS

GROUPS = ("contract", "auth", "refresh", "apikey", "transport", "webhook", "ratelimit", "cassette")
MARKERS = (*GROUPS, "replay")  # pytest markers; `only` selects among GROUPS
#: What a check's level may be: ``fail`` or ``warn`` on a breach whatever the rule's basis, or ``ignore``
#: (not run); a check without a level is judged by its rule's basis.
CHECK_LEVELS = ("fail", "warn", "ignore")
CONFIG_FILE = "sergio-kit.toml"
PYPROJECT = "pyproject.toml"
ENV_PREFIX = "SERGIO_"
EXAMPLE_URL = "https://sergio.example.com"
DEFAULT_MAX_EXAMPLES = 25


@dataclass(frozen=True)
class KitConfig:
    """The settings in force for one run. ``base_url is None`` means: start the embedded server."""

    base_url: str | None = None
    ca_bundle: Path | None = None
    contract: Path | str | None = None  # the target's OpenAPI contract: a file or an https:// URL
    email: str | None = None
    password: str | None = field(default=None, repr=False)
    other_email: str | None = None
    other_password: str | None = field(default=None, repr=False)
    member_email: str | None = None  # a non-admin user of the first tenant (live: a quota of its own)
    member_password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)  # jobs:read + jobs:write
    read_only_api_key: str | None = field(default=None, repr=False)  # jobs:read only
    jwt_secret: str | None = field(default=None, repr=False)  # enables the forged-token checks
    jwt_private_key: Path | None = None  # PEM file: the forged-token checks on RS256/ES256 targets
    jwt_public_key: Path | None = None  # PEM file: the target's public key, when it has no key set
    jwks_url: str | None = None  # the target's key set; default: the contract's JWKS operation
    http_url: str | None = None  # plain-HTTP address to probe; default: base_url with http://
    clock_url: str | None = None
    clock_token: str | None = field(default=None, repr=False)
    receiver_cert: Path | None = None  # PEM (key + chain) the target trusts, for the kit's webhook receiver
    receiver_url: str | None = None  # the https URL the target delivers webhooks to (a tunnel, a proxy)
    receiver_bind: tuple[str, int] | None = None  # HOST, PORT the kit's webhook receiver listens on
    sample_customer_id: str | None = None  # the test data of the jobs the kit creates ([sample] table);
    sample_service_type: str | None = None  # None: the published example's
    sample_address: Mapping[str, str] | None = None
    sample_webhook_sink: str | None = None  # the URL of webhooks registered without a receiver
    max_examples: int = DEFAULT_MAX_EXAMPLES
    max_duration: int | None = None  # seconds; checks not started by then end as errors (out of time)
    tier_limits: Mapping[str, int] = field(default_factory=lambda: DEFAULT_TIER_LIMITS)  # every tier
    only: tuple[str, ...] = GROUPS
    cassettes: Path = Path("fixtures/cassettes")  # recorded exchanges the cassette group replays
    report_dir: Path = Path("reports")
    check_levels: Mapping[str, str] = field(default_factory=dict)  # check id -> fail | warn | ignore
    strict: bool = False  # exit 1 on warnings too
    load_thresholds: tuple[Threshold, ...] = ()  # sergio-kit load: read:p95<300ms... ([load.thresholds])
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
            lines.append(
                f"account: {self.email}; other tenant: {self.other_email or 'not set'}; "
                f"member: {self.member_email or 'not set'}"
            )
            lines.append(f"test clock: {self.clock_url or 'not set'}")
            secrets = ", ".join(
                f"{name} {'set' if getattr(self, name) else 'not set'}"
                for name in ("api_key", "read_only_api_key", "jwt_secret", "jwt_private_key")
            )
            lines.append(f"secrets: {secrets}")
        if self.contract is not None:
            lines.append(f"contract: {shown_contract(self.contract)}")
        lines.append(f"groups: {', '.join(self.only)}; max examples: {self.max_examples}")
        if dict(self.tier_limits) != dict(DEFAULT_TIER_LIMITS):
            limits = ", ".join(f"{tier} {n}" for tier, n in self.tier_limits.items())
            lines.append(f"tier limits (per {WINDOW_SECONDS} s): {limits}")
        if self.receiver_url is not None:
            host, port = self.receiver_bind or DEFAULT_RECEIVER_BIND
            lines.append(f"webhook receiver: {self.receiver_url} (listening on {host}:{port})")
        samples = [
            f"{name.removeprefix('sample_')} {_shown(value)}"
            for name in SAMPLE_FIELDS
            if (value := getattr(self, name)) is not None
        ]
        if samples:
            lines.append(f"sample data: {', '.join(samples)}")
        if self.check_levels:
            levels = ", ".join(f"{check_id} {level}" for check_id, level in self.check_levels.items())
            lines.append(f"check levels changed: {levels}")
        if self.strict:
            lines.append("strict: a warning fails the run (exit 1)")
        if self.config_file is not None:
            lines.append(f"config file: {self.config_file}")
        return lines


def _shown(value: object) -> str:
    """A sample setting as the summary shows it (an address as its parts, comma-separated)."""
    return ", ".join(value.values()) if isinstance(value, Mapping) else str(value)


def shown_contract(contract: Path | str) -> str:
    """The ``contract`` setting as messages show it: a path, or a URL without user info or query."""
    return str(contract) if isinstance(contract, Path) else shown_url(contract)


FIELDS = tuple(f.name for f in fields(KitConfig) if f.name not in ("config_file", "sources"))
#: Config-file keys spelled other than their field: ``[checks]`` is the ``check_levels`` table.
FILE_ALIASES = {"checks": "check_levels"}
#: Config-file tables whose keys are fields with a prefix: ``[sample] customer_id`` is ``sample_customer_id``.
FILE_TABLES = {"sample": "sample_", "load": "load_"}
DEFAULT_RECEIVER_BIND = ("127.0.0.1", 8444)  # where the receiver listens when only its URL is set
#: The keys a config file may hold (with ``-`` or ``_``), the way the README spells them.
FILE_KEYS = tuple(next((key for key, name in FILE_ALIASES.items() if name == f), f) for f in FIELDS)
SAMPLE_FIELDS = tuple(name for name in FIELDS if name.startswith("sample_"))
