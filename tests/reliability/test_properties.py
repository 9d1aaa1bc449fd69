"""Property-based tests: PKCE, arbitrary bodies, and a state machine over refresh + store.

(Auth links round-tripping through ``parse_qs`` is test_oa.py::test_oa08_…; arbitrary
states and query strings on the callback are test_oa.py::test_oa04_… / test_oa05_….)
"""

from __future__ import annotations

import base64
import hashlib
import re

import anyio
import anyio.from_thread
import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.support.doubles import FailingStore, RecordingSleep
from tests.support.reliability import (
    ACCOUNTS_URL,
    PROPERTY,
    REDIRECT,
    TOKEN_URL,
    Secrets,
    TokenServer,
    accounts_body,
    form_of,
    refresh_of,
)
from truelayer_async import Session, TokenType
from truelayer_async import errors as e
from truelayer_async._json import loads
from truelayer_async._pkce import code_challenge, new_code_verifier
from truelayer_async.testing import FakeClock
from truelayer_async.tokens import TokenKey

VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")

# -- PKCE ---------------------------------------------------------------------------------


@PROPERTY
@given(st.integers(43, 128))
def test_pkce_verifier_and_challenge_properties(length: int) -> None:
    verifier = new_code_verifier(length)
    assert VERIFIER.fullmatch(verifier) and len(verifier) == length
    challenge = code_challenge(verifier)
    assert len(challenge) == 43 and re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge)
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@PROPERTY
@given(st.integers(max_value=42) | st.integers(min_value=129))
def test_pkce_out_of_range_lengths_are_typed(length: int) -> None:
    with pytest.raises(e.InvalidParameterError):
        new_code_verifier(length)


# -- PR-01: arbitrary bodies ------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
JSONISH = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(PROPERTY, max_examples=300)
@given(st.binary(max_size=2048))
def test_pr01_arbitrary_bytes_decode_or_raise_malformed(body: bytes) -> None:
    error = _decode_error(body)
    if error is not None:
        assert type(error) is e.MalformedResponseError
        assert error.snippet is None or len(error.snippet) <= 120


def _decode_error(body: bytes) -> e.MalformedResponseError | None:
    try:
        loads(body)
    except e.MalformedResponseError as exc:
        return exc
    return None


@PROPERTY
@given(st.binary(max_size=512) | JSONISH.map(lambda v: repr(v).encode()))
@pytest.mark.asyncio
async def test_pr01_arbitrary_bodies_through_a_data_call(body: bytes) -> None:
    """Through the whole path (HTTP, decode, models): a list of accounts or one typed error."""
    with respx.mock:
        respx.post(TOKEN_URL).mock(
            return_value=httpx.Response(
                200, json={"access_token": "at", "token_type": "Bearer", "expires_in": 3600}
            )
        )
        respx.get(ACCOUNTS_URL).mock(
            return_value=httpx.Response(
                200, content=body, headers={"content-type": "application/json"}
            )
        )
        async with Session("c", "s", redirect_uri=REDIRECT) as tl:
            await tl.auth.exchange_code("code")
            try:
                accounts = await tl.data.accounts()
            except e.MalformedResponseError:
                return
    assert isinstance(accounts, list)


# -- the state machine ----------------------------------------------------------------------


LOUD = (e.TokenPersistenceError, e.TransportError)
ALLOWED = (e.ReauthorizationRequired, e.UnauthenticatedError, *LOUD)


class RefreshMachine(RuleBasedStateMachine):
    """The auth service and a durable store against a strict rotating token server.

    Invariant: the stored refresh token is the newest one the server issued, or the
    record is marked invalid, or the SDK said so loudly (TokenPersistenceError, and the
    newer token is held in memory; a crash then loses it, which the model tracks).
    """

    reuse = "revoke"

    def __init__(self) -> None:
        super().__init__()
        self.secrets = Secrets("tlsecret_machine")
        self.server = TokenServer(self.secrets, reuse=self.reuse)
        self.clock = FakeClock(1_700_000_000.0)
        self.store = FailingStore()
        self.drops = 0
        # True while the SDK has said loudly that the store may lag the server: a
        # TokenPersistenceError, a refresh whose outcome is unknown (TransportError with
        # request_sent), or a crash while the newest token was held only in memory.
        self.loud = False
        self.outcomes: list[type[BaseException] | None] = []
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self.tl = self._open()
        self.portal.call(self._connect)

    # -- plumbing ---------------------------------------------------------------------------

    async def _handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            form = form_of(request)
            if form.get("grant_type") == "refresh_token" and self.drops:
                self.drops -= 1
                self.server.handle(form)  # the server rotates, then the answer is lost
                raise httpx.ReadTimeout("lost", request=request)
            return self.server(request)
        if request.headers.get("authorization") != f"Bearer {self.server.latest_access}":
            return httpx.Response(401, json={"error": "unauthorized"})
        return httpx.Response(200, json=accounts_body())

    def _open(self) -> Session:
        async def open_() -> Session:
            client = httpx.AsyncClient(transport=httpx.MockTransport(self._handler))
            tl = Session(
                "c",
                self.secrets.client_secret,
                redirect_uri=REDIRECT,
                clock=self.clock,
                sleep=RecordingSleep(),
                token_store=self.store,
                http_client=client,
            )
            await tl.open()
            return tl

        return self.portal.call(open_)

    async def _close(self) -> None:
        client = self.tl._core.requester().client
        await self.tl.aclose()
        await client.aclose()

    async def _connect(self) -> None:
        self.loud = False
        try:
            await self.tl.auth.exchange_code(self.secrets.code, user="u")
        except e.TokenPersistenceError:
            self.loud = True  # the new record is held in memory and written on next access

    @property
    def key(self) -> TokenKey:
        return self.tl._core.tokens.key(TokenType.DATA, "u")

    async def _call(self) -> None:
        try:
            await self.tl.data.accounts(user="u")
            self.outcomes.append(None)
        except e.TrueLayerError as exc:  # anything else fails the test
            self.outcomes.append(type(exc))

    def _calls(self, n: int) -> None:
        async def many() -> None:
            async with anyio.create_task_group() as tg:
                for _ in range(n):
                    tg.start_soon(self._call)

        start = len(self.outcomes)
        self.portal.call(many)
        batch = self.outcomes[start:]
        if any(o is not None and issubclass(o, LOUD) for o in batch):
            self.loud = True
        elif None in batch:
            self.loud = False  # a success re-wrote the store (or found it current)

    # -- rules ------------------------------------------------------------------------------

    @rule()
    def api_call(self) -> None:
        self._calls(1)

    @rule(n=st.integers(2, 8))
    def concurrent_calls(self, n: int) -> None:
        self._calls(n)

    @rule()
    def expire_clock(self) -> None:
        self.clock.advance(4000)

    @rule()
    def drop_refresh_response(self) -> None:
        self.drops += 1

    @rule()
    def store_write_fails(self) -> None:
        self.store.fail += 1

    @rule()
    def crash_restart(self) -> None:
        if self.key in self.tl._core.tokens._unsaved:
            self.loud = True  # the newest token only ever lived in memory: lost, loudly
        self.portal.call(self._close)
        self.tl = self._open()

    @precondition(lambda self: self._needs_reconnect())
    @rule()
    def reconnect(self) -> None:
        self.portal.call(self._connect)

    def _needs_reconnect(self) -> bool:
        record = self.portal.call(self.store.get, self.key)
        return record is None or record.invalid or self.loud

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def stored_refresh_token_is_the_newest_or_marked(self) -> None:
        record = self.portal.call(self.store.get, self.key)
        held = self.tl._core.tokens._unsaved.get(self.key) or record
        if held is None or held.invalid or self.loud:
            return
        assert refresh_of(held) == self.server.latest_refresh, self.outcomes[-5:]

    @invariant()
    def only_documented_outcomes(self) -> None:
        for outcome in self.outcomes:
            assert outcome is None or issubclass(outcome, ALLOWED), outcome

    def teardown(self) -> None:
        self.portal.call(self._close)
        self._portal_cm.__exit__(None, None, None)


class GraceRefreshMachine(RefreshMachine):
    """The same against a FAPI-style server that accepts the previous refresh token once."""

    reuse = "grace"


MACHINE = settings(PROPERTY, max_examples=40, stateful_step_count=30)
TestRefreshMachine = RefreshMachine.TestCase
TestRefreshMachine.settings = MACHINE
TestGraceRefreshMachine = GraceRefreshMachine.TestCase
TestGraceRefreshMachine.settings = MACHINE
