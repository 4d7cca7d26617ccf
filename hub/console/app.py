"""The console application, mounted by the API at ``/console``.

Safe by construction:

* people sign in with the hub's people's sessions (``Users.login``); the session token lives
  only in an ``HttpOnly``, ``SameSite=Strict`` cookie scoped to ``/console``;
* every form carries a CSRF token (an HMAC of the session token, which script cannot read;
  before sign-in, of a random pre-session cookie), checked on every POST;
* a strict Content-Security-Policy: scripts, styles and images only from the hub, no inline
  script at all (our one script file reads what it needs from ``data-`` attributes);
* each role sees and does only what it may (``NAV`` and the roles each route names, checked
  on the server for every request, not only hidden): admins everything; auditors read; an
  agency operator reads the messages of its own member (``AccessControl.may_read``); a monitor
  sees the overview's figures and charts only; replays and every change are for admins, as in
  the API; every action is in the audit trail with the person who took it.

The pages beyond the message log live in ``hub.console.manage`` (routes, agencies,
e-CMS departments) and ``hub.console.reference`` (standards, audit, telework); they get the
helpers here through a ``Kit``.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import re
import hmac
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.staticfiles import StaticFiles

from prometheus_client import REGISTRY

from hub.console import charts, manage, reference
from hub.console.citizen_search import citizen_ids
from hub.console.i18n import LANGUAGES, translate
from hub.console.health import HealthChecks
from hub.console.kit import Forbidden, Kit, language, session, session_started
from hub.console.tasks import Tasks
from hub.errors import HubError
from hub.thai import ThaiValueError, validate_citizen_id
from hub.schemas.envelope import PARTY_PATTERN, SERVICE_PATTERN
from hub.schemas.principal import ADMIN, AUDITOR, MONITOR, OPERATOR, Principal
from hub.transport.gauges import status_counts

SESSION_COOKIE, PRE_COOKIE, LANG_COOKIE = "hub_console", "hub_console_pre", "hub_console_lang"
PREFIX = "/console"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
# The same patterns the API's access-rights body checks (hub/api/routes/access.py).
CLIENT_PATTERN = rf"group:[A-Za-z0-9._-]{{1,64}}|{PARTY_PATTERN[1:-1]}"
RIGHT_SERVICE_PATTERN = rf"\*|{SERVICE_PATTERN[1:-1]}"
RIGHT_PROVIDER_PATTERN = rf"\*|{PARTY_PATTERN[1:-1]}"
READERS = (ADMIN, AUDITOR, OPERATOR)
EVERYONE = (ADMIN, AUDITOR, OPERATOR, MONITOR)
# The navigation per role; each route checks the same roles on the server.
NAV = (("overview", EVERYONE), ("metrics", (ADMIN, AUDITOR, MONITOR)), ("messages", READERS), ("deadletters", READERS), ("routes", (ADMIN,)),
       ("agencies", READERS), ("departments", (ADMIN,)), ("standards", READERS), ("audit", (ADMIN, AUDITOR)),
       ("telework", READERS), ("access", (ADMIN, AUDITOR)))
BANGKOK = timezone(timedelta(hours=7))
THAI_MONTHS = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")


def when(value: Any, lang: str) -> str:
    """A moment as a person reads it: Bangkok time; in Thai with the Buddhist-Era year and the
    Thai month's abbreviation (29 พ.ย. 2569 23:05:03 น.)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None:
        return ""
    local = value.astimezone(BANGKOK)
    if lang == "th":
        return f"{local.day} {THAI_MONTHS[local.month - 1]} {local.year + 543} {local:%H:%M:%S} น."
    return f"{local:%Y-%m-%d %H:%M:%S} (UTC+7)"


def short_when(value: Any, lang: str) -> str:
    """A chart's time mark: day, month and Bangkok time (29 พ.ย. 23:05 / 29 Nov 23:05)."""
    local = value.astimezone(BANGKOK)
    month = THAI_MONTHS[local.month - 1] if lang == "th" else f"{local:%b}"
    return f"{local.day} {month} {local:%H:%M}"


def _csrf(key: str, purpose: str = "console") -> str:
    return hmac.new(key.encode(), f"csrf:{purpose}".encode(), hashlib.sha256).hexdigest()


def create_console(get_hub: Callable[[], Any], get_gauges: Callable[[], Any] | None = None) -> FastAPI:
    """``get_hub``: the hub the API serves (it may be built only in the API's lifespan);
    ``get_gauges``: the registry of the hub's gauges that /metrics serves (the metrics page)."""
    console = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    env = Environment(loader=PackageLoader("hub.console"), autoescape=select_autoescape(["html"]))
    state: dict[str, Tasks] = {}

    def tasks() -> Tasks:
        if "tasks" not in state:
            state["tasks"] = Tasks(get_hub())
        return state["tasks"]

    @console.middleware("http")
    async def security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith(f"{PREFIX}/static"):
            response.headers["Cache-Control"] = "no-store"
        return response

    def lang_of(request: Request) -> str:
        return language(request, LANG_COOKIE)

    def who(request: Request) -> tuple[Principal, str] | None:
        return session(request, SESSION_COOKIE, get_hub())

    def page(request: Request, template: str, *, principal: Principal | None = None, token: str | None = None,
             status: int = 200, **values: Any) -> HTMLResponse:
        lang = lang_of(request)
        nav = [key for key, roles in NAV if principal is not None and principal.roles & set(roles)]
        html = env.get_template(template).render(
            lang=lang, t=lambda key, **v: translate(lang, key, **v), when=lambda v: when(v, lang),
            short_when=lambda v: short_when(v, lang), user=principal, csrf=_csrf(token) if token else None,
            path=request.url.path,
            query=str(request.url.query), prefix=PREFIX, nav=nav, **values)
        return HTMLResponse(html, status_code=status)

    def signed_in(request: Request, *roles: str) -> tuple[Principal, str]:
        found = who(request)
        if found is None:
            raise _SignIn(request.url.path)
        principal, token = found
        if roles and not principal.roles & set(roles):
            get_hub().security.audit.record("access.role", actor=principal.subject, decision="refused",
                                            target=request.url.path, channel="console",
                                            reason=f"{request.method} {request.url.path} needs the role "
                                                   f"{' or '.join(roles)}")
            raise Forbidden()
        return principal, token

    async def checked_form(request: Request, token: str) -> Any:
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")), _csrf(token)):
            raise Forbidden()
        return form

    kit = Kit(PREFIX, get_hub, page, signed_in, checked_form)
    checks = HealthChecks(get_hub)

    class _SignIn(Exception):  # noqa: N818 - control flow: answer with the sign-in page
        def __init__(self, next_path: str) -> None:
            self.next_path = next_path

    @console.exception_handler(_SignIn)
    async def _to_sign_in(_: Request, exc: _SignIn) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/signin?next={quote(exc.next_path)}", status_code=303)

    @console.exception_handler(Forbidden)
    async def _forbidden(request: Request, _: Forbidden) -> HTMLResponse:
        found = who(request)
        return page(request, "error.html", principal=found[0] if found else None, token=found[1] if found else None,
                    message_key="forbidden", status=403)

    # -- signing in and out, language ----------------------------------------------------
    @console.get("/")
    async def home(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/overview" if who(request) else f"{PREFIX}/signin", status_code=303)

    @console.get("/signin")
    async def signin_page(request: Request, next: str = f"{PREFIX}/overview", failed: bool = False) -> HTMLResponse:  # noqa: A002
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        response = page(request, "signin.html", signin_csrf=_csrf(pre, "signin"), next=_local(next), failed=failed)
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", path=PREFIX)
        return response

    @console.post("/signin")
    async def signin(request: Request) -> Response:
        form = await request.form()
        pre = request.cookies.get(PRE_COOKIE, "")
        if not pre or not hmac.compare_digest(str(form.get("csrf", "")), _csrf(pre, "signin")):
            raise Forbidden()
        next_path = _local(str(form.get("next", "")))
        try:
            session = get_hub().security.users.login(str(form.get("username", "")), str(form.get("password", "")))
        except HubError:  # refused and audited by Users.login
            return RedirectResponse(f"{PREFIX}/signin?failed=1&next={quote(next_path)}", status_code=303)
        return session_started(request, next_path, session.token, prefix=PREFIX, cookies=(SESSION_COOKIE, PRE_COOKIE),
                               samesite="strict")

    @console.post("/signout")
    async def signout(request: Request) -> RedirectResponse:
        principal, token = signed_in(request)
        await checked_form(request, token)
        hub = get_hub()
        hub.security.users.logout(token)
        hub.security.audit.record("console.signed_out", actor=principal.subject)
        response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @console.get("/lang/{lang}")
    async def switch_language(request: Request, lang: str, next: str = f"{PREFIX}/") -> RedirectResponse:  # noqa: A002
        response = RedirectResponse(_local(next), status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, samesite="strict", path=PREFIX, max_age=365 * 86400)
        return response

    # -- overview --------------------------------------------------------------------------
    @console.get("/overview")
    async def overview(request: Request) -> HTMLResponse:
        principal, token = signed_in(request, *EVERYONE)
        hub = get_hub()
        everything = principal.roles & {ADMIN, AUDITOR, MONITOR}
        counts = hub.messages.counts()
        per_route = sorted(status_counts(hub.engine), key=lambda c: (c.route, c.receiver, c.status))
        if not everything:
            per_route = [c for c in per_route if principal.acts_for(c.receiver)]
        dead = sum(c.count for c in per_route if c.status == "dead")
        lag_events, _ = hub.security.audit_feed.lag()
        top = max(counts.values(), default=0) or 1
        bars = [{"status": s, "count": n, "width": round(100 * n / top)} for s, n in sorted(counts.items())]
        snapshot = checks.last()
        receivers = sorted({c.receiver for c in per_route} | ({r.receiver for r in hub.router.list()}
                                                               if everything else set()))
        receiver = request.query_params.get("receiver") or None
        if receiver is not None and not everything and not principal.acts_for(receiver):
            raise Forbidden()
        # An operator's charts: only what its member's subsystems sent or received.
        over_time = charts.over_time(hub.engine, receivers=[receiver] if receiver else None,
                                     member=None if everything else (principal.member or ""), hours=_hours(request))
        return page(request, "overview.html", principal=principal, token=token, counts=counts, bars=bars,
                    per_route=per_route, dead=dead, lag_events=lag_events, over_time=over_time,
                    receivers=receivers, receiver=receiver or "", hours=_hours(request),
                    health=snapshot, health_routes=[r for r in (snapshot.routes if snapshot else [])
                                                    if everything or principal.acts_for(r.receiver)])

    @console.get("/metrics")
    async def metrics_page(request: Request) -> HTMLResponse:
        """What /metrics gives a Prometheus scraper, as a table a person reads: this process's
        counters and the hub's gauges read from the database now (the same roles as /metrics)."""
        principal, token = signed_in(request, ADMIN, AUDITOR, MONITOR)
        gauges = get_gauges() if get_gauges else None
        families = [*REGISTRY.collect(), *(gauges.collect() if gauges is not None else [])]
        rows = [(s.name, ", ".join(f"{k}={v}" for k, v in sorted(s.labels.items())), s.value)
                for f in families if f.name.startswith("hub_") for s in f.samples
                if not s.name.endswith(("_created", "_bucket"))]
        return page(request, "metrics.html", principal=principal, token=token, rows=rows)

    # -- message log -----------------------------------------------------------------------
    def visible(principal: Principal, items: list[Any]) -> list[Any]:
        access = get_hub().security.access
        return [m for m in items if access.may_read(principal, m)]

    @console.get("/messages")
    async def messages_page(request: Request) -> HTMLResponse:
        principal, token = signed_in(request, *READERS)
        q = request.query_params
        filters = {k: (q.get(k) or None) for k in ("sender", "receiver", "service", "status", "correlation_id")}
        since, until, citizen = q.get("since") or None, q.get("until") or None, q.get("citizen") or None
        error = None
        items: list[Any] = []
        try:
            start = datetime.fromisoformat(since) if since else None
            end = datetime.fromisoformat(until) if until else None
            hub = get_hub()
            # A citizen is searched by the keyed pseudonym only: the ID itself was POSTed once
            # (/messages/citizen) and never appears in a URL, a log line or the audit trail.
            people = citizen_ids(hub, citizen) if citizen else [None]
            for user_id in people:
                found, _ = hub.messages.list(**filters, since=start, until=end, user_id=user_id, limit=200)
                items.extend(found)
        except (HubError, ValueError) as exc:
            error = exc.message if isinstance(exc, HubError) else str(exc)
        return page(request, "messages.html", principal=principal, token=token, items=visible(principal, items),
                    filters={**filters, "since": since or "", "until": until or ""}, citizen=citizen or "",
                    error=error, form_error=q.get("error"))

    @console.post("/messages/citizen")
    async def citizen_search(request: Request) -> Response:
        principal, token = signed_in(request, *READERS)
        form = await checked_form(request, token)
        try:
            citizen_id = validate_citizen_id(str(form.get("citizen_id", "")))
        except ThaiValueError:
            return kit.back("/messages", error="bad_citizen_id")
        hub = get_hub()
        pseudonym = hub.security.pseudonym("person", citizen_id)
        kit.audit("console.citizen_search", principal, target=pseudonym)
        return kit.back("/messages", citizen=pseudonym)

    @console.get("/messages/{message_id}")
    async def message_page(request: Request, message_id: str) -> HTMLResponse:
        principal, token = signed_in(request, *READERS)
        hub = get_hub()
        meta = hub.messages.get_meta(message_id, missing_ok=True)
        if meta is None or not hub.security.access.may_read(principal, meta):
            return page(request, "error.html", principal=principal, token=token, message_key="not_found", status=404)
        conversation = []
        if meta.correlation_id:
            conversation, _ = hub.messages.list(correlation_id=meta.correlation_id, limit=100)
            conversation = visible(principal, conversation)
        return page(request, "message.html", principal=principal, token=token, m=meta,
                    history=hub.messages.history(meta.key or message_id), conversation=conversation,
                    cleared=principal.cleared_for(meta.classification),
                    replayed=request.query_params.get("replayed") == "1")

    @console.get("/messages/{message_id}/payload")
    async def payload_page(request: Request, message_id: str) -> HTMLResponse:
        """The payload, for a reader whose clearance reaches the message's classification (an
        admin too: reading every message's metadata is not a clearance for its content)."""
        principal, token = signed_in(request, *READERS)
        hub = get_hub()
        meta = hub.messages.get_meta(message_id, missing_ok=True)
        try:
            hub.security.access.authorize_read(principal, message_id, meta, "read_payload")  # audited there
        except HubError:
            return page(request, "error.html", principal=principal, token=token, message_key="not_found", status=404)
        if not principal.cleared_for(meta.classification):
            kit.audit("access.read_payload", principal, decision="refused", target=message_id,
                      reason=f"clearance {principal.clearance} is below the message's {meta.classification}")
            raise Forbidden()
        body = hub.messages.payload(message_id)
        text = body.decode("utf-8", errors="replace")
        if meta.content_type.endswith("json"):
            with contextlib.suppress(ValueError):
                text = json.dumps(json.loads(body), ensure_ascii=False, indent=2)
        return page(request, "payload.html", principal=principal, token=token, m=meta, text=text)

    @console.post("/messages/{message_id}/replay")
    async def replay(request: Request, message_id: str) -> Response:
        principal, token = signed_in(request, "admin")
        form = await checked_form(request, token)
        reason = str(form.get("reason", "")).strip()
        if not reason:
            return RedirectResponse(f"{PREFIX}/messages/{quote(message_id)}", status_code=303)
        hub = get_hub()
        meta = hub.messages.replay(message_id, reason=reason)
        hub.security.audit.record("message.replayed", actor=principal.subject, target=str(meta.id), reason=reason,
                                  channel="console", sender=meta.sender)
        return RedirectResponse(f"{PREFIX}/messages/{quote(message_id)}?replayed=1", status_code=303)

    # -- dead letters and bulk replay ------------------------------------------------------
    @console.get("/deadletters")
    async def deadletters(request: Request) -> HTMLResponse:
        principal, token = signed_in(request, *READERS)
        q = request.query_params
        receiver = q.get("receiver") or None
        items, _ = get_hub().messages.list(status="dead", receiver=receiver, limit=1000)
        items = visible(principal, items)
        groups = Counter((m.receiver, m.last_error or "") for m in items).most_common()
        return page(request, "deadletters.html", principal=principal, token=token, items=items, groups=groups,
                    receiver=receiver or "", error=q.get("error"),
                    recent=tasks().recent() if principal.is_admin else [])

    @console.post("/deadletters/replay")
    async def bulk_replay(request: Request) -> Response:
        principal, token = signed_in(request, ADMIN)
        form = await checked_form(request, token)
        ids = [str(i) for i in form.getlist("ids")]
        reason = str(form.get("reason", "")).strip()
        if not ids or not reason:
            return RedirectResponse(f"{PREFIX}/deadletters?" + urlencode(
                {"error": "choose" if not ids else "reason_needed"}), status_code=303)
        task = tasks().start(ids, actor=principal.subject, reason=reason)
        return RedirectResponse(f"{PREFIX}/tasks/{task['id']}", status_code=303)

    @console.get("/tasks/{task_id}")
    async def task_page(request: Request, task_id: str) -> HTMLResponse:
        principal, token = signed_in(request, ADMIN)
        task = tasks().get(task_id)
        if task is None:
            return page(request, "error.html", principal=principal, token=token, message_key="not_found", status=404)
        return page(request, "task.html", principal=principal, token=token, task=task)

    @console.get("/tasks/{task_id}/progress")
    async def task_progress(request: Request, task_id: str) -> JSONResponse:
        signed_in(request, ADMIN)
        task = tasks().get(task_id)
        if task is None:
            return JSONResponse({"error": "no such task"}, status_code=404)
        return JSONResponse({k: v for k, v in task.items() if k != "failures"})

    @console.post("/tasks/{task_id}/stop")
    async def task_stop(request: Request, task_id: str) -> RedirectResponse:
        principal, token = signed_in(request, ADMIN)
        await checked_form(request, token)
        tasks().stop(task_id, actor=principal.subject)
        return RedirectResponse(f"{PREFIX}/tasks/{task_id}", status_code=303)

    @console.post("/tasks/{task_id}/resume")
    async def task_resume(request: Request, task_id: str) -> RedirectResponse:
        principal, token = signed_in(request, ADMIN)
        await checked_form(request, token)
        tasks().resume(task_id, actor=principal.subject)
        return RedirectResponse(f"{PREFIX}/tasks/{task_id}", status_code=303)

    # -- access rights ---------------------------------------------------------------------
    @console.get("/access")
    async def access_page(request: Request) -> HTMLResponse:
        principal, token = signed_in(request, "admin", "auditor")
        access = get_hub().security.access
        q = request.query_params
        return page(request, "access.html", principal=principal, token=token, rights=access.rights(),
                    groups=access.groups(), revoked=q.get("revoked"), granted=q.get("granted"), error=q.get("error"))

    @console.post("/access/grant")
    async def grant(request: Request) -> RedirectResponse:
        principal, token = signed_in(request, ADMIN)
        form = await checked_form(request, token)
        client, service = str(form.get("client", "")).strip(), str(form.get("service", "")).strip()
        provider = str(form.get("provider", "")).strip() or "*"
        if not (re.fullmatch(CLIENT_PATTERN, client) and re.fullmatch(RIGHT_SERVICE_PATTERN, service)
                and re.fullmatch(RIGHT_PROVIDER_PATTERN, provider)):
            return kit.back("/access", error="client: a subsystem id or group:NAME; service: an id or *; "
                                             "provider: a party or *")
        try:
            right = get_hub().security.access.grant(client, service, provider, actor=principal.subject)  # audited
        except HubError as exc:
            return kit.back("/access", error=exc.message)
        return kit.back("/access", granted=right["id"])

    @console.post("/access/{right_id}/revoke")
    async def revoke(request: Request, right_id: int) -> RedirectResponse:
        principal, token = signed_in(request, "admin")
        await checked_form(request, token)
        try:
            get_hub().security.access.revoke(right_id, actor=principal.subject)  # audited there
        except HubError:
            return RedirectResponse(f"{PREFIX}/access", status_code=303)
        return RedirectResponse(f"{PREFIX}/access?revoked={right_id}", status_code=303)

    manage.register(console, kit)
    reference.register(console, kit)
    console.mount("/static", StaticFiles(packages=[("hub.console", "static")]), name="console-static")
    return console


def _local(path: str) -> str:
    """Only a path inside the console may be a redirect target (no open redirect)."""
    return path if path.startswith(f"{PREFIX}/") and not path.startswith("//") and "\\" not in path \
        else f"{PREFIX}/overview"


def _hours(request: Request) -> int:
    """The charts' window: 24 hours unless ?hours= names 1 to 720."""
    try:
        return min(max(int(request.query_params.get("hours", "24")), 1), 720)
    except ValueError:
        return 24
