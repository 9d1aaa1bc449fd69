"""``mkdocs build --strict`` passes, every internal link and anchor of the built site
resolves, and a broken link fails the build."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from .conftest import BuiltSite, copy_docs_project, mkdocs_build


class _Links(HTMLParser):
    """Every ``href``/``src`` of a page, and every ``id`` it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in {"href", "src"}:
                self.links.append(value)
            elif name == "id":
                self.ids.add(value)


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text("utf-8"))
    return parser


def _target(site: Path, page: Path, link: str) -> tuple[Path, str] | None:
    """The file and fragment an internal link points to; None for external links."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:")):
        return None
    path = unquote(parts.path)
    if not path:
        return page, parts.fragment
    target = (page.parent / path).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, parts.fragment


def broken_links(site: Path) -> list[str]:
    """``page: link`` for every internal link whose file or anchor does not exist."""
    # 404.html is served at any depth, so mkdocs gives it root-relative links: skipped.
    pages = {page: _parse(page) for page in site.rglob("*.html") if page.name != "404.html"}
    broken = []
    for page, parsed in pages.items():
        for link in parsed.links:
            found = _target(site, page, link)
            if found is None:
                continue
            target, fragment = found
            if not target.is_file() or not target.resolve().is_relative_to(site.resolve()):
                broken.append(f"{page.relative_to(site)}: {link}")
            elif fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if fragment not in ids:
                    broken.append(f"{page.relative_to(site)}: {link}")
    return broken


def test_the_site_builds_strictly_without_warnings(built_site: BuiltSite) -> None:
    assert "WARNING" not in built_site.output, built_site.output
    for page in ("", "quickstart/", "guides/errors/", "reference/truelayer_async/", "design/"):
        assert (built_site.root / page / "index.html").is_file(), page


def test_every_internal_link_and_anchor_resolves(built_site: BuiltSite) -> None:
    assert broken_links(built_site.root) == []


def test_the_quickstart_page_shows_the_readme_quickstart(built_site: BuiltSite) -> None:
    html = built_site.page("quickstart")
    assert "--8&lt;--" not in html  # the snippet include was expanded
    text = re.sub(r"<[^>]+>", "", html)
    assert "tl.auth.exchange_code(code, user=" in text.replace("&quot;", '"')


def test_the_link_checker_finds_a_missing_anchor(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "index.html").write_text('<a href="a/#here">x</a><a href="a/#gone">y</a>', "utf-8")
    (site / "a" / "index.html").write_text('<h2 id="here">A</h2><a href="../b/">z</a>', "utf-8")
    assert broken_links(site) == ["index.html: a/#gone", "a/index.html: ../b/"]


@pytest.mark.parametrize(
    ("page", "broken"),
    [
        ("docs/guides/logging.md", "[gone](no-such-page.md)"),
        ("docs/guides/logging.md", "[gone](errors.md#no-such-heading)"),
    ],
    ids=["missing-page", "missing-anchor"],
)
def test_a_broken_link_fails_the_strict_build(tmp_path: Path, page: str, broken: str) -> None:
    project = copy_docs_project(tmp_path / "project")
    target = project / page
    target.write_text(target.read_text("utf-8") + f"\nSee {broken}.\n", "utf-8")
    proc = mkdocs_build(project / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode != 0
    assert "no-such" in proc.stdout + proc.stderr
