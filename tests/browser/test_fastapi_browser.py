"""The FastAPI example, clicked through in a real headless Chromium, on a desktop and on
a phone-sized screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import browser_page
from tests.support.fastapi_example import ServedApp

PHONE = {"width": 375, "height": 667}  # an iPhone SE's CSS pixels
MONEY = re.compile(r"-?[\d,]+\.\d\d GBP")


def connect_the_bank(
    page: Any, served: ServedApp, artifacts: Path, prefix: str, *, must_fit: bool = False
) -> None:
    """From the app's home page through the emulator's dialog and back to /accounts;
    with ``must_fit``, every page on the way fits the screen's width."""
    # The app's /login sends the browser to the emulator's auth dialog.
    page.goto(f"{served.app_url}/")
    assert not must_fit or horizontal_overflow(page) <= 0
    page.click("#connect")
    page.wait_for_url(f"{served.emulator_url}/**")

    # Choose the mock bank (skipped when it is the only one), log in as john / doe, approve.
    if page.locator("#provider-mock").count():
        page.click("#provider-mock")
    page.wait_for_selector("#username")
    page.screenshot(path=str(artifacts / f"{prefix}1-mock-bank-login.png"))
    assert not must_fit or horizontal_overflow(page) <= 0
    page.fill("#username", "john")
    page.fill("#password", "doe")
    page.click("#login-submit")
    page.wait_for_selector("#approve")
    page.screenshot(path=str(artifacts / f"{prefix}2-consent.png"))
    assert not must_fit or horizontal_overflow(page) <= 0
    page.click("#approve")

    # Back at the app: /callback checked the state and exchanged the code.
    page.wait_for_url(f"{served.app_url}/accounts")
    assert page.title() == "Your accounts"


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the screen (0: none)."""
    overflow: int = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )
    return overflow


def outside_the_screen(page: Any, selector: str) -> list[str]:
    """Texts of the elements matching ``selector`` that do not fit the screen's width."""
    found: list[str] = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter(e => { const r = e.getBoundingClientRect();
                           return r.left < 0 || r.right > window.innerWidth + 0.5; })
            .map(e => e.innerText)""",
        selector,
    )
    return found


@pytest.mark.browser
def test_login_consent_and_accounts_in_a_real_browser(
    served_app: ServedApp, artifacts: Path
) -> None:
    with browser_page(viewport={"width": 1100, "height": 720}) as page:
        connect_the_bank(page, served_app, artifacts, "desktop-")
        names = page.locator("tr.account td:first-child").all_inner_texts()
        assert names == ["Everyday Current", "Rainy Day Saver"]
        balances = page.locator("tr.account td.num").all_inner_texts()
        assert all(MONEY.fullmatch(b) for b in balances), balances
        page.screenshot(path=str(artifacts / "desktop-3-accounts.png"), full_page=True)

        # An account's transactions.
        page.click("text=Everyday Current")
        page.wait_for_url(re.compile(r".*/transactions\?account_id=.*"))
        assert page.locator("tr.transaction").count() > 10
        page.screenshot(path=str(artifacts / "desktop-4-transactions.png"))


@pytest.mark.browser
def test_the_app_on_a_phone(served_app: ServedApp, artifacts: Path) -> None:
    """375×667 with a mobile viewport: the login flow works, and the accounts and
    transactions pages fit the screen's width, in type large enough to read."""
    with browser_page(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    ) as page:
        connect_the_bank(page, served_app, artifacts, "phone-", must_fit=True)
        page.screenshot(path=str(artifacts / "phone-3-accounts.png"), full_page=True)
        # The page asks for the device's width (a viewport meta tag), instead of being
        # laid out 980 pixels wide and shrunk.
        assert page.evaluate("window.innerWidth") == PHONE["width"]
        assert horizontal_overflow(page) <= 0
        # Every cell shows in full: names, account numbers and balances, with labels.
        assert outside_the_screen(page, "tr.account td, h1, header a") == []
        cells = page.locator("tr.account td.num").all_inner_texts()
        assert len(cells) == 4 and all(MONEY.fullmatch(c) for c in cells), cells
        texts = page.locator("tr.account").all_inner_texts()
        assert "Everyday Current" in texts[0] and "Current" in texts[0], texts
        font_px = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('td')).fontSize)"
        )
        assert font_px >= 14

        page.locator("text=Rainy Day Saver").tap()
        page.wait_for_url(re.compile(r".*/transactions\?account_id=.*"))
        page.screenshot(path=str(artifacts / "phone-4-transactions.png"), full_page=True)
        assert page.locator("tr.transaction").count() > 5
        assert horizontal_overflow(page) <= 0
        assert outside_the_screen(page, "tr.transaction td") == []
