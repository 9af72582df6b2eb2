"""The kit's settings, with one precedence implemented in one function: :func:`load_config`.

CLI > environment (``SERGIO_*``) > config file > defaults. The config file is ``--config FILE`` /
``SERGIO_CONFIG`` when given, else ``sergio-kit.toml`` in the working directory, else the
``[tool.sergio-kit]`` table of its ``pyproject.toml``. File keys are the field names, spelled with
``-`` or ``_``; the check levels are a ``[checks]`` table, the load thresholds a ``[load.thresholds]``
table (:mod:`sergio_kit.config._thresholds`). A setting given in several layers is taken
whole from the highest (the check levels too: ``--check-level`` replaces ``[checks]``, not merges
into it). Every bad value ends in one :class:`~sergio_kit.errors.SergioKitError` line saying
where it came from, what was given, what is allowed and how to fix it. Secrets (passwords, the
API key, the signing secret, the test-clock token) are never shown: not in ``repr()``, not in errors.
The environment is the preferred home for secrets; a config file may hold them but is easy to commit.

:data:`SETTINGS` is the one table of settings: each row's environment variable, the commands that
offer it as an option (``sergio-kit check``, ``load``, ``record``, ``scan-cassettes``,
``replay-cassettes``, and the pytest plugin's ``--sergio-*``), its help text and whether it is a
secret. The command lines, the plugin's options and the README's settings table are all generated
from it (or compared with it in a test).
"""

from __future__ import annotations

from sergio_kit.config._load import load_config
from sergio_kit.config._model import (
    CHECK_LEVELS,
    CONFIG_FILE,
    DEFAULT_MAX_EXAMPLES,
    ENV_PREFIX,
    FIELDS,
    GROUPS,
    MARKERS,
    SAMPLE_FIELDS,
    KitConfig,
)
from sergio_kit.config._table import COMMANDS, SECRETS, SETTINGS, Setting, command_labels, command_settings
from sergio_kit.config._thresholds import (
    METRICS,
    THRESHOLDS_VARIABLE,
    Threshold,
    parse_threshold,
    thresholds_environment,
    thresholds_from_environment,
)
from sergio_kit.config._values import (
    samples_environment,
    samples_from_environment,
    tier_limits_environment,
    tier_limits_from_environment,
)
from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS

__all__ = [
    "CHECK_LEVELS",
    "COMMANDS",
    "CONFIG_FILE",
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_TIER_LIMITS",
    "ENV_PREFIX",
    "FIELDS",
    "GROUPS",
    "MARKERS",
    "METRICS",
    "SAMPLE_FIELDS",
    "SECRETS",
    "SETTINGS",
    "THRESHOLDS_VARIABLE",
    "KitConfig",
    "Setting",
    "Threshold",
    "command_labels",
    "command_settings",
    "load_config",
    "parse_threshold",
    "samples_environment",
    "samples_from_environment",
    "thresholds_environment",
    "thresholds_from_environment",
    "tier_limits_environment",
    "tier_limits_from_environment",
]
