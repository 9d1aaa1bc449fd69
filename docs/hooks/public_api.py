"""MkDocs hook: the API reference lists exactly what each public module exports.

A reference page holds ``<!-- public-api: MODULE -->``; this hook replaces it with one
mkdocstrings ``:::`` directive per name in ``MODULE.__all__`` (sorted), so a name added to
``__all__`` appears in the reference without editing the page, and nothing private does.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

_MARKER = re.compile(r"^<!-- public-api: (?P<module>[\w.]+) -->$", re.MULTILINE)


def public_names(module: str) -> list[str]:
    """``MODULE.__all__``, sorted, without dunder names such as ``__version__``."""
    names: list[str] = list(importlib.import_module(module).__all__)
    return sorted(name for name in names if not name.startswith("__"))


def _directives(match: re.Match[str]) -> str:
    module = match["module"]
    return "\n\n".join(f"::: {module}.{name}" for name in public_names(module))


def on_config(config: Any, **_: Any) -> Any:
    # Document this checkout's package, whatever else is installed.
    root = str(Path(config.config_file_path).resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    return config


def on_page_markdown(markdown: str, **_: Any) -> str:
    return _MARKER.sub(_directives, markdown)
