"""The marked code blocks of the README and the docs (``<!-- readme-test: NAME -->`` and
friends), which the project and docs tests run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import REPO

README = REPO / "README.md"

DOCS = REPO / "docs"

# A fenced block right after `<!-- KIND: NAME -->` is a marked block. KIND is
# `readme-test` (a README block a dedicated test runs), `docs-test` (a docs block the test
# suite runs) or `docs-fragment` (deliberately not runnable; NAME says what it is).
_BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)<!-- (?P<kind>readme-test|docs-test|docs-fragment): "
    r"(?P<name>[\w-]+) -->\n"
    r"(?P=indent)```(?P<lang>\w+)\n(?P<body>.*?)^(?P=indent)```$",
    re.MULTILINE | re.DOTALL,
)
# Every fenced Python block, marked or not (its opening fence).
_PYTHON_FENCE = re.compile(r"^[ \t]*```(?:python|py|pycon)\b", re.MULTILINE)


@dataclass(frozen=True)
class MarkedBlock:
    """One marked code block of a Markdown file."""

    path: Path
    kind: str
    name: str
    lang: str
    body: str


def marked_blocks(path: Path) -> list[MarkedBlock]:
    """Every marked block of ``path``, in order (indented blocks lose their indent)."""
    return [
        MarkedBlock(path, m["kind"], m["name"], m["lang"], _dedent(m["body"], m["indent"]))
        for m in _BLOCK.finditer(path.read_text("utf-8"))
    ]


def unmarked_python_blocks(path: Path) -> list[int]:
    """Line numbers of the Python fences in ``path`` that carry no marker."""
    text = path.read_text("utf-8")
    marked = {m.start("indent") for m in _BLOCK.finditer(text)}
    lines = []
    for fence in _PYTHON_FENCE.finditer(text):
        marker_line = text.rfind("\n", 0, max(fence.start() - 1, 0)) + 1
        if marker_line not in marked or fence.start() == 0:
            lines.append(text.count("\n", 0, fence.start()) + 1)
    return lines


def doc_block(path: Path, name: str) -> str:
    """The code of the block of ``path`` marked ``<!-- readme-test|docs-test: NAME -->``."""
    found = [b.body for b in marked_blocks(path) if b.name == name and b.kind != "docs-fragment"]
    assert len(found) == 1, f"{path.name} must mark exactly one block 'test: {name}'"
    return found[0]


def readme_block(name: str) -> str:
    """The code of the README block marked ``<!-- readme-test: NAME -->``."""
    return doc_block(README, name)


def _dedent(body: str, indent: str) -> str:
    prefix = len(indent)
    return "".join(line[prefix:] for line in body.splitlines(keepends=True))
