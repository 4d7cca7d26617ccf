"""The console's pages over HTTP (no browser): what each role may see and do, refused on the
server (not only hidden); citizen search by pseudonym; the payload by clearance; routes,
agencies, access rights, standards, audit and telework pages calling the hub's services;
bulk-replay tasks kept in the database across a restart; the overview's charts over time."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import unquote_plus

import pytest
from fastapi.testclient import TestClient

from hub.bootstrap import Hub
from hub.console import charts
from hub.console.tables import console_tasks
from hub.console.tasks import Tasks
from hub.schemas.envelope import Envelope
from hub.schemas.routes import RouteIn
from hub.security.audit import verify_bundle
from tests.integration.test_telework_reads import pilot_hub, settled, snapshot  # noqa: F401 - the pilot fixture
from tests.support.auth import register_agency
from tests.support.waiting import wait_for

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"
PASSWORD = "a long enough password"
CITIZEN = "1101700203451"
ROLES = {"boss": ("admin",), "audit1": ("auditor",), "op0401": ("agency-operator",), "watcher": ("monitor",)}


def valid_citizen() -> str:
    from hub.thai import check_digit

    return CITIZEN[:12] + str(check_digit(CITIZEN[:12]))


@pytest.fixture
def hub(embedded_hub: Hub) -> Hub:
    users = embedded_hub.security.users
    for name, roles in ROLES.items():
        users.add(name, PASSWORD, roles=roles, actor="tests", clearance="004" if name != "op0401" else "001",
                  member_id="TH/GOV/0401" if name == "op0401" else None)
    embedded_hub.router.add(RouteIn(receiver=RECEIVER, service=SERVICE, adapter="memory", max_attempts=1,
                                    settings={"mailbox": "console-pages", "fail_times": 10**6}))
    return embedded_hub


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    from hub.api.app import create_app

    with TestClient(create_app(hub), follow_redirects=False) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    page = client.get("/console/signin")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    answer = client.post("/console/signin", data={"csrf": token, "username": username, "password": PASSWORD,
                                                  "next": "/console/overview"})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/overview"


def csrf(client: TestClient, path: str = "/console/overview") -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path).text).group(1)


def send(hub: Hub, n: int = 1, **fields: object) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    for message_id in ids:
        hub.messages.accept(Envelope.model_validate({"id": message_id, "sender": SENDER, "receiver": RECEIVER,
                                                     "service": SERVICE, "payload": {"n": 1}, **fields}))
    return ids


# Pages and who may open them (200); everyone else gets the 403 page.
PAGES = {
    "/console/overview": {"boss", "audit1", "op0401", "watcher"},
    "/console/metrics": {"boss", "audit1", "watcher"},
    "/console/messages": {"boss", "audit1", "op0401"},
    "/console/deadletters": {"boss", "audit1", "op0401"},
    "/console/routes": {"boss"},
    "/console/agencies": {"boss", "audit1", "op0401"},
    "/console/departments": {"boss"},
    "/console/standards": {"boss", "audit1", "op0401"},
    "/console/audit": {"boss", "audit1"},
    "/console/telework": {"boss", "audit1", "op0401"},
    "/console/access": {"boss", "audit1"},
}


@pytest.mark.parametrize("username", sorted(ROLES))
def test_each_role_opens_only_its_pages_and_its_menu_lists_only_those(client: TestClient, username: str) -> None:
    sign_in(client, username)
    overview = client.get("/console/overview").text
    for path, allowed in PAGES.items():
        answer = client.get(path)
        assert answer.status_code == (200 if username in allowed else 403), (username, path)
        assert not re.search(r"\[[a-z_]+\]", answer.text), (path, re.findall(r"\[[a-z_]+\]", answer.text))
        assert (f'id="nav-{path.rsplit("/", 1)[1]}"' in overview) == (username in allowed), (username, path)


@pytest.mark.parametrize("username", ["audit1", "op0401", "watcher"])
def test_changes_are_refused_on_the_server_for_every_role_but_admin(hub: Hub, client: TestClient,
                                                                     username: str) -> None:
    [dead] = send(hub)
    wait_for(lambda: hub.messages.get_meta(dead).status == "dead", timeout=30, what="a dead letter")
    register_agency(hub, SENDER, rights=[(SERVICE, RECEIVER)])
    right = hub.security.access.rights(SENDER)[0]
    sign_in(client, username)
    token = csrf(client)  # a valid CSRF token: the refusal is the role's, not the form's
    attempts = [
        ("/console/deadletters/replay", {"ids": dead, "reason": "x"}),
        (f"/console/messages/{dead}/replay", {"reason": "x"}),
        (f"/console/access/{right['id']}/revoke", {}),
        ("/console/access/grant", {"client": SENDER, "service": "other.service/v1", "provider": "*"}),
        ("/console/routes", {"receiver": "TH/GOV/9/x", "service": "a.b/v1", "adapter": "memory"}),
        ("/console/routes/1/remove", {}),
        ("/console/subsystems/decide", {"subsystem_id": SENDER, "decision": "suspend"}),
        ("/console/agencies", {"id": "TH/GOV/7777", "name_th": "ทดสอบ"}),
        ("/console/departments", {"code": "0401", "ministry_code": "04", "name_th": "ทดสอบ"}),
    ]
    for path, form in attempts:
        assert client.post(path, data={"csrf": token, **form}).status_code == 403, path
    assert hub.messages.get_meta(dead).status == "dead"
    assert [r["id"] for r in hub.security.access.rights(SENDER)] == [right["id"]]
    assert len(hub.router.list()) == 1
    assert hub.security.registry.subsystem(SENDER).status == "approved"
    refusals = [e for e in hub.security.audit.export(None)["entries"]
                if e["kind"] == "access.role" and e["actor"] == f"user:{username}"]
    assert len(refusals) >= len(attempts) - 1  # the e-CMS refusal aside, each is in the trail


def test_a_monitor_sees_the_figures_and_charts_but_no_message(hub: Hub, client: TestClient) -> None:
    ids = send(hub, 3)
    wait_for(lambda: hub.messages.counts().get("dead", 0) == 3, timeout=30, what="3 dead letters")
    sign_in(client, "watcher")
    overview = client.get("/console/overview").text
    assert "3" in re.search(r'id="banner">(.*?)</p>', overview, re.S).group(1)
    assert 'id="chart-throughput"' in overview and 'id="chart-dead"' in overview
    assert ids[0] not in overview
    assert client.get(f"/console/messages/{ids[0]}").status_code == 403
    assert client.get(f"/console/messages/{ids[0]}/payload").status_code == 403
    metrics = client.get("/console/metrics").text
    dead_row = re.search(r"hub_dead_letters</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>", metrics)
    assert dead_row and f"receiver={RECEIVER}" in dead_row.group(1) and dead_row.group(2) == "3"


def test_citizen_search_posts_the_id_and_shows_only_its_pseudonym(hub: Hub, client: TestClient) -> None:
    citizen = valid_citizen()
    [mine] = send(hub, user_id=citizen)
    [other] = send(hub)
    sign_in(client, "boss")
    answer = client.post("/console/messages/citizen", data={"csrf": csrf(client), "citizen_id": citizen})
    assert answer.status_code == 303
    location = answer.headers["location"]
    pseudonym = hub.security.pseudonym("person", citizen)
    assert citizen not in location and pseudonym in location.replace("%3A", ":")
    listing = client.get(location).text
    assert mine in listing and other not in listing and citizen not in listing
    entries = json.dumps(hub.security.audit.export(None)["entries"])
    assert citizen not in entries and "console.citizen_search" in entries
    assert client.post("/console/messages/citizen", data={"csrf": csrf(client), "citizen_id": "123"}) \
        .headers["location"].endswith("error=bad_citizen_id")


def test_the_payload_is_shown_only_up_to_the_readers_clearance(hub: Hub, client: TestClient) -> None:
    register_agency(hub, RECEIVER, clearance="003")
    [secret] = send(hub, classification="003")
    [plain] = send(hub)
    sign_in(client, "boss")  # admins are cleared to 004
    page = client.get(f"/console/messages/{secret}/payload")
    assert page.status_code == 200 and "&#34;n&#34;: 1" in page.text
    sign_in(client, "op0401")  # the sender's operator, cleared to 001 only
    assert client.get(f"/console/messages/{plain}/payload").status_code == 200
    assert client.get(f"/console/messages/{secret}/payload").status_code == 404  # as if it did not exist
    assert client.get(f"/console/messages/{secret}").status_code == 404
    reads = [e for e in hub.security.audit.export(None)["entries"]
             if e["kind"] == "access.read_payload" and e["actor"] == "user:op0401"]
    assert [(e["target"], e["decision"]) for e in reads] == [(plain, "granted"), (secret, "refused")]


def test_an_admin_adds_edits_checks_and_removes_a_route(hub: Hub, client: TestClient) -> None:
    sign_in(client, "boss")
    token = csrf(client, "/console/routes")
    # a receiver never registered is refused, naming /receiver, and nothing is stored (issue 12)
    typo = client.post("/console/routes", data={"csrf": token, "receiver": "TH/GOV/9999/typo", "service": "a.b/v1",
                                                "adapter": "memory", "settings": '{"mailbox": "m"}'})
    assert "/receiver" in unquote_plus(typo.headers["location"]) and "done=" not in typo.headers["location"]
    assert all(r.receiver != "TH/GOV/9999/typo" for r in hub.router.list())
    register_agency(hub, "TH/GOV/2/x")
    bad = client.post("/console/routes", data={"csrf": token, "receiver": "TH/GOV/2/x", "service": "a.b/v1",
                                               "adapter": "memory", "settings": "{not json"})
    assert "error=" in bad.headers["location"]
    added = client.post("/console/routes", data={"csrf": token, "receiver": "TH/GOV/2/x", "service": "a.b/v1",
                                                 "adapter": "memory", "settings": '{"mailbox": "m"}',
                                                 "max_attempts": "3"})
    assert "done=" in added.headers["location"]
    route = next(r for r in hub.router.list() if r.receiver == "TH/GOV/2/x")
    assert route.max_attempts == 3
    moved = client.post(f"/console/routes/{route.id}", data={"csrf": token, "receiver": "TH/GOV/9999/typo",
                                                             "service": "a.b/v1", "adapter": "memory"})
    assert "/receiver" in unquote_plus(moved.headers["location"]) and hub.router.get(route.id).receiver == "TH/GOV/2/x"
    client.post(f"/console/routes/{route.id}", data={"csrf": token, "receiver": "TH/GOV/2/x", "service": "a.b/v1",
                                                     "adapter": "memory", "settings": '{"mailbox": "m2"}',
                                                     "max_attempts": "5"})
    assert hub.router.get(route.id).max_attempts == 5 and hub.router.get(route.id).settings["mailbox"] == "m2"
    checked = client.post(f"/console/routes/{route.id}/check", data={"csrf": token})
    assert "ok=1" in checked.headers["location"]
    client.post(f"/console/routes/{route.id}/remove", data={"csrf": token})
    assert all(r.id != route.id for r in hub.router.list())
    kinds = [e["kind"] for e in hub.security.audit.export(None)["entries"] if e["actor"] == "user:boss"]
    assert {"route.added", "route.changed", "route.checked", "route.removed"} <= set(kinds)


def test_an_admin_registers_approves_suspends_and_grants(hub: Hub, client: TestClient) -> None:
    sign_in(client, "boss")
    token = csrf(client, "/console/agencies")
    client.post("/console/agencies", data={"csrf": token, "id": "TH/GOV/7777", "name_th": "กรมทดสอบ"})
    client.post("/console/subsystems/request", data={"csrf": token, "member_id": "TH/GOV/7777", "code": "app"})
    assert hub.security.registry.subsystem("TH/GOV/7777/app").status == "pending"
    approved = client.post("/console/subsystems/decide", data={"csrf": token, "subsystem_id": "TH/GOV/7777/app",
                                                               "decision": "approve"})
    secret = re.search(r'id="client-secret"><code>([^<]+)</code>', approved.text).group(1)
    assert hub.security.credentials.verify("TH/GOV/7777/app", secret).id == "TH/GOV/7777/app"
    granted = client.post("/console/access/grant", data={"csrf": token, "client": "TH/GOV/7777/app",
                                                         "service": SERVICE, "provider": RECEIVER})
    assert "granted=" in granted.headers["location"]
    assert hub.security.access.holds_right("TH/GOV/7777/app", SERVICE, RECEIVER)
    rotated = client.post("/console/subsystems/rotate", data={"csrf": token, "subsystem_id": "TH/GOV/7777/app"})
    fresh = re.search(r'id="client-secret"><code>([^<]+)</code>', rotated.text).group(1)
    assert fresh != secret and hub.security.credentials.verify("TH/GOV/7777/app", fresh)
    client.post("/console/subsystems/decide", data={"csrf": token, "subsystem_id": "TH/GOV/7777/app",
                                                    "decision": "suspend", "reason": "ทดสอบ"})
    assert hub.security.registry.subsystem("TH/GOV/7777/app").status == "disabled"
    page = client.get("/console/agencies/TH/GOV/7777").text
    assert "TH/GOV/7777/app" in page and 'id="member-rights"' in page


def test_audit_verifies_and_exports_a_bundle_that_verifies_offline(hub: Hub, client: TestClient) -> None:
    sign_in(client, "audit1")
    assert 'id="verify-result" class="banner good"' in client.get("/console/audit?verify=1").text
    answer = client.post("/console/audit/export", data={"csrf": csrf(client, "/console/audit")})
    assert answer.headers["content-disposition"].startswith("attachment")
    report = verify_bundle(answer.json(), hub.security.key.public)
    assert report.ok, report.problem
    assert any(e["kind"] == "audit.exported" and e["actor"] == "user:audit1"
               for e in hub.security.audit.export(None)["entries"])


def test_a_replay_task_survives_a_restart_as_interrupted_and_resumes(hub: Hub, client: TestClient) -> None:
    ids = send(hub, 4)
    wait_for(lambda: hub.messages.counts().get("dead", 0) == 4, timeout=30, what="4 dead letters")
    # A task a crashed process left behind: two of four done, its heartbeat long silent.
    from sqlalchemy import insert

    from hub.clock import utcnow

    long_ago = utcnow() - timedelta(minutes=10)
    with hub.engine.begin() as conn:
        conn.execute(insert(console_tasks).values(id="t-crashed", actor="user:boss", reason="ผู้รับกลับมาแล้ว", ids=ids,
                                                  done=2, replayed=2, failed={}, state="running",
                                                  created_at=long_ago, heartbeat_at=long_ago))
    tasks = Tasks(hub)  # the restarted process
    assert tasks.get("t-crashed")["state"] == "interrupted"
    tasks.resume("t-crashed", actor="user:boss")
    wait_for(lambda: tasks.get("t-crashed")["state"] == "finished", timeout=30, what="the resumed task")
    task = Tasks(hub).get("t-crashed")  # and any other process reads the same progress
    assert (task["done"], task["replayed"], task["failed"]) == (4, 4, 0)
    # It carried on from where it stopped: the first two were not replayed by it.
    replays = [e["target"] for e in hub.security.audit.export(None)["entries"] if e["kind"] == "message.replayed"]
    assert replays == ids[2:]
    assert tasks.resume("t-crashed", actor="user:boss")["state"] == "finished"  # a finished task stays so


def test_the_overview_charts_count_events_over_time(hub: Hub, client: TestClient) -> None:
    send(hub, 2)
    wait_for(lambda: hub.messages.counts().get("dead", 0) == 2, timeout=30, what="2 dead letters")
    made = {c.key: c for c in charts.over_time(hub.engine, hours=1)}
    assert sum(made["throughput"].values) == 2 and sum(made["dead"].values) == 2
    assert sum(made["retries"].values) == 2  # one failed attempt each (max_attempts=1)
    assert made["backlog"].values[-1] == 0
    assert sum(charts.over_time(hub.engine, receivers=["TH/GOV/9/none"], hours=1)[0].values) == 0
    assert sum(charts.over_time(hub.engine, member="TH/GOV/0401", hours=1)[0].values) == 2  # the sender's member
    assert sum(charts.over_time(hub.engine, member="TH/GOV/04", hours=1)[0].values) == 0  # not a prefix match
    svg = made["dead"].svg()
    assert len(svg["bars"]) == charts.BUCKETS and svg["top"] >= 1


def test_the_telework_page_shows_each_agencys_figures_and_changes_nothing(pilot_hub) -> None:  # noqa: ANN001
    from hub.api.app import create_app
    from hub.apps.telework import pilot

    hub, _, _ = pilot_hub
    for name, roles in (("boss", ("admin",)), ("op-other", ("agency-operator",))):
        hub.security.users.add(name, PASSWORD, roles=roles, actor="tests",
                               member_id="TH/GOV/DOPA" if name == "op-other" else None)
    with TestClient(create_app(hub, embedded_worker=False), follow_redirects=False) as client:
        sign_in(client, "boss")
        before = settled(hub)
        page = client.get("/console/telework").text
        assert snapshot(hub) == before  # computed for the page; nothing sent, nothing stored
        row = re.search(r'<tr id="tw-1">(.*?)</tr>', page, re.S).group(1)
        assert pilot.CGD in row
        cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)
        assert cells[:2] == ["1", "0"]  # one case, no order yet
        assert 'id="telework-chart"' in page
        sign_in(client, "op-other")  # another agency's operator sees none of it
        assert pilot.CGD not in client.get("/console/telework").text


def test_a_stopped_task_replays_nothing_more_and_can_be_resumed(hub: Hub, client: TestClient) -> None:
    from sqlalchemy import insert

    from hub.clock import utcnow

    ids = send(hub, 2)
    wait_for(lambda: hub.messages.counts().get("dead", 0) == 2, timeout=30, what="2 dead letters")
    with hub.engine.begin() as conn:  # a task just started, in this process, not yet at its first message
        conn.execute(insert(console_tasks).values(id="t-stop", actor="user:boss", reason="r", ids=ids, done=0,
                                                  replayed=0, failed={}, state="running", created_at=utcnow(),
                                                  heartbeat_at=utcnow()))
    tasks = Tasks(hub)
    assert tasks.get("t-stop")["state"] == "running"  # its heartbeat is fresh: not interrupted
    assert tasks.stop("t-stop", actor="user:boss")["state"] == "stopping"
    tasks._run("t-stop")  # the task's thread reaches its next message and sees the stop
    assert tasks.get("t-stop")["state"] == "stopped" and tasks.get("t-stop")["done"] == 0
    assert hub.messages.counts().get("dead", 0) == 2
    tasks.resume("t-stop", actor="user:boss")
    wait_for(lambda: tasks.get("t-stop")["state"] == "finished", timeout=30, what="the resumed task")
    assert tasks.get("t-stop")["replayed"] == 2
    kinds = [e["kind"] for e in hub.security.audit.export(None)["entries"] if e.get("target") == "t-stop"]
    assert kinds == ["console.bulk_replay_stopped", "console.bulk_replay_resumed"]


def test_an_admin_onboards_an_ecms_department_and_renews_its_secret(hub: Hub, client: TestClient) -> None:
    sign_in(client, "boss")
    token = csrf(client, "/console/departments")
    client.post("/console/departments", data={"csrf": token, "code": "0400", "ministry_code": "0400",
                                              "name_th": "กระทรวงทดสอบ"})
    bad = client.post("/console/departments", data={"csrf": token, "code": "0", "ministry_code": "0400",
                                                    "name_th": "กรมทดสอบ"})
    assert "error=" in bad.headers["location"] and "%2Fcode" in bad.headers["location"]
    client.post("/console/departments", data={"csrf": token, "code": "0401", "ministry_code": "0400",
                                              "name_th": "กรมทดสอบ", "party": SENDER})
    assert {d.code for d in hub.ecms.store.departments()} == {"0400", "0401"}
    renewed = client.post("/console/departments/0401/secret", data={"csrf": token})
    assert re.search(r'id="client-secret"><code>[^<]{20,}</code>', renewed.text)
    assert hub.ecms.store.has_secret("0401")
    assert 'id="dept-0401"' in client.get("/console/departments").text
    kinds = [e["kind"] for e in hub.security.audit.export(None)["entries"] if e["actor"] == "user:boss"]
    assert {"ecms.department_onboarded", "ecms.department_secret_renewed"} <= set(kinds)


def test_an_admin_compares_and_deprecates_a_standard_version(hub: Hub, client: TestClient) -> None:
    summary = hub.standards.summaries()[0]
    standard_id, version = summary["id"], summary["versions"][0]["version"]
    sign_in(client, "boss")
    page = client.get(f"/console/standards/{standard_id}?from={version}&to={version}").text
    assert 'id="diff-verdict"' in page or len(summary["versions"]) == 1
    token = csrf(client, f"/console/standards/{standard_id}")
    done = client.post(f"/console/standards/{standard_id}/deprecate",
                       data={"csrf": token, "version": version, "sunset": "2099-01-01", "note": "ทดสอบ"})
    assert "done=" in done.headers["location"]
    assert hub.standards.version_status(hub.standards.get(standard_id, version))["status"] == "deprecated"
    assert f'href="/console/standards/{standard_id}"' in client.get("/console/standards").text.split(
        'id="deprecations"')[1]
    sign_in(client, "audit1")
    refused = client.post(f"/console/standards/{standard_id}/deprecate",
                          data={"csrf": csrf(client, "/console/standards"), "version": version, "sunset": "2099-01-01"})
    assert refused.status_code == 403


def test_a_messages_conversation_and_a_time_range_search(hub: Hub, client: TestClient) -> None:
    letter, notice = send(hub, 2, correlation_id="conv-1")
    [alone] = send(hub)
    sign_in(client, "boss")
    page = client.get(f"/console/messages/{letter}").text
    conversation = page.split("</h2>")[-1]
    assert notice in conversation and alone not in conversation
    assert alone not in client.get("/console/messages?until=2000-01-01T00:00:00%2B00:00").text
    listed = client.get("/console/messages?since=2000-01-01T00:00:00%2B00:00&until=2999-01-01T00:00:00").text
    assert {letter, notice, alone} <= set(re.findall(r">([0-9a-f-]{36})</a>", listed))
