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


def session_started(request: Request, next_path: str, token: str, *, prefix: str, cookies: tuple[str, str],
                    samesite: str) -> RedirectResponse:
    """After a sign-in: to ``next_path`` with the session cookie (``cookies``: the session's and
    the sign-in form's, which is dropped), scoped to the pages under ``prefix``."""
    session_cookie, pre_cookie = cookies
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(session_cookie, token, httponly=True, samesite=samesite, path=prefix,
                        secure=request.url.scheme == "https")
    response.delete_cookie(pre_cookie, path=prefix)
    return response


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
