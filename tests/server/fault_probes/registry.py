"""The probe table: every fault id of the reference server and the probe that shows its rule broken.

Built from an explicit list of the probe groups, each with its own explicit table; a fault id in two
groups is an error.
"""

from __future__ import annotations

from types import ModuleType

from tests.server.fault_probes import (
    apikey,
    auth,
    contract,
    keys,
    ratelimit,
    refresh,
    tenancy,
    transport,
    webhook,
)
from tests.server.fault_probes.plumbing import Probe

GROUPS: tuple[ModuleType, ...] = (
    contract,
    auth,
    keys,
    tenancy,
    refresh,
    apikey,
    transport,
    ratelimit,
    webhook,
)


def _merged(groups: tuple[ModuleType, ...]) -> dict[str, Probe]:
    probes: dict[str, Probe] = {}
    for group in groups:
        table: dict[str, Probe] = group.PROBES
        twice = set(table) & set(probes)
        if twice:
            raise ValueError(f"{group.__name__} probes fault ids another group probes: {sorted(twice)}")
        probes.update(table)
    return probes


PROBES: dict[str, Probe] = _merged(GROUPS)
