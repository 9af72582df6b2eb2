"""The settings table's options on a subcommand's command line, and resolving them.

Every subcommand that takes settings offers the options :func:`sergio_kit.config.command_settings`
lists for it (generated from the one table, so ``check``, ``load``, ``record`` and
``scan-cassettes`` spell and explain them alike) and resolves them with
:func:`sergio_kit.config.load_config`: command line > ``SERGIO_*`` environment > config file > default.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from sergio_kit.config import KitConfig, command_labels, command_settings, load_config
from sergio_kit.errors import SergioKitError


def add_setting_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the options the settings table offers on ``command``; each defaults to ``None`` (not given);
    a repeatable one collects a list, a flag is ``True`` when given."""
    for setting in command_settings(command):
        parser.add_argument(setting.option(command), dest=setting.name, **setting.option_arguments())


def resolve_settings(args: argparse.Namespace, command: str, *, require_login: bool = True) -> KitConfig:
    """The settings in force for ``command``: its options in ``args`` over ``SERGIO_*`` over the config
    file of the working directory (or ``--config``) over the defaults. A live target needs a login
    (:func:`load_config`'s ``require_login``) only on a command that reaches the target, one offering
    ``--base-url``: ``scan-cassettes`` scans files, whatever target the environment or file names."""
    labels = command_labels(command)
    return load_config(
        vars(args),
        os.environ,
        Path.cwd(),
        cli_labels=labels,
        require_login=require_login and "base_url" in labels,
    )


def refuse_unknown_faults_and_variants(faults: Sequence[str], variants: Sequence[str]) -> None:
    """Stop with one line (naming the closest known name) when a ``--fault`` or ``--variant`` is unknown."""
    if not faults and not variants:
        return
    from sergio_kit.server.faults import Faults, UnknownFaultError
    from sergio_kit.server.variants import UnknownVariantError, Variants

    try:
        Faults(faults)
        Variants(variants)
    except (UnknownFaultError, UnknownVariantError) as error:
        raise SergioKitError(str(error)) from None


def refuse_faults_on_a_live_target(
    settings: KitConfig, faults: Sequence[str], variants: Sequence[str] = ()
) -> None:
    """Stop with one line when ``--fault`` or ``--variant`` (which change the embedded server) meets a
    live target."""
    if settings.base_url is None:
        return
    for option, given in (("--fault", faults), ("--variant", variants)):
        if given:
            raise SergioKitError(
                f"{option} only applies to the embedded server, but {settings.sources['base_url']} sets a "
                "live target: drop one of them"
            )
