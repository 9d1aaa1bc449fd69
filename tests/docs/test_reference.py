"""The API reference documents every public name, with its docstring, and nothing else;
the errors guide has a row for every error class."""

from __future__ import annotations

import importlib
import inspect
import re
import typing
from html.parser import HTMLParser

import pytest

import truelayer_async
import truelayer_async.errors
from tests.support.doc_blocks import DOCS

from .conftest import BuiltSite

#: Each public module and the reference page that documents it.
PUBLIC = {
    "truelayer_async": "reference/truelayer_async",
    "truelayer_async.stores": "reference/stores",
    "truelayer_async.testing": "reference/testing",
    "truelayer_async.hooks": "reference/observability",
    "truelayer_async.correlation": "reference/observability",
    "truelayer_async.otel": "reference/observability",
    "truelayer_async.transports": "reference/transports",
}


class _Headings(HTMLParser):
    """The ids of mkdocstrings' object headings (``doc-heading``) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if re.fullmatch(r"h\d", tag) and "doc-heading" in (found.get("class") or ""):
            self.ids.add(found.get("id") or "")


def _public(module: str) -> list[str]:
    return [name for name in importlib.import_module(module).__all__ if not name.startswith("_")]


def _top_level(ids: set[str], module: str) -> set[str]:
    prefix = f"{module}."
    return {i[len(prefix) :] for i in ids if i.startswith(prefix) and "." not in i[len(prefix) :]}


@pytest.mark.parametrize("module", PUBLIC)
def test_every_public_name_is_in_the_reference_and_nothing_else(
    built_site: BuiltSite, module: str
) -> None:
    parser = _Headings()
    parser.feed(built_site.page(PUBLIC[module]))
    assert _top_level(parser.ids, module) == set(_public(module))


def test_every_public_class_and_function_has_a_docstring() -> None:
    missing = [
        f"{module}.{name}"
        for module in PUBLIC
        for name in _public(module)
        if (
            inspect.isclass(obj := getattr(importlib.import_module(module), name)) or callable(obj)
        )
        and typing.get_origin(obj) is None  # a type alias (a Union) has no docstring of its own
        and not inspect.getdoc(obj)
    ]
    assert missing == []


def test_the_version_is_named_in_the_reference(built_site: BuiltSite) -> None:
    assert "__version__" in truelayer_async.__all__
    assert "__version__" in built_site.page(PUBLIC["truelayer_async"])


def _error_table_names() -> list[str]:
    text = (DOCS / "guides" / "errors.md").read_text("utf-8")
    return re.findall(r"^\| `(\w+)` \|", text, re.MULTILINE)


def test_the_errors_guide_has_one_row_per_error_class() -> None:
    names = _error_table_names()
    assert sorted(names) == sorted(truelayer_async.errors.__all__)
    assert len(names) == len(set(names))
    for name in names:
        assert issubclass(getattr(truelayer_async.errors, name), Exception), name
