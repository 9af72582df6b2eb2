"""The catalogue of the kit's own checks (everything but the Schemathesis contract run).

A check is a function ``(ctx: CheckContext) -> None`` registered under its stable id (the
catalogue: docs/checks.md). It raises :class:`~sergio_kit.reports.findings.CheckFailed` when the target breaks
the rule and :class:`~sergio_kit.reports.findings.CheckSkipped` when it needs something the target lacks.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sergio_kit.config import GROUPS, KitConfig
from sergio_kit.errors import SergioKitError
from sergio_kit.reports.findings import BASES

if TYPE_CHECKING:
    from sergio_kit.checks.context import CheckContext

#: A check: raises on a breach or a skip; may return a one-line detail of what it passed on.
CheckFunction = Callable[["CheckContext"], str | None]


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

    def run(self, ctx: CheckContext) -> str | None:
        """Run the check against ``ctx``'s target: the detail of its pass, if it gave one."""
        return self.function(ctx)


_REGISTRY: dict[str, CheckSpec] = {}


def check(check_id: str, *, basis: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check ``check_id`` (its docstring's first paragraph is
    the summary) whose main rule has ``basis`` (see :data:`~sergio_kit.reports.findings.BASES`): a
    breach of it fails, or warns when the basis is ``recommended``. A rule of the check with another
    basis names it in its :class:`~sergio_kit.reports.findings.CheckFailed`."""
    group = check_id.split(".", 1)[0]
    if group not in GROUPS:
        raise ValueError(f"check {check_id!r}: unknown group {group!r}")
    if basis not in BASES:
        raise ValueError(f"check {check_id!r}: unknown basis {basis!r}; expected one of {', '.join(BASES)}")

    def register(function: CheckFunction) -> CheckFunction:
        known = _REGISTRY.get(check_id)
        if known is not None and _origin(known.function) != _origin(function):
            raise ValueError(f"check {check_id!r} is registered twice")
        # the same function again: its module was imported anew (a pytester run drops imported modules)
        summary = " ".join((inspect.getdoc(function) or check_id).split("\n\n")[0].split())
        _REGISTRY[check_id] = CheckSpec(check_id, function, summary, basis)
        return function

    return register


def _origin(function: CheckFunction) -> tuple[str, str]:
    """Where a check function is defined: its module and qualified name."""
    return function.__module__, function.__qualname__


def all_checks() -> list[CheckSpec]:
    """Every registered check, in catalogue order: by module as :data:`CHECK_MODULES` lists them, in
    registration order within one (importing the check modules first, whatever was imported before)."""
    _load_check_modules()
    order = {module: index for index, module in enumerate(CHECK_MODULES)}
    return sorted(_REGISTRY.values(), key=lambda spec: order.get(spec.function.__module__, len(order)))


def get_check(check_id: str) -> CheckSpec:
    """The check registered as ``check_id``."""
    _load_check_modules()
    return _REGISTRY[check_id]


#: The modules that register checks, in catalogue order within each group (pytest runs the groups
#: in :data:`~sergio_kit.config.GROUPS` order). Adding a check module is one line here.
CHECK_MODULES = (
    "sergio_kit.checks.declared",
    "sergio_kit.checks.auth.login",
    "sergio_kit.checks.auth.bearer",
    "sergio_kit.checks.auth.jwt",
    "sergio_kit.checks.auth.keys",
    "sergio_kit.checks.auth.tokens",
    "sergio_kit.checks.tenancy.objects",
    "sergio_kit.checks.tenancy.lists",
    "sergio_kit.checks.tenancy.members",
    "sergio_kit.checks.refresh",
    "sergio_kit.checks.apikey",
    "sergio_kit.checks.key_hint",
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


def refuse_unknown_check_levels(settings: KitConfig) -> None:
    """Stop with one line when a check level names no registered check (the checks a level applies to,
    those of ``sergio-kit check --list-checks``); the config layer checked only the ids' shape."""
    if not settings.check_levels:
        return
    known = [spec.check_id for spec in all_checks()]
    label = settings.sources.get("check_levels", "the check levels")
    for check_id in settings.check_levels:
        if check_id in known:
            continue
        if check_id.startswith("contract."):
            raise SergioKitError(
                f"{label} sets a level for {check_id!r}, but the contract checks have none: a breach of "
                "the contract always fails; see sergio-kit check --list-checks"
            )
        close = difflib.get_close_matches(check_id, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SergioKitError(
            f"{label} has unknown check {check_id!r}: {hint}see sergio-kit check --list-checks"
        )
