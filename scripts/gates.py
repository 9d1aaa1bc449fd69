"""The quality gates, listed once for nox and scripts/test.sh.

    python scripts/gates.py            # every gate
    python scripts/gates.py lint       # ruff check, ruff format --check
    python scripts/gates.py typing     # mypy --strict (package and public-API typing file)

Each gate runs as ``python -m TOOL`` with this interpreter; the first failure stops it.
"""

from __future__ import annotations

import subprocess
import sys

TARGETS = ["truelayer_async", "tests", "examples", "benchmarks"]
GATES: dict[str, list[list[str]]] = {
    "lint": [["ruff", "check", *TARGETS], ["ruff", "format", "--check", *TARGETS]],
    "typing": [
        ["mypy", "--strict", "truelayer_async"],
        ["mypy", "--strict", "tests/typing/public_api.py"],
    ],
}


def main(names: list[str]) -> int:
    """Run the named gates (all of them if none); return the first failing status."""
    unknown = [name for name in names if name not in GATES]
    if unknown:
        print(f"gates.py: unknown gate(s) {unknown}; choose from {sorted(GATES)}", file=sys.stderr)
        return 2
    for name in names or list(GATES):
        for command in GATES[name]:
            print("==", " ".join(command), flush=True)
            status = subprocess.call([sys.executable, "-m", *command])  # noqa: S603
            if status:
                return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
