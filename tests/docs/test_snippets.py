"""Every code block of the documentation is either run here or marked as a fragment.

Blocks are marked in the Markdown (``<!-- docs-test: NAME -->`` before a block the suite
runs, ``<!-- docs-fragment: NAME -->`` before one that cannot run as is). A plain script
block runs as pasted, in a fresh process, against the emulator; the web-app blocks are
imported and driven through their HTTP routes; the pytest file runs under pytest."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
)
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection

from tests.support.clean_checkout import assert_every_name_defined, run
from tests.support.doc_blocks import (
    DOCS,
    README,
    MarkedBlock,
    doc_block,
    marked_blocks,
    unmarked_python_blocks,
)
from truelayer_async.testing import FakeTrueLayer, complete_consent

PAGES = [README, *sorted(DOCS.rglob("*.md"))]
WEB_BACKEND = DOCS / "guides" / "web-backend.md"
TESTING_GUIDE = DOCS / "guides" / "testing.md"

#: What each script block must print (stdout and stderr): the proof it did its job.
SCRIPT_OUTPUT = {
    "fetch-all": r"user-3 must connect their bank again\n(?s:.*)"
    r"user-5 2 accounts, \d+ transactions",
    "own-fan-out": r"alice \['Everyday Current', 'Rainy Day Saver'\]",
    "iter-all": r"^user-2 failed: ReauthorizationRequired\nsaved 3 users$",
    "sqlite-restart": r"^2 accounts after a restart, no new login$",
    "verify": r"verified: True score: 100\n(?s:.*)Mock Credit Card CREDIT_CARD",
    "verification-v3": r"^close: the bank holds John Doe\nbank: BNPAFRPPXXX BNP PARIBAS$",
    "handling-errors": r"alice must reconnect: consent_expired\n"
    r"bob rate limited; retry after 2.0 s\nbob, later: 2 accounts",
    "migrate-tokens": r"^alice: 2 accounts, 1 refresh$",
    "payments-hosted-page": r"^authorization_required -> https://\S+/hpp/payments\n"
    r"settled 1000 GBP\nrefund (pending|authorized|executed)$",
    "payouts-and-accounts": r"^payout executed\ntransaction merchant_account_payment 1000\n"
    r"transaction payout 400$",
    "mandates": r"^authorise at https://\S+/hpp/mandates\nmandate authorized\npayment settled\n"
    r"too big failed constraint_violation$",
    "payments-own-ui": r"^banks: mock-payments-gb-redirect\n"
    r"send the user to their bank: True\nexecuted$",
    "logging": r"GET /data/v1/accounts -> 503 \(attempt 1(?s:.*)GET /data/v1/accounts -> 200 "
    r"\(attempt 2",
    "emulator-payments": r"^settled$",
    "emulator-hosted-payment": r"^https://shop\.example/done\?payment_id=[0-9a-f-]{36}\nsettled$",
    "data-v3": r"^authorization_required -> https://\S+/data-v3/connect/\S+\n"
    r"current GBP net -?\d+\nsavings GBP net -?\d+$",
    "signup-plus": r"^John Watson 1852-08-07$",
    "observability": r'"name": "truelayer.data.accounts"(?s:.*)"truelayer.retry_count": 1'
    r'(?s:.*)"name": "truelayer.request.duration"',
    "event-hooks": r"truelayer.data.accounts GET -> 503 .*\(request web-req-42, TrueLayer "
    r"(?s:.*)retrying after 503(?s:.*)truelayer.data.accounts GET -> 200",
}
#: Blocks driven by their own tests below (or in tests/served: the curl walk-through).
DRIVEN = {"handlers", "fastapi", "aiohttp", "pytest", "pytest-fixtures", "emulator-curl"}


def _docs_tests() -> list[MarkedBlock]:
    return [b for page in PAGES for b in marked_blocks(page) if b.kind == "docs-test"]


SCRIPTS = [b for b in _docs_tests() if b.name not in DRIVEN]


# -- every block is accounted for -----------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(README.parent)))
def test_every_python_block_is_run_or_marked_as_a_fragment(page: Path) -> None:
    assert unmarked_python_blocks(page) == [], f"unmarked Python blocks in {page.name}"


def test_an_unmarked_block_is_noticed(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- docs-test: a -->\n```python\nprint(1)\n```\n\ntext\n\n```python\nprint(2)\n```\n"
        "- item\n\n  <!-- docs-fragment: b -->\n  ```python\n  x\n  ```\n",
        "utf-8",
    )
    assert unmarked_python_blocks(page) == [8]
    assert [(b.name, b.body) for b in marked_blocks(page)] == [("a", "print(1)\n"), ("b", "x\n")]


def test_every_marked_name_is_unique_and_driven_blocks_exist() -> None:
    names = [b.name for b in _docs_tests()]
    assert len(names) == len(set(names)), names
    assert set(DRIVEN) <= set(names)
    assert {b.name for b in SCRIPTS} == set(SCRIPT_OUTPUT)


# -- script blocks run as pasted ------------------------------------------------------------


@pytest.mark.parametrize("block", SCRIPTS, ids=lambda b: b.name)
def test_the_script_block_runs_as_pasted(block: MarkedBlock, tmp_path: Path) -> None:
    assert block.lang == "python"
    script = tmp_path / "snippet.py"
    script.write_text(block.body, "utf-8")
    assert_every_name_defined(script)

    proc = run([sys.executable, "-W", "error", str(script)], cwd=tmp_path, timeout=120)

    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert re.search(SCRIPT_OUTPUT[block.name], output, re.MULTILINE), output


# -- the two HTTP handlers ------------------------------------------------------------------


class _AppUser(BaseUser):
    def __init__(self, identity: str) -> None:
        self._identity = identity

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def identity(self) -> str:
        return self._identity


class _HeaderLogin(AuthenticationBackend):
    """Stands in for the app's own login: the user id comes in a test header."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        return AuthCredentials(["authenticated"]), _AppUser(conn.headers["x-test-user"])


def _load_app(tmp_path: Path, name: str) -> dict[str, Any]:
    module = tmp_path / "app.py"
    module.write_text(doc_block(WEB_BACKEND, name), "utf-8")
    assert_every_name_defined(module)
    return runpy.run_path(str(module))


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["handlers", "fastapi"])
async def test_the_asgi_handlers_log_a_user_in_through_the_emulator(
    tmp_path: Path, name: str
) -> None:
    """/login redirects to the auth dialog; the dialog's redirect to /callback exchanges the
    code for the app's user; a callback without a login in progress is a 400."""
    app = _load_app(tmp_path, name)["app"]
    async with FakeTrueLayer() as fake, fake.session() as tl:
        app.state.tl = tl  # what the snippet's lifespan does with a real Session
        browser = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=AuthenticationMiddleware(app, _HeaderLogin())),
            base_url="http://127.0.0.1:8080",
            headers={"x-test-user": "alice"},
        )
        async with browser:
            login = await browser.get("/login")
            assert login.status_code == 307
            bank = await complete_consent(
                fake.http_client(),
                login.headers["location"],
                provider_id="ob-lloyds-business",  # the default providers hide the mock
            )
            done = await browser.get(bank.redirect_url)
            assert done.status_code == 200, done.text
            accounts = await tl.data.accounts(user="alice")
            assert done.json() == [account.display_name for account in accounts]

            again = await browser.get(bank.redirect_url)  # the login was used up
            assert again.status_code == 400
            assert "no login in progress" in again.text


@pytest.mark.asyncio
async def test_the_aiohttp_handlers_log_a_user_in_through_the_emulator(tmp_path: Path) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    namespace = _load_app(tmp_path, "aiohttp")
    app: web.Application = namespace["make_app"]()
    assert app.cleanup_ctx == [namespace["truelayer_session"]]
    app.cleanup_ctx.clear()  # the emulator's Session stands in for the real one

    @web.middleware
    async def header_login(request: web.Request, handler: Any) -> web.StreamResponse:
        request[namespace["USER"]] = request.headers["x-test-user"]  # the app's own login
        response: web.StreamResponse = await handler(request)
        return response

    app.middlewares.append(header_login)
    async with FakeTrueLayer() as fake, fake.session() as tl:
        app[namespace["TL"]] = tl
        headers = {"x-test-user": "alice"}
        async with TestClient(TestServer(app, host="127.0.0.1")) as browser:
            login = await browser.get("/login", headers=headers, allow_redirects=False)
            assert login.status == 302
            bank = await complete_consent(
                fake.http_client(), login.headers["location"], provider_id="ob-lloyds-business"
            )
            callback = httpx.URL(bank.redirect_url)
            target = callback.raw_path.decode()
            done = await browser.get(target, headers=headers)
            assert done.status == 200, await done.text()
            accounts = await tl.data.accounts(user="alice")
            assert await done.json() == [account.display_name for account in accounts]

            again = await browser.get(target, headers=headers)
            assert again.status == 400
            assert await again.json() == {"error": "no login in progress"}


# -- the pytest file ------------------------------------------------------------------------


def _write_test_file(directory: Path, marker: str) -> Path:
    source = doc_block(TESTING_GUIDE, "pytest")
    name = re.match(r"# (test_\w+\.py)\n", source)
    assert name is not None, "the guide's test file starts with a '# test_NAME.py' comment"
    assert "@pytest.mark.asyncio\n" in source
    path = directory / name[1]
    path.write_text(source.replace("@pytest.mark.asyncio\n", f"@pytest.mark.{marker}\n"), "utf-8")
    return path


@pytest.mark.parametrize(
    ("marker", "plugins", "passes"),
    [
        pytest.param("asyncio", [], True, id="as-pasted-with-pytest-asyncio"),
        pytest.param(
            "anyio", ["-p", "no:asyncio"], True, id="anyio-marker-without-pytest-asyncio"
        ),
        pytest.param("asyncio", ["-p", "no:asyncio", "-p", "no:anyio"], False, id="no-plugin"),
    ],
)
def test_the_guide_test_file_runs_under_pytest(
    tmp_path: Path, marker: str, plugins: list[str], passes: bool
) -> None:
    project = tmp_path / "project"  # no configuration: what a user's fresh project has
    project.mkdir()
    test_file = _write_test_file(project, marker)
    assert_every_name_defined(test_file)

    basetemp = f"--basetemp={tmp_path / 'tmp'}"
    pytest_args = ["-p", "no:cacheprovider", *plugins, basetemp, test_file.name]
    proc = run([sys.executable, "-m", "pytest", *pytest_args], cwd=project)

    output = proc.stdout + proc.stderr
    if passes:
        assert proc.returncode == 0, output
        assert re.search(r"\b[12] passed\b", output), output
        assert "skipped" not in output
    else:  # what the guide says plain pytest does
        assert proc.returncode == 1, output
        assert "async def functions are not natively supported" in output


def test_the_guide_fixtures_file_runs_under_pytest(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    source = doc_block(TESTING_GUIDE, "pytest-fixtures")
    name = re.match(r"# (test_\w+\.py)\n", source)
    assert name is not None
    test_file = project / name[1]
    test_file.write_text(source, "utf-8")
    assert_every_name_defined(test_file)

    basetemp = f"--basetemp={tmp_path / 'tmp'}"
    proc = run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", basetemp, test_file.name],
        cwd=project,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert re.search(r"\b2 passed\b", output), output
