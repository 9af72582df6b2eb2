"""The one precedence, in one function: :func:`load_config`."""

from __future__ import annotations

import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sergio_kit.config._file import file_layer
from sergio_kit.config._model import DEFAULT_RECEIVER_BIND, ENV_PREFIX, FIELDS, KitConfig
from sergio_kit.config._table import SETTINGS, command_labels
from sergio_kit.config._values import PARSERS, Given
from sergio_kit.errors import SergioKitError

#: Each setting's option as a command line spells it (for a command whose labels lack it).
OPTIONS = {setting.name: setting.option("") for setting in SETTINGS}


def load_config(
    cli: Mapping[str, Any],
    environ: Mapping[str, str],
    cwd: Path,
    *,
    cli_labels: Mapping[str, str] | None = None,
    require_login: bool = True,
) -> KitConfig:
    """Resolve every setting: CLI > ``SERGIO_*`` environment > config file > default.

    ``cli`` maps field names (and ``config``) to values, ``None`` meaning not given; other keys are
    ignored. Empty environment variables count as unset. ``cli_labels`` maps each setting the
    command line offers to its option, for messages (default: ``sergio-kit check``'s, see
    :func:`command_labels`); a setting it does not offer is never suggested as an option.
    ``require_login=False`` lets a live target go without ``email``/``password`` (``load`` given its
    accounts in ``SERGIO_LOAD_ACCOUNTS``).
    """
    labels = command_labels("check") if cli_labels is None else dict(cli_labels)

    def cli_label(name: str) -> str:
        return labels.get(name) or OPTIONS.get(name, "--" + name.replace("_", "-"))

    config_file, file_values = file_layer(cli.get("config"), cli_label("config"), environ, cwd)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in FIELDS:
        given = _pick(name, cli, environ, file_values, cli_label(name), cwd)
        if given is None:
            continue
        values[name] = PARSERS[name](given)
        sources[name] = given.label
    check_combinations(values, sources, labels, require_login=require_login)
    if values.get("base_url") and "http_url" not in values:
        values["http_url"] = with_scheme(values["base_url"], "http")
        sources["http_url"] = "derived from the base URL"
    if values.get("receiver_url") and "receiver_bind" not in values:
        values["receiver_bind"] = DEFAULT_RECEIVER_BIND
        sources["receiver_bind"] = "the default with a receiver URL"
    values.setdefault("report_dir", cwd / "reports")
    values.setdefault("cassettes", cwd / "fixtures" / "cassettes")
    return KitConfig(**values, config_file=config_file, sources=types.MappingProxyType(sources))


def _pick(
    name: str,
    cli: Mapping[str, Any],
    environ: Mapping[str, str],
    file_values: Mapping[str, Given],
    label: str,
    cwd: Path,
) -> Given | None:
    """The highest-precedence value given for ``name``, or ``None``."""
    if cli.get(name) is not None:
        return Given(name, label, cli[name], cwd)
    env = ENV_PREFIX + name.upper()
    if environ.get(env):
        return Given(name, env, environ[env], cwd)
    return file_values.get(name)


def check_combinations(
    values: Mapping[str, Any], sources: Mapping[str, str], labels: Mapping[str, str], *, require_login: bool
) -> None:
    def ways(name: str) -> str:
        option = f" (or {labels[name]})" if name in labels else ""
        return f"{ENV_PREFIX}{name.upper()}{option}"

    if values.get("base_url") and require_login:
        missing = [name for name in ("email", "password") if not values.get(name)]
        if missing:
            raise SergioKitError(
                f"a live target ({sources['base_url']} = {values['base_url']}) needs a login, but "
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: set "
                f"{' and '.join(ways(name) for name in missing)}; the environment is preferred for "
                "passwords"
            )
    for first, second, what in (
        ("other_email", "other_password", "the other tenant's login"),
        ("member_email", "member_password", "the member's login"),
        ("clock_url", "clock_token", "the test clock"),
    ):
        if bool(values.get(first)) != bool(values.get(second)):
            given, missing_name = (first, second) if values.get(first) else (second, first)
            raise SergioKitError(
                f"{sources[given]} is set but {missing_name} is not: {what} needs both; set "
                f"{ways(missing_name)}, or remove {sources[given]}"
            )


def with_scheme(url: str, scheme: str) -> str:
    """``url`` with another scheme, same host, port and path."""
    return urlunsplit(urlsplit(url)._replace(scheme=scheme))
