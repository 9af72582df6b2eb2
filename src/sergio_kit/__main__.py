"""``python -m sergio_kit``: the same as the ``sergio-kit`` command."""

import sys

from sergio_kit.cli import main

sys.exit(main())
