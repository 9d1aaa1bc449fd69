"""The README's code runs as pasted: the Quickstart against the built-in emulator and the
install commands. Each block is read from README.md (``<!-- readme-test: NAME -->``), so
the README cannot drift. The guides' blocks are run by ``tests/docs``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.support.clean_checkout import assert_every_name_defined, run
from tests.support.doc_blocks import readme_block
from tests.support.processes import REPO

# -- the Quickstart -------------------------------------------------------------------------


def test_the_quickstart_runs_as_pasted(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(readme_block("quickstart"), "utf-8")
    assert_every_name_defined(script)

    proc = run([sys.executable, "-W", "error", str(script)], cwd=tmp_path)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, "the Quickstart printed no accounts"
    for line in lines:  # "<account name> <balance> <currency>", the balance exact
        assert re.fullmatch(r".+ -?\d+\.\d{2} [A-Z]{3}", line), line


# -- the install commands -----------------------------------------------------------------


def test_the_readme_gives_the_two_commands_ci_runs() -> None:
    commands = [
        line
        for line in readme_block("commands").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(commands) == 2, commands
    assert commands[1] == "bash scripts/test.sh"
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text("utf-8")
