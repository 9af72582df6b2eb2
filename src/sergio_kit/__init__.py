"""sergio-kit: contract, auth, rate-limit and load testing for the Sergio API.

The names below are the public API, for tests of your own beside the pytest plugin's fixtures
(``from sergio_kit import Target, TokenSession``). They are imported on first use, so importing a
submodule (the reference server, a Locust process) never pulls in the rest of the kit.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [  # noqa: RUF022 (grouped by purpose, as documented above)
    # Settings and errors
    "KitConfig",
    "SergioKitError",
    "TargetUnreachableError",
    "load_config",
    # The target under test
    "Account",
    "RunningServer",
    "Target",
    "TokenSession",
    "embedded_target",
    "live_target",
    "start_server",
    # Checks of your own
    "CheckContext",
    "CheckFailed",
    "CheckSkipped",
    "Finding",
    "check",
    # Webhooks
    "Delivery",
    "WebhookReceiver",
    "sign_webhook",
    "verify_webhook",
    "__version__",
]

#: Public name -> (module, attribute) it is read from on first use.
_EXPORTS: dict[str, tuple[str, str]] = {
    "KitConfig": ("sergio_kit.config", "KitConfig"),
    "load_config": ("sergio_kit.config", "load_config"),
    "SergioKitError": ("sergio_kit.errors", "SergioKitError"),
    "TargetUnreachableError": ("sergio_kit.errors", "TargetUnreachableError"),
    "Account": ("sergio_kit.target.target", "Account"),
    "Target": ("sergio_kit.target.target", "Target"),
    "TokenSession": ("sergio_kit.target.session", "TokenSession"),
    "RunningServer": ("sergio_kit.target.embedded", "RunningServer"),
    "start_server": ("sergio_kit.target.embedded", "start_server"),
    "embedded_target": ("sergio_kit.target.embedded", "embedded_target"),
    "live_target": ("sergio_kit.target.live", "live_target"),
    "CheckContext": ("sergio_kit.checks.context", "CheckContext"),
    "check": ("sergio_kit.checks.registry", "check"),
    "CheckFailed": ("sergio_kit.reports.findings", "CheckFailed"),
    "CheckSkipped": ("sergio_kit.reports.findings", "CheckSkipped"),
    "Finding": ("sergio_kit.reports.findings", "Finding"),
    "Delivery": ("sergio_kit.webhooks.receiver", "Delivery"),
    "WebhookReceiver": ("sergio_kit.webhooks.receiver", "WebhookReceiver"),
    "sign_webhook": ("sergio_kit.webhooks.signatures", "sign"),
    "verify_webhook": ("sergio_kit.webhooks.signatures", "verify"),
}

if TYPE_CHECKING:
    from sergio_kit.checks.context import CheckContext
    from sergio_kit.checks.registry import check
    from sergio_kit.config import KitConfig, load_config
    from sergio_kit.errors import SergioKitError, TargetUnreachableError
    from sergio_kit.reports.findings import CheckFailed, CheckSkipped, Finding
    from sergio_kit.target.embedded import RunningServer, embedded_target, start_server
    from sergio_kit.target.live import live_target
    from sergio_kit.target.session import TokenSession
    from sergio_kit.target.target import Account, Target
    from sergio_kit.webhooks.receiver import Delivery, WebhookReceiver
    from sergio_kit.webhooks.signatures import sign as sign_webhook
    from sergio_kit.webhooks.signatures import verify as verify_webhook


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'sergio_kit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, for ``dir(sergio_kit)`` and completion."""
    return sorted(__all__)
