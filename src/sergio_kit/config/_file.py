"""The config file layer: ``--config`` / ``SERGIO_CONFIG``, else ``sergio-kit.toml``, else the
``[tool.sergio-kit]`` table of ``pyproject.toml``. Keys are the field names (``checks`` is the
``check_levels`` table), spelled with ``-`` or ``_``."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sergio_kit.config._model import (
    CONFIG_FILE,
    ENV_PREFIX,
    FIELDS,
    FILE_ALIASES,
    FILE_KEYS,
    FILE_TABLES,
    PYPROJECT,
)
from sergio_kit.config._values import Given
from sergio_kit.errors import SergioKitError


def file_layer(
    explicit: Any, cli_label: str, environ: Mapping[str, str], cwd: Path
) -> tuple[Path | None, dict[str, Given]]:
    """The config file in force and its settings, keyed by field name."""
    env = ENV_PREFIX + "CONFIG"
    if explicit is not None or environ.get(env):
        label, value = (cli_label, explicit) if explicit is not None else (env, environ[env])
        path = cwd / Path(value)
        if not path.is_file():
            raise SergioKitError(
                f"{label} has value {str(value)!r}: the file does not exist; expected a TOML file "
                f"such as {CONFIG_FILE}"
            )
        required = path.name == PYPROJECT
    elif (cwd / CONFIG_FILE).is_file():
        path, required = cwd / CONFIG_FILE, False
    elif (cwd / PYPROJECT).is_file():
        path, required = cwd / PYPROJECT, False
    else:
        return None, {}
    document = _read_toml(path, cwd)
    display = _display(path, cwd)
    if path.name == PYPROJECT:
        table = document.get("tool", {}).get("sergio-kit")
        if table is None:
            if required:
                raise SergioKitError(
                    f"{display} has no [tool.sergio-kit] table: add one, or point {cli_label} at a "
                    f"{CONFIG_FILE}"
                )
            return None, {}
        prefix = f"{display} [tool.sergio-kit]"
        if not isinstance(table, dict):
            raise SergioKitError(f"{prefix} is not a table: write it as [tool.sergio-kit] with key = value")
    else:
        table, prefix = document, display
    return path, _file_settings(table, prefix, path.parent)


def _read_toml(path: Path, cwd: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise SergioKitError(f"{_display(path, cwd)} is not valid TOML: {error}; fix that line") from None
    except OSError as error:
        raise SergioKitError(f"cannot read {_display(path, cwd)}: {error.strerror}") from None


def _file_settings(table: Mapping[str, Any], prefix: str, base_dir: Path) -> dict[str, Given]:
    settings: dict[str, Given] = {}
    for key, value, name in _entries(table, prefix):
        if name not in FIELDS:
            close = difflib.get_close_matches(name, FILE_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SergioKitError(
                f"{prefix} has unknown key {key!r}: {hint}expected one of {', '.join(FILE_KEYS)} "
                "(spelled with - or _)"
            )
        if name in settings:
            raise SergioKitError(
                f"{prefix} sets {name!r} twice ({settings[name].label.rsplit(': ', 1)[-1]!r} and "
                f"{key!r}): keep one"
            )
        settings[name] = Given(name, f"{prefix}: {key}", value, base_dir)
    return settings


def _entries(table: Mapping[str, Any], prefix: str) -> list[tuple[str, Any, str]]:
    """``(key as written, value, field name)`` of every setting in ``table``, the keys of a table of
    :data:`FILE_TABLES` (``[sample]``) spelled ``sample.customer_id`` and named with their prefix."""
    entries = []
    for key, value in table.items():
        name = key.replace("-", "_")
        field_prefix = FILE_TABLES.get(name)
        if field_prefix is None:
            entries.append((key, value, FILE_ALIASES.get(name, name)))
            continue
        members = [field.removeprefix(field_prefix) for field in FIELDS if field.startswith(field_prefix)]
        if not isinstance(value, dict):
            raise SergioKitError(
                f"{prefix} has {key!r} = {value!r}: expected a [{key}] table of {', '.join(members)}"
            )
        for member, item in value.items():
            if member.replace("-", "_") not in members:
                close = difflib.get_close_matches(member.replace("-", "_"), members, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise SergioKitError(
                    f"{prefix} [{key}] has unknown key {member!r}: {hint}expected one of "
                    f"{', '.join(members)} (spelled with - or _)"
                )
            entries.append((f"{key}.{member}", item, field_prefix + member.replace("-", "_")))
    return entries


def _display(path: Path, cwd: Path) -> str:
    """``path`` as the user most likely wrote it: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)
