"""What a Locust worker of ``sergio-kit load --master`` needs, and the file a local master leaves for it.

A worker (``sergio-kit load --worker --master-host H``) runs the tier users, so it needs the same
settings the master gives its own Locust process: the target's CA bundle, the accounts, the tier
limits (``SERGIO_TIER_LIMITS``) and the ``SERGIO_LOAD_*`` pacing settings. It reads them from its own
environment only (no options, no config file); nothing secret ever travels on argv or over Locust's
unencrypted master/worker channel. On other machines, export them there (see the README). With the embedded
server, which listens on loopback only, the workers are on the master's machine, and the master
writes the environment to ``<report>/worker.env`` (mode 0600, shell syntax, removed when the run
ends): ``set -a; . reports/load/worker.env; set +a`` before starting each worker.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from sergio_kit.config import ENV_PREFIX, SAMPLE_FIELDS

WORKER_ENV_FILE = "worker.env"
LOAD_PREFIX = "SERGIO_LOAD_"  # the load-only settings, read from the environment by the Locust processes
#: The kit's settings a Locust process reads from its environment (the logins travel as
#: ``SERGIO_LOAD_ACCOUNTS``, with the other ``SERGIO_LOAD_*`` variables).
TARGET_KEYS = (
    "SERGIO_CA_BUNDLE",
    "SERGIO_TIER_LIMITS",
    *(ENV_PREFIX + name.upper() for name in SAMPLE_FIELDS),  # the test data of the jobs it creates
)


def worker_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of a master's Locust environment ``env`` that its workers need too."""
    return {k: v for k, v in env.items() if k in TARGET_KEYS or k.startswith(LOAD_PREFIX)}


def write_worker_env(path: Path, env: Mapping[str, str]) -> Path:
    """Write :func:`worker_environment` of ``env`` to ``path``, readable by its owner only."""
    lines = [f"{key}={shlex.quote(value)}\n" for key, value in sorted(worker_environment(env).items())]
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.writelines(lines)
    return path


def read_worker_env(path: Path) -> dict[str, str]:
    """The variables of a ``worker.env`` file (what ``set -a; . FILE`` would export)."""
    env = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip():
            env[key.strip()] = shlex.split(value)[0] if value else ""
    return env
