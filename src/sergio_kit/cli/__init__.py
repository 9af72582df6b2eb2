"""The ``sergio-kit`` command line: :func:`main` and one module per subcommand."""

from sergio_kit.cli.main import main

__all__ = ["main"]
