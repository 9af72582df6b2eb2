"""The import rules of ARCHITECTURE.md.

import-linter checks the contracts in ``pyproject.toml`` (``[tool.importlinter]``) over every import
statement of ``sergio_kit``, one inside a function included. What that cannot see, which imports a
fresh interpreter really runs (lazy imports inside functions, the registry's ``importlib``), is
checked by importing the entry points in a child process and listing ``sys.modules``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Packages that must never load beside pytest: Locust and gevent monkey-patch on import, and
#: Schemathesis and vcrpy are imported only by the fixtures and checks that use them.
HEAVY = frozenset({"locust", "gevent", "geventhttpclient", "schemathesis", "vcr"})
#: What the kit may import of the reference server: the fault and variant catalogues and the test
#: certificates.
SERVER_FOR_THE_KIT = frozenset(
    {"sergio_kit.server", "sergio_kit.server.faults", "sergio_kit.server.variants", "sergio_kit.server.tls"}
)


def _modules_loaded_by(statement: str) -> set[str]:
    """The modules in ``sys.modules`` of a fresh interpreter after it ran ``statement``."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_import_contracts_are_kept() -> None:
    """``lint-imports`` keeps every contract of ``[tool.importlinter]``."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kept, 0 broken" in result.stdout, result.stdout


def test_plugin_and_checks_load_nothing_heavy() -> None:
    """Loading the pytest plugin and registering every check loads no heavy package, no cassette,
    load or suite module, and of the server only the fault catalogue and the test certificates."""
    loaded = _modules_loaded_by(
        "import sergio_kit.plugin\nfrom sergio_kit.checks.registry import all_checks\nall_checks()"
    )
    assert {name.split(".")[0] for name in loaded} & HEAVY == set()
    off_path = ("sergio_kit.cassettes", "sergio_kit.load", "sergio_kit.suite", "sergio_kit.server")
    assert {name for name in loaded if name.startswith(off_path)} - SERVER_FOR_THE_KIT == set()


def test_reference_server_loads_only_the_contract() -> None:
    """The reference server's app and runner load no module of the kit but the contract's."""
    loaded = _modules_loaded_by("import sergio_kit.server.app\nimport sergio_kit.server.runner")
    kit = {name for name in loaded if name.startswith("sergio_kit.")}
    allowed = ("sergio_kit.server", "sergio_kit.contract", "sergio_kit.errors")
    assert {name for name in kit if not name.startswith(allowed)} == set()
    assert {name.split(".")[0] for name in loaded} & HEAVY == set()
