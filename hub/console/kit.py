"""What every console page needs, handed to the modules that add pages (``manage``,
``reference``) so they check roles, CSRF and render exactly as the core pages do."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console.i18n import LANGUAGES
from hub.errors import Unauthorized


def language(request: Request, cookie: str) -> str:
    """The language the person chose (a cookie per set of pages); Thai first."""
    lang = request.cookies.get(cookie, "th")
    return lang if lang in LANGUAGES else "th"


def session(request: Request, cookie: str, hub: Any) -> tuple[Any, str] | None:
    """(principal, token) of the person's session cookie, or None when absent or no longer valid."""
    token = request.cookies.get(cookie)
    if not token:
        return None
    try:
        return hub.security.authenticator.from_session(token), token
    except Unauthorized:
        return None


class Forbidden(Exception):  # noqa: N818 - answered as the console's 403 page
    pass


@dataclass(frozen=True)
class Kit:
    prefix: str
    get_hub: Callable[[], Any]
    # page(request, template, principal=, token=, status=, **values) -> HTMLResponse
    page: Callable[..., HTMLResponse]
    # signed_in(request, *roles) -> (principal, session token); refuses (403, audited) other roles
    signed_in: Callable[..., tuple[Any, str]]
    # checked_form(request, token) -> the form, once its CSRF token is right (403 otherwise)
    checked_form: Callable[[Any, str], Awaitable[Any]]

    def back(self, path: str, **query: Any) -> RedirectResponse:
        """303 to a console page (after a POST), with a note for the page to show."""
        values = {k: v for k, v in query.items() if v is not None}
        return RedirectResponse(f"{self.prefix}{path}" + (f"?{urlencode(values)}" if values else ""),
                                status_code=303)

    def audit(self, kind: str, principal: Any, **detail: Any) -> None:
        self.get_hub().security.audit.record(kind, actor=principal.subject, channel="console", **detail)
