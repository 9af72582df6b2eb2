"""The verdict on a broken rule: its basis sets it, a level the user chose overrides it.

A breach of a ``documented``, ``standard`` or ``contract`` rule fails; a breach of a ``recommended``
rule (a best practice, or one of the kit's assumptions) warns, with the same finding. A level
(``[checks]`` in sergio-kit.toml, ``--check-level ID=LEVEL``) makes a check ``fail`` or ``warn``
whatever the basis, or ``ignore`` it (not run).
"""

from __future__ import annotations

from collections.abc import Mapping

FAILING_BASES = frozenset({"documented", "standard", "contract"})


def level_of(check_id: str, levels: Mapping[str, str]) -> str | None:
    """The level the user set for ``check_id``, or ``None`` (the basis decides)."""
    return levels.get(check_id)


def verdict(basis: str, level: str | None) -> str:
    """``"failed"`` or ``"warned"`` for a breach of a rule with ``basis`` under ``level``."""
    if level == "fail":
        return "failed"
    if level == "warn":
        return "warned"
    return "failed" if basis in FAILING_BASES else "warned"
