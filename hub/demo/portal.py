"""``hub demo``, after the telework story: a reference e-Citizen portal (issue 15).

1. The person registry is filled by the ministry DPIS's change capture (``hr.person.changed``
   through the hub, into the registry: the route the README describes), started at the
   beginning of the table so every officer is published once.
2. The agencies publish the query services of the unified record: DPIS answers person,
   position and org unit live from its legacy tables; the registry, the telework
   application and the e-CMS store answer the rest.
3. A portal e-service (an OAuth2 client) asks one officer of the story for consent; the
   officer signs in with their citizen ID, sees the consent page and grants it; the portal
   exchanges the code (PKCE) and reads the officer's unified record: every field with its
   source; then the officer's data tracker shows that read.

Everything goes over HTTP to the served hub, as a portal and a browser would.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from rich.console import Console
from rich.table import Table

from hub.apps.telework import pilot
from hub.apps.telework.wiring import HR_ROUTE
from hub.integration.queries import QueryServiceIn
from hub.schemas.principal import ADMIN, Principal
from hub.schemas.routes import RouteIn
from hub.security.onboarding import onboard

PORTAL = "TH/GOV/DGA/portal"
REGISTRY, TELEWORK, SARABAN = "TH/GOV/DGA/registry", "TH/GOV/CGD/telework", "TH/GOV/CGD/saraban"
REDIRECT = "https://portal.example.go.th/callback"
PURPOSE = "telework-welfare"
GROUPS = ("person", "position", "org_unit", "telework", "letters")
DEMO = Principal(subject="demo", roles=frozenset({ADMIN}), clearance="004")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@dataclass
class PortalResult:
    ok: bool
    officer: str
    fields: int
    reads: int


def fill_registry_from_dpis(hub, dpis_url: str, console: Console) -> int:  # noqa: ANN001
    """DPIS change capture -> hr.person.changed -> the person registry; the number applied."""
    party = hub.settings.security.shared_data_party
    onboard(hub.security, HR_ROUTE, actor="demo", rights=[("hr.person.changed/v1", party)])
    onboard(hub.security, party, actor="demo", member_name_th="ศูนย์ข้อมูลกลาง")
    hub.router.add(RouteIn(receiver=party, service="hr.person.changed/v1", adapter="person-registry"))
    # Its own route for the capture (the story's DPIS route takes telework days): the inbound
    # side of a dpis route is the change capture; nothing is ever sent to it.
    capture = hub.router.add(RouteIn(receiver=HR_ROUTE, service="hr.person.changed/v1", adapter="dpis", settings={
        "url": dpis_url, "capture": {"sender": HR_ROUTE, "receiver": party, "start_at": "beginning"}}))
    published = hub.inbound.poll(capture).accepted
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [hub.messages.get_meta(m).status for m in published]
        if all(s in ("delivered", "dead") for s in statuses):
            break
        time.sleep(0.1)
    applied = sum(1 for m in published if hub.messages.get_meta(m).status == "delivered")
    console.print(f"DPIS change capture: {len(published)} hr.person.changed message(s) -> person registry "
                  f"({applied} applied)")
    return applied


def publish_record_sources(hub, dpis_url: str) -> None:  # noqa: ANN001
    for provider, name in ((REGISTRY, "ทะเบียนบุคคลกลาง"), (TELEWORK, None), (SARABAN, None)):
        onboard(hub.security, provider, actor="demo", member_name_th=name)
    queries = hub.integration.queries
    wanted = [(REGISTRY, "record.person/v1", "person-registry", "person-registry", {}),
              *[(HR_ROUTE, f"record.{g}/v1", "dpis", "dpis", {"url": dpis_url}) for g in ("person", "position",
                                                                                       "org_unit")],
              (TELEWORK, "record.telework/v1", "telework-cases", "telework", {}),
              (SARABAN, "record.letters/v1", "ecms-letters", "e-cms", {})]
    for provider, name, adapter, system, settings in wanted:
        queries.publish(DEMO, QueryServiceIn(provider=provider, name=name, system=system, adapter=adapter,
                                             settings=settings))


def _officer(story) -> tuple[str, str]:  # noqa: ANN001
    """The first officer of the story with a telework order: (citizen ID, name)."""
    store = story.app.ports.store
    for case_id in story.cases.values():
        case = store.get_case(case_id)
        if case.order:
            name = next((o.name for o in pilot.__dict__.values() if isinstance(o, pilot.Officer)
                         and o.citizen_id == case.citizen_id), case.citizen_id)
            return case.citizen_id, name
    raise RuntimeError("the story ordered no telework")


def _short(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_short(v) for v in value[:4]) + (f" (+{len(value) - 4})" if len(value) > 4 else "")
    if isinstance(value, dict):
        keys = ("book_number", "status", "days_ordered", "evidence", "subject", "letter_id", "name")
        picked = [f"{k}={_short(value[k]) if isinstance(value[k], dict) else value[k]}" for k in keys
                  if value.get(k) not in (None, "")]
        if "book_number" not in value and "subject" not in value and "letter_id" not in value:
            picked = [f"{k}={v}" for k, v in value.items()]  # a plain mapping, such as evidence counts
        return ", ".join(picked) if picked else str(value)[:80]
    return str(value)


def run_portal_scene(hub, url: str, story, console: Console) -> PortalResult:  # noqa: ANN001
    console.rule("[bold]e-Citizen portal: consent, unified record, data tracker[/bold]")
    fill_registry_from_dpis(hub, story.systems.dpis_url, console)
    publish_record_sources(hub, story.systems.dpis_url)
    citizen_id, name = _officer(story)
    password = secrets.token_urlsafe(18)
    # The demo's data directory is new on every run (hub.demo.run.prepare_data_dir).
    hub.security.users.add(citizen_id, password, roles=("citizen",), actor="demo")
    secret = onboard(hub.security, PORTAL, actor="demo", member_name_th="สำนักงานพัฒนารัฐบาลดิจิทัล").client_secret
    eservices = hub.integration.citizens.eservices
    eservices.register(client_id=PORTAL, name_th="พอร์ทัลสวัสดิการข้าราชการ", name_en="Civil servants' welfare portal",
                       purpose=PURPOSE, purpose_th="ตรวจสอบสิทธิสวัสดิการจากการปฏิบัติราชการนอกสถานที่",
                       purpose_en="Check welfare entitlements from telework", redirect_uris=[REDIRECT],
                       field_groups=list(GROUPS), consent_days=30, actor="demo")
    service = eservices.get(PORTAL)

    verifier = secrets.token_urlsafe(48)
    query = urlencode({"response_type": "code", "client_id": PORTAL, "redirect_uri": REDIRECT,
                       "scope": " ".join(GROUPS), "state": secrets.token_urlsafe(8),
                       "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"})
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as browser:
        signin = browser.get("/citizen/signin")
        signed = browser.post("/citizen/signin", data={"csrf": CSRF.search(signin.text).group(1),
                                                       "citizen_id": citizen_id, "password": password,
                                                       "next": "/citizen/consents"})
        if "failed" in signed.headers.get("location", "failed"):
            raise RuntimeError(f"the officer could not sign in: {signed.status_code} {signed.headers}")
        page = browser.get(f"/citizen/authorize?{query}")
        page.raise_for_status()
        console.print(f"{service.name_en} asks {name} ({citizen_id}) on the hub's consent page "
                      f"({url}/citizen/authorize):")
        console.print(f"  purpose: {service.purpose_th} / {service.purpose_en}")
        console.print(f"  field groups: {', '.join(GROUPS)}; for {service.consent_days} days")
        form = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page.text))
        granted = browser.post("/citizen/authorize", data={**form, "decision": "grant"})
        code = parse_qs(urlsplit(granted.headers["location"]).query)["code"][0]
        console.print(f"  the officer grants it; the portal gets a code at {REDIRECT}")
        session = httpx.post(f"{url}/v1/auth/login", json={"username": citizen_id, "password": password},
                             timeout=30).json()["session_token"]
    token = httpx.post(f"{url}/v1/oauth/token", auth=(PORTAL, secret), timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    token.raise_for_status()
    console.print(f"  token (PKCE S256): scope '{token.json()['scope']}', purpose '{token.json()['purpose']}'")
    record = httpx.get(f"{url}/v1/citizens/{citizen_id}/record", timeout=60,
                       params={"fields": ",".join(GROUPS), "purpose": PURPOSE},
                       headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    record.raise_for_status()
    body = record.json()
    table = Table(title=f"unified record of {name}, read by the portal under the officer's consent")
    for column in ("group", "field", "value", "source", "observed (UTC)", "stale"):
        table.add_column(column, overflow="fold")
    for field_name, f in sorted(body["fields"].items(), key=lambda kv: (GROUPS.index(kv[1]["group"]), kv[0])):
        source = f["source"]
        where = f"{source.get('agency') or source.get('provider')} / {source.get('system')}" \
            if isinstance(source, dict) else str(source)
        table.add_row(f["group"], field_name, _short(f["value"]), where, f["observed_at"][:19],
                      "yes" if f["stale"] else "")
    console.print(table)
    for s in body["sources"]:
        if s["outcome"] != "ok":
            console.print(f"[yellow]source {s['provider']} {s['service']}: {s['outcome']}[/yellow] {s['reason']}")
    reads = httpx.get(f"{url}/v1/citizens/me/reads", timeout=30,
                      headers={"Authorization": f"Bearer {session}"}).json()["reads"]
    for r in reads:
        console.print(f"data tracker of {name}: {r['at'][:19]} UTC — {r['reader_name_en']} ({r['reader_kind']}) read "
                      f"{', '.join(r['groups'])} for '{r['purpose']}' under {r['basis']} {r['basis_id']} "
                      f"(audit entry #{r['seq']})")
    wanted = {"person", "position", "org_unit", "telework", "letters"}
    ok = wanted <= {f["group"] for f in body["fields"].values()} and len(reads) == 1
    return PortalResult(ok, name, len(body["fields"]), len(reads))
