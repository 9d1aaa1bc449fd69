"""Issue #14 §3: one decoding contract (cattrs the reference, msgspec the one shortcut)."""

from __future__ import annotations

import ast
from pathlib import Path

import truelayer_async

PACKAGE = Path(truelayer_async.__file__).parent


def _calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def test_the_converter_generates_no_code() -> None:
    assert not {"exec", "eval", "compile"} & _calls(PACKAGE / "_converter.py")


def test_the_data_service_holds_no_decoding_glue() -> None:
    source = (PACKAGE / "services" / "data.py").read_text(encoding="utf-8")
    assert "_fast_decode" not in source
    assert "structure_results" not in source
