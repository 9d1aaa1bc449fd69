"""``python -m truelayer_async``: the same as the ``truelayer-async`` command."""

from __future__ import annotations

import sys

from truelayer_async.cli import main

if __name__ == "__main__":
    sys.exit(main())
