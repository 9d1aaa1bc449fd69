"""Walk the emulator's hosted payment page and mock bank over HTTP, the way a browser would.

``complete_payment`` opens a hosted payment page link (``created.hosted_page.uri``, a
``tl.hosted_page.payment_url(...)`` link, or a payment link's ``uri``), does what the
page's script does with the URL fragment, picks a bank, and submits the mock bank's form.
It stops at the redirect back to the ``return_uri``, which it does not follow, and
returns where the browser would have landed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urljoin, urlsplit

import attrs
import httpx

from .consent import _form_with_button, _origin, _PageParser

__all__ = ["PaymentPageError", "PaymentPageResult", "complete_payment"]

#: Emulator paths the browser stays on; any other redirect is the return to the merchant.
_PAGE_PATHS = ("/hpp/payments", "/mock-bank/", "/links/")


@attrs.frozen
class PaymentPageResult:
    """Where the mock bank sent the browser at the end.

    ``redirect_url`` is the return URI with ``payment_id`` added to its query (or, for a
    ``direct_return_uri``, ``state``); ``params`` is that query.
    """

    redirect_url: str
    params: dict[str, str]

    @property
    def payment_id(self) -> str | None:
        """The ``payment_id`` the return URI received (``None`` for a direct return)."""
        return self.params.get("payment_id")

    @property
    def state(self) -> str | None:
        """The ``state`` of a ``direct_return_uri`` (for ``submit_provider_return``)."""
        return self.params.get("state")


class PaymentPageError(Exception):
    """The hosted page or the mock bank showed an error, refused the username, had
    nothing left to authorise, or lacked an expected element."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def _fragment_fields(url: str, page: _PageParser) -> tuple[str, dict[str, str]]:
    """What the ``hpp-start`` page's script posts: its form, filled from the fragment."""
    form = next((f for f in page.forms if f.form_id == "hpp-start"), None)
    if form is None:
        raise PaymentPageError("the hosted page has no #hpp-start form")
    given = dict(parse_qsl(urlsplit(url).fragment, keep_blank_values=True))
    fields = {name: given.get(name, value) for name, value in form.fields.items()}
    return urljoin(url, form.action), fields


async def complete_payment(
    client: httpx.AsyncClient,
    hosted_page_url: str,
    *,
    username: str = "test_executed",
    provider_id: str | None = None,
    approve: bool = True,
    execution_delay: float | None = None,
    settlement_delay: float | None = None,
    max_steps: int = 12,
) -> PaymentPageResult:
    """Open ``hosted_page_url`` and click through the hosted page and the mock bank;
    return where the bank redirects.

    ``provider_id`` is clicked on the bank list (default: the first one offered; ignored
    when the payment preselected its provider). ``username`` goes into the mock bank's
    form and decides the outcome: ``test_executed``, ``test_authorisation_failed`` or
    ``test_execution_rejected``; ``approve=False`` clicks Cancel instead.
    ``execution_delay``/``settlement_delay`` (emulator seconds) fill the bank's optional
    fields. Works against the emulator only (in-process or served).

    Raises ``PaymentPageError`` when a page shows an error (an expired link, an unknown
    provider), the bank refuses the username, the payment is no longer waiting for
    authorisation, or the journey does not end within ``max_steps`` requests.
    """
    origin = _origin(hosted_page_url)
    method, url = "GET", hosted_page_url.split("#", 1)[0]
    data: dict[str, str] | None = None
    submitted_bank = False
    for _ in range(max_steps):
        response = await client.request(method, url, data=data, follow_redirects=False)
        if response.is_redirect:
            location = urljoin(url, response.headers["location"])
            parts = urlsplit(location)
            if _origin(location) == origin and parts.path.startswith(_PAGE_PATHS):
                # A payment link's redirect carries the HPP parameters in its fragment.
                method, url, data = "GET", location, None
                if parts.fragment:
                    hosted_page_url = location
                    url = location.split("#", 1)[0]
                continue
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            return PaymentPageResult(redirect_url=location, params=params)
        page = _PageParser()
        page.feed(response.text)
        page.close()
        if page.step == "error" or response.status_code >= 400:
            description = page.texts.get("error-description", "").strip()
            raise PaymentPageError(
                f"the hosted page answered {response.status_code}: {description}",
                status_code=response.status_code,
            )
        if page.step == "hpp-start":
            action, fields = _fragment_fields(hosted_page_url, page)
            method, url, data = "POST", action, fields
            continue
        if page.step == "hpp-providers":
            offered = [b for f in page.forms for b in f.buttons if b.startswith("provider-")]
            button = f"provider-{provider_id}" if provider_id else (offered or [""])[0]
            if button not in offered:
                raise PaymentPageError(
                    f"provider {provider_id!r} is not offered for this payment "
                    f"(offered: {', '.join(b.removeprefix('provider-') for b in offered)})"
                )
            form, (name, value) = _form_with_button(page, button)
            fields = {**form.fields, name: value}
        elif page.step == "bank":
            if submitted_bank:
                error = page.texts.get("bank-error", "").strip()
                raise PaymentPageError(f"the mock bank refused the form: {error}")
            submitted_bank = True
            form, (name, value) = _form_with_button(page, "authorise" if approve else "cancel")
            fields = {**form.fields, "username": username, name: value}
            for field, delay in (
                ("execution_delay", execution_delay),
                ("settlement_delay", settlement_delay),
            ):
                fields[field] = "" if delay is None else f"{delay:g}"
        elif page.step == "result":
            status = page.texts.get("payment-status", "").strip()
            raise PaymentPageError(f"the payment is no longer waiting for authorisation: {status}")
        else:
            raise PaymentPageError(f"unexpected page (status {response.status_code})")
        method, url, data = form.method.upper(), urljoin(url, form.action), fields
    raise PaymentPageError(f"the hosted page did not finish within {max_steps} steps")
