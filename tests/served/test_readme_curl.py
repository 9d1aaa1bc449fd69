"""The testing guide's curl walk-through of the control API runs as pasted."""

from __future__ import annotations

import os
import re
import subprocess

from tests.support.binaries import require_binary
from tests.support.doc_blocks import DOCS, doc_block
from tests.support.served import Served

CURL_PAGE = DOCS / "guides" / "testing.md"


def test_the_readme_curl_examples_run(emulator: Served) -> None:
    require_binary("bash")
    require_binary("curl")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", doc_block(CURL_PAGE, "emulator-curl")],
        env={**os.environ, "EMU": emulator.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The two status codes printed by `-w '%{http_code}\n'`, in order: the fault, the expiry.
    assert re.findall(r"(\d{3})\n", result.stdout) == ["503", "401"]
    assert '{"revoked":1}' in result.stdout
