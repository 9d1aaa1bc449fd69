"""Walk the emulator's auth dialog over HTTP, the way a browser would.

``complete_consent`` opens the auth link, follows the dialog's redirects, and submits its
HTML forms (provider choice, login, consent) with real requests. It stops at the redirect
back to the client, which it does not follow, and returns what the browser would have
delivered there.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import attrs
import httpx

__all__ = ["ConsentFlowError", "ConsentResult", "complete_consent"]


@attrs.frozen
class ConsentResult:
    """Where the dialog sent the browser at the end.

    ``redirect_url`` is the URL the browser lands on (with the query for the default
    response mode; the form's action for ``form_post``). ``form`` holds the POSTed fields
    for ``form_post`` (else ``None``); ``params`` holds ``code``/``state``/``error`` from
    either.
    """

    redirect_url: str
    form: dict[str, str] | None
    params: dict[str, str]

    @property
    def code(self) -> str | None:
        return self.params.get("code")

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


class ConsentFlowError(Exception):
    """The dialog showed an error page, refused the login, or lacked an expected element."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.description = description


@attrs.define
class _Form:
    form_id: str | None
    action: str
    method: str
    fields: dict[str, str] = attrs.Factory(dict)
    buttons: dict[str, tuple[str, str]] = attrs.Factory(dict)  # id -> (name, value)


class _PageParser(HTMLParser):
    """Collects the page step, its forms and the text of elements with an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.step: str | None = None
        self.forms: list[_Form] = []
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str]] = []  # (tag, id) of open elements with an id

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs_list}
        if tag == "body":
            self.step = a.get("data-step")
        elif tag == "form":
            self.forms.append(_Form(a.get("id"), a.get("action", ""), a.get("method", "get")))
        elif tag == "input" and self.forms and a.get("name"):
            if a.get("type", "text") not in ("submit", "button", "image", "reset"):
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms:
            key = a.get("id") or f"#{len(self.forms[-1].buttons)}"
            self.forms[-1].buttons[key] = (a.get("name", ""), a.get("value", ""))
        if a.get("id") and tag not in ("input", "form", "body"):
            self._open.append((tag, a["id"]))
            self.texts[a["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts[self._open[-1][1]] += data


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _form_with_button(page: _PageParser, button_id: str) -> tuple[_Form, tuple[str, str]]:
    for form in page.forms:
        if button_id in form.buttons:
            return form, form.buttons[button_id]
    raise ConsentFlowError(f"the {page.step!r} page has no #{button_id} button")


async def complete_consent(
    client: httpx.AsyncClient,
    auth_link: str,
    *,
    username: str = "john",
    password: str = "doe",
    approve: bool = True,
    provider_id: str = "mock",
    max_steps: int = 12,
) -> ConsentResult:
    """Open ``auth_link`` and click through the dialog; return where it redirects.

    ``provider_id`` is clicked on the bank-selection page (skipped when the link already
    named a provider); ``username``/``password`` go into the mock bank's login form;
    ``approve`` picks Allow or Cancel. Raises ``ConsentFlowError`` when the dialog shows
    an error page, rejects the login, or does not offer the provider.
    """
    origin = _origin(auth_link)
    method, url, data = "GET", auth_link, None
    logged_in = False
    for _ in range(max_steps):
        response = await client.request(method, url, data=data, follow_redirects=False)
        if response.is_redirect:
            location = urljoin(url, response.headers["location"])
            parts = urlsplit(location)
            if _origin(location) == origin and parts.path.startswith("/dialog/"):
                method, url, data = "GET", location, None
                continue
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            return ConsentResult(redirect_url=location, form=None, params=params)
        page = _PageParser()
        page.feed(response.text)
        page.close()
        if page.step == "error" or response.status_code >= 400:
            error = page.texts.get("error-code")
            description = page.texts.get("error-description")
            raise ConsentFlowError(
                f"the dialog answered {response.status_code} {error}: {description}",
                status_code=response.status_code,
                error=error,
                description=description,
            )
        if page.step == "redirect":
            form = next((f for f in page.forms if f.form_id == "redirect-form"), None)
            if form is None:
                raise ConsentFlowError("the form_post page has no #redirect-form")
            fields = dict(form.fields)
            return ConsentResult(redirect_url=form.action, form=fields, params=fields)
        if page.step == "provider":
            if f"provider-{provider_id}" not in {b for f in page.forms for b in f.buttons}:
                raise ConsentFlowError(
                    f"provider {provider_id!r} is not offered (is it covered by the link's "
                    "providers=…? the Mock bank needs uk-cs-mock)"
                )
            form, (name, value) = _form_with_button(page, f"provider-{provider_id}")
            fields = {**form.fields, name: value}
        elif page.step == "login":
            if logged_in:
                raise ConsentFlowError(
                    f"login rejected: {page.texts.get('login-error', '').strip()}",
                    error="login_rejected",
                    description=page.texts.get("login-error"),
                )
            logged_in = True
            form, (name, value) = _form_with_button(page, "login-submit")
            fields = {**form.fields, "username": username, "password": password}
            if name:
                fields[name] = value
        elif page.step == "consent":
            form, (name, value) = _form_with_button(page, "approve" if approve else "cancel")
            fields = {**form.fields, name: value}
        else:
            raise ConsentFlowError(f"unexpected page (status {response.status_code})")
        method, url, data = form.method.upper(), urljoin(url, form.action), fields
    raise ConsentFlowError(f"the dialog did not finish within {max_steps} steps")
