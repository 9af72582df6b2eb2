"""The catalogue of the kit's own checks (everything but the Schemathesis contract run).

A check is a function ``(ctx: CheckContext) -> None`` registered under its stable id (the
catalogue: docs/checks.md). It raises :class:`~sergio_kit.reports.findings.CheckFailed` when the target breaks
the rule and :class:`~sergio_kit.reports.findings.CheckSkipped` when it needs something the target lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sergio_kit.config import GROUPS
from sergio_kit.reports.findings import BASES

if TYPE_CHECKING:
    from sergio_kit.checks.context import CheckContext

CheckFunction = Callable[["CheckContext"], None]


@dataclass(frozen=True)
class CheckSpec:
    """A registered check."""

    check_id: str
    function: CheckFunction
    summary: str
    basis: str  # of the check's main rule: documented, standard, contract or recommended

    @property
    def group(self) -> str:
        """The check's group: the first part of its id."""
        return self.check_id.split(".", 1)[0]

    def run(self, ctx: CheckContext) -> None:
        """Run the check against ``ctx``'s target."""
        self.function(ctx)


_REGISTRY: dict[str, CheckSpec] = {}


def check(check_id: str, *, basis: str = "documented") -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check ``check_id`` (its docstring is the summary) whose
    main rule has ``basis`` (see :data:`~sergio_kit.reports.findings.BASES`): a breach of it fails,
    or warns when the basis is ``recommended``."""
    group = check_id.split(".", 1)[0]
    if group not in GROUPS:
        raise ValueError(f"check {check_id!r}: unknown group {group!r}")
    if basis not in BASES:
        raise ValueError(f"check {check_id!r}: unknown basis {basis!r}; expected one of {', '.join(BASES)}")

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in _REGISTRY:
            raise ValueError(f"check {check_id!r} is registered twice")
        summary = (function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else check_id
        _REGISTRY[check_id] = CheckSpec(check_id, function, summary, basis)
        return function

    return register


def all_checks() -> list[CheckSpec]:
    """Every registered check, in registration order (importing the check modules first)."""
    _load_check_modules()
    return list(_REGISTRY.values())


def get_check(check_id: str) -> CheckSpec:
    """The check registered as ``check_id``."""
    _load_check_modules()
    return _REGISTRY[check_id]


#: The modules that register checks, in catalogue order within each group (pytest runs the groups
#: in :data:`~sergio_kit.config.GROUPS` order). Adding a check module is one line here.
CHECK_MODULES = (
    "sergio_kit.checks.auth.login",
    "sergio_kit.checks.auth.bearer",
    "sergio_kit.checks.auth.jwt",
    "sergio_kit.checks.auth.tokens",
    "sergio_kit.checks.refresh",
    "sergio_kit.checks.apikey",
    "sergio_kit.checks.transport",
    "sergio_kit.checks.webhook",
    "sergio_kit.checks.ratelimit.cross",
    "sergio_kit.checks.ratelimit.tiers",
    "sergio_kit.checks.cassette",
)


def _load_check_modules() -> None:
    import importlib

    for module in CHECK_MODULES:
        importlib.import_module(module)
