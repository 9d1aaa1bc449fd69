"""The FastAPI example, clicked through in a real headless Chromium."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.conftest import require_binary

from .conftest import CHROMIUM_ARGS, Servers, require_playwright


@pytest.mark.browser
def test_login_consent_and_accounts_in_a_real_browser(servers: Servers, artifacts: Path) -> None:
    chromium = require_binary("chromium")
    sync_api = require_playwright()
    started = time.monotonic()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=20_000
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 720})
            page.set_default_timeout(10_000)

            # The app's /login sends the browser to the emulator's auth dialog.
            page.goto(f"{servers.app_url}/")
            page.click("#connect")
            page.wait_for_url(f"{servers.emulator_url}/dialog/**")

            # Choose the mock bank, log in as john / doe, approve.
            page.click("#provider-mock")
            page.wait_for_selector("#username")
            page.screenshot(path=str(artifacts / "1-mock-bank-login.png"))
            page.fill("#username", "john")
            page.fill("#password", "doe")
            page.click("#login-submit")
            page.wait_for_selector("#approve")
            page.screenshot(path=str(artifacts / "2-consent.png"))
            page.click("#approve")

            # Back at the app: /callback checked the state and exchanged the code.
            page.wait_for_url(f"{servers.app_url}/accounts")
            assert page.title() == "Your accounts"
            names = page.locator("tr.account td:first-child").all_inner_texts()
            assert names == ["Everyday Current", "Rainy Day Saver"]
            balances = page.locator("tr.account td.num").all_inner_texts()
            assert all(re.fullmatch(r"-?[\d,]+\.\d\d GBP", b) for b in balances), balances
            page.screenshot(path=str(artifacts / "3-accounts.png"), full_page=True)

            # An account's transactions.
            page.click("text=Everyday Current")
            page.wait_for_url(re.compile(r".*/transactions\?account_id=.*"))
            assert page.locator("tr.transaction").count() > 10
            page.screenshot(path=str(artifacts / "4-transactions.png"))
        finally:
            browser.close()
    assert time.monotonic() - started < 30
