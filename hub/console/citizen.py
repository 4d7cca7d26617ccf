"""The citizen's pages, mounted by the API at ``/citizen``: sign in, the consent page of the
OAuth authorization endpoint, my consents (revoke), and who read my data (the data tracker,
with JSON and CSV export).

Citizen sign-in. A citizen is a hub person's account with the role ``citizen`` whose username
is their 13-digit citizen ID (``hub users add 1101700203450 --role citizen``), signed in with
the hub's people's sessions (``Users.login``): the reference portal's stand-in for the
national digital ID (ThaID), which would sign the person in through OpenID Connect instead.

Safe by construction, as the operators' console (hub.console.app):

* the session lives only in an ``HttpOnly`` cookie scoped to ``/citizen``. It is
  ``SameSite=Lax``, not ``Strict``: a citizen arrives at the authorization endpoint by a
  top-level navigation from the e-service's site, which a ``Strict`` cookie never rides
  (the citizen would sign in on every request); ``Lax`` still keeps it off every cross-site
  POST, and every form carries a CSRF token (an HMAC of the session token) besides;
* a strict Content-Security-Policy (no script at all on these pages, nothing from a CDN);
* an authorization request whose client or redirect URI is not registered is answered on
  this hub's own error page, never by a redirect (no open redirect).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from hub.clock import utcnow
from hub.console.app import CSP, when
from hub.console.citizen_i18n import translate
from hub.console.i18n import LANGUAGES
from hub.console.kit import language, session, session_started
from hub.errors import HubError, NotFound
from hub.integration.eservices import FIELD_GROUPS
from hub.integration.oauth import AuthorizeError, ConsentAsk, HubOAuth2Request, ask, decide
from hub.schemas.principal import CITIZEN, Principal

PREFIX = "/citizen"
SESSION_COOKIE, PRE_COOKIE, LANG_COOKIE = "hub_citizen", "hub_citizen_pre", "hub_citizen_lang"
PAGE_CSP = CSP.replace("script-src 'self'", "script-src 'none'")
OAUTH_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                "code_challenge_method")


def _csrf(key: str, purpose: str) -> str:
    return hmac.new(key.encode(), f"citizen-csrf:{purpose}".encode(), hashlib.sha256).hexdigest()


def _local(path: str) -> str:
    """Only a path inside these pages may be a redirect target (no open redirect)."""
    return path if path.startswith(f"{PREFIX}/") and not path.startswith("//") and "\\" not in path \
        else f"{PREFIX}/consents"


def consent_csp(redirect_uri: str) -> str:
    """The consent form's answer redirects to the e-service, and browsers hold a form's
    redirects to ``form-action`` too: that one validated origin is added, nothing else."""
    parts = urlsplit(redirect_uri)
    return PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


def _values(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for key, value in items:
        out[key].append(value)
    return out


class _SignIn(Exception):  # noqa: N818 - control flow: answer with the sign-in page
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class _Refused(Exception):  # noqa: N818 - control flow: answer with the error page
    def __init__(self, key: str, status: int, detail: str | None = None) -> None:
        self.key, self.status, self.detail = key, status, detail


def create_citizen_pages(get_hub: Callable[[], Any]) -> FastAPI:
    pages = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    env = Environment(loader=PackageLoader("hub.console"), autoescape=select_autoescape(["html"]))

    def citizens() -> Any:
        integration = getattr(get_hub(), "integration", None)
        found = getattr(integration, "citizens", None)
        if found is None:
            raise _Refused("not_found", 404)
        return found

    @pages.middleware("http")
    async def security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        # No script on these pages at all; the console's CSP already forbids inline script. The
        # consent page sets its own (its form may redirect to the e-service: ``consent_csp``).
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"  # the code in a redirect leaks nowhere
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    def lang_of(request: Request) -> str:
        return language(request, LANG_COOKIE)

    def who(request: Request) -> tuple[Principal, str] | None:
        return session(request, SESSION_COOKIE, get_hub())

    def page(request: Request, template: str, *, found: tuple[Principal, str] | None = None, status: int = 200,
             **values: Any) -> HTMLResponse:
        lang = lang_of(request)
        html = env.get_template(f"citizen/{template}").render(
            lang=lang, t=lambda key, **v: translate(lang, key, **v), when=lambda v: when(v, lang),
            user=found[0] if found else None, citizen_id=found[0].subject.removeprefix("user:") if found else None,
            csrf=_csrf(found[1], "citizen") if found else None, path=request.url.path, prefix=PREFIX,
            groups_text={g: (th if lang == "th" else en) for g, (th, en) in FIELD_GROUPS.items()}, **values)
        return HTMLResponse(html, status_code=status)

    def signed_in(request: Request) -> tuple[Principal, str, str]:
        found = who(request)
        if found is None:
            raise _SignIn(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if CITIZEN not in found[0].roles:
            raise _Refused("not_citizen", 403)
        return found[0], found[1], found[0].subject.removeprefix("user:")

    async def checked_form(request: Request, token: str) -> Any:
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")), _csrf(token, "citizen")):
            raise _Refused("forbidden", 403)
        return form

    @pages.exception_handler(_SignIn)
    async def _to_sign_in(_: Request, exc: _SignIn) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/signin?next={quote(exc.next_path)}", status_code=303)

    @pages.exception_handler(_Refused)
    async def _refused(request: Request, exc: _Refused) -> HTMLResponse:
        return page(request, "error.html", found=who(request), message_key=exc.key, detail=exc.detail,
                    status=exc.status)

    # -- signing in and out, language ----------------------------------------------------
    @pages.get("/")
    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/consents" if who(request) else f"{PREFIX}/signin", status_code=303)

    @pages.get("/signin")
    async def signin_page(request: Request, next: str = f"{PREFIX}/consents", failed: bool = False) -> HTMLResponse:  # noqa: A002
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        response = page(request, "signin.html", signin_csrf=_csrf(pre, "signin"), next=_local(next), failed=failed)
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", path=PREFIX,
                            secure=request.url.scheme == "https")
        return response

    @pages.post("/signin")
    async def signin(request: Request) -> Response:
        form = await request.form()
        pre = request.cookies.get(PRE_COOKIE, "")
        if not pre or not hmac.compare_digest(str(form.get("csrf", "")), _csrf(pre, "signin")):
            raise _Refused("forbidden", 403)
        next_path = _local(str(form.get("next", "")))
        users = get_hub().security.users
        username = str(form.get("citizen_id", "")).strip()
        try:
            session = users.login(username, str(form.get("password", "")), role=CITIZEN)
        except HubError:  # refused and audited by Users.login
            return RedirectResponse(f"{PREFIX}/signin?failed=1&next={quote(next_path)}", status_code=303)
        return session_started(request, next_path, session.token, prefix=PREFIX, cookies=(SESSION_COOKIE, PRE_COOKIE),
                               samesite="lax")

    @pages.post("/signout")
    async def signout(request: Request) -> RedirectResponse:
        _, token, _ = signed_in(request)
        await checked_form(request, token)
        get_hub().security.users.logout(token)
        response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @pages.get("/lang/{lang}")
    async def switch_language(lang: str, next: str = f"{PREFIX}/consents") -> RedirectResponse:  # noqa: A002
        response = RedirectResponse(_local(next), status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="lax", path=PREFIX,
                                max_age=365 * 86400)
        return response

    # -- the OAuth authorization endpoint: the consent page ----------------------------------
    def oauth_request(request: Request, form: dict[str, list[str]] | None = None) -> HubOAuth2Request:
        try:
            return HubOAuth2Request(request.method, str(request.url), request.headers,
                                    query=_values(request.query_params.multi_items()), form=form)
        except OAuth2Error as exc:  # Authlib refuses plain http off the loopback host
            raise _Refused("bad_request", 400, exc.description) from exc

    def answer(result: tuple[int, Any, list]) -> Response:
        status, _, headers = result
        location = dict(headers).get("Location")
        if location is None:  # Authlib answers every authorization result with a redirect
            raise _Refused("bad_request", 400)
        return RedirectResponse(location, status_code=303 if status in (302, 303) else status)

    @pages.get("/authorize")
    async def authorize_page(request: Request) -> Response:
        citizens_ = citizens()
        try:
            found = ask(citizens_.oauth, oauth_request(request))
        except AuthorizeError as exc:
            return page(request, "error.html", found=who(request), message_key="bad_request",
                        detail=exc.description, status=400)
        if not isinstance(found, ConsentAsk):
            return answer(found)
        principal, token, _ = signed_in(request)
        until = utcnow() + timedelta(days=found.service.consent_days)
        params = {k: request.query_params.get(k) for k in OAUTH_PARAMS if request.query_params.get(k) is not None}
        response = page(request, "authorize.html", found=(principal, token), service=found.service,
                        asked=found.groups, until=until, params=params)
        response.headers["Content-Security-Policy"] = consent_csp(found.grant.redirect_uri)
        return response

    @pages.post("/authorize")
    async def authorize(request: Request) -> Response:
        citizens_ = citizens()
        _, token, citizen_id = signed_in(request)
        form = await checked_form(request, token)
        decision = str(form.get("decision", ""))
        if decision not in ("grant", "refuse"):
            raise _Refused("bad_request", 400)
        values = _values([(k, str(v)) for k, v in form.multi_items() if k in OAUTH_PARAMS])
        try:
            result = decide(citizens_.oauth, oauth_request(request, values), citizen_id, granted=decision == "grant")
        except AuthorizeError as exc:
            return page(request, "error.html", found=who(request), message_key="bad_request",
                        detail=exc.description, status=400)
        return answer(result)

    # -- my consents ---------------------------------------------------------------------
    @pages.get("/consents")
    async def consents_page(request: Request) -> HTMLResponse:
        principal, token, citizen_id = signed_in(request)
        mine = citizens().eservices.for_citizen(citizen_id)
        return page(request, "consents.html", found=(principal, token), mine=mine["eservices"],
                    agency=mine["agencies"], revoked=request.query_params.get("revoked"))

    @pages.post("/consents/{consent_id}/revoke")
    async def revoke(request: Request, consent_id: str) -> Response:
        _, token, citizen_id = signed_in(request)
        await checked_form(request, token)
        try:
            citizens().eservices.revoke(citizen_id, consent_id)
        except NotFound as exc:
            raise _Refused("not_found", 404) from exc
        return RedirectResponse(f"{PREFIX}/consents?revoked={quote(consent_id)}", status_code=303)

    # -- the data tracker ---------------------------------------------------------------------
    @pages.get("/reads")
    async def reads_page(request: Request) -> HTMLResponse:
        principal, token, citizen_id = signed_in(request)
        return page(request, "reads.html", found=(principal, token), reads=citizens().tracker.reads(citizen_id))

    @pages.get("/reads.json")
    async def reads_json(request: Request) -> JSONResponse:
        _, _, citizen_id = signed_in(request)
        return JSONResponse({"citizen_id": citizen_id, "reads": citizens().tracker.reads(citizen_id)},
                            headers={"Content-Disposition": 'attachment; filename="my-data-reads.json"'})

    @pages.get("/reads.csv")
    async def reads_csv(request: Request) -> Response:
        _, _, citizen_id = signed_in(request)
        tracker = citizens().tracker
        return Response(tracker.as_csv(tracker.reads(citizen_id)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="my-data-reads.csv"'})

    return pages
