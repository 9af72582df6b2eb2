"""Locust users for the load-generator benchmarks; run only as a Locust process by the bench scripts.

- ``KitReadUser``: the kit's read-tier user of ``load/locustfile.py`` (``SergioUser.call``: token
  pool, ledger classification, per-class request names) with its pacing removed.
- ``BareReadUser``: a plain ``FastHttpUser`` sending the same ``GET /v1/jobs?limit=5`` with a fixed
  bearer token (``SERGIO_BENCH_TOKEN``), same TLS verification, no classification.
- ``KitHealthUser``: the kit's call path on ``GET /v1/health`` (no token; cheap on the server).

The kit's locustfile reads its settings from the environment as usual (``SERGIO_CA_BUNDLE``,
``SERGIO_LOAD_ACCOUNTS``, ``SERGIO_TIER_LIMITS``); pick a class by name on the Locust command line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import gevent.ssl
from locust import FastHttpUser, constant, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "load"))

import locustfile as kit

TOKEN = os.environ.get("SERGIO_BENCH_TOKEN", "")


def _context(cafile: str | None = None) -> Any:
    """The same verifying TLS context as the kit's users."""
    return gevent.ssl.create_default_context(cafile=os.environ.get("SERGIO_CA_BUNDLE") or cafile)


class KitReadUser(kit.ReadUser):
    """The kit's read-tier user, unpaced."""

    wait_time = constant(0)


class KitHealthUser(kit.SergioUser):
    """The kit's call path on the health endpoint (read tier, bucketed by address), unpaced."""

    wait_time = constant(0)

    @task
    def health(self) -> None:
        """GET /v1/health."""
        self.call("read", "GET", "/v1/health", bearer=False)


class BareReadUser(FastHttpUser):
    """A bare FastHttpUser: the same request with a fixed token, nothing else."""

    wait_time = constant(0)
    insecure = False
    ssl_context_factory = staticmethod(_context)

    @task
    def list_jobs(self) -> None:
        """GET /v1/jobs?limit=5."""
        self.client.get("/v1/jobs?limit=5", headers={"Authorization": "Bearer " + TOKEN}, name="read")
