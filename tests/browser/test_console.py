"""The web console in a real browser (Playwright + Debian's Chromium): sign in per role, find
a dead-lettered message by search, open its timeline, bulk-replay 200 dead letters and watch
the progress reach 200, switch Thai/English, and check that no page asks anything of a host
other than the hub. A screenshot of each page goes to screenshots/ (README › Web console)."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from hub.bootstrap import Hub
from hub.demo.server import BackgroundServer
from hub.schemas.envelope import Envelope
from tests.support.browser import browser_page, need_browser, screenshot
from tests.support.waiting import wait_for

pytestmark = pytest.mark.browser

SENDER, OTHER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/0999/app", "TH/GOV/1501/hr", "telework.order/v1"
PASSWORD = "a long enough password"


@pytest.fixture
def console_url(embedded_hub: Hub) -> Iterator[str]:
    need_browser()
    hub = embedded_hub
    users = hub.security.users
    users.add("somchai", PASSWORD, roles=("admin",), actor="tests", clearance="004")
    users.add("auditor1", PASSWORD, roles=("auditor",), actor="tests", clearance="004")
    users.add("op0401", PASSWORD, roles=("agency-operator",), actor="tests", member_id="TH/GOV/0401")
    users.add("watcher", PASSWORD, roles=("monitor",), actor="tests")
    from hub.schemas.routes import RouteIn

    hub.router.add(RouteIn(receiver=RECEIVER, service=SERVICE, adapter="memory", max_attempts=1,
                           settings={"mailbox": "console-dead", "fail_times": 10**6}))
    server = BackgroundServer(hub).start()
    try:
        yield f"{server.url}/console"
    finally:
        server.stop()


def send(hub: Hub, n: int, sender: str = SENDER) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    for message_id in ids:
        hub.messages.accept(Envelope.model_validate({"id": message_id, "sender": sender, "receiver": RECEIVER,
                                                     "service": SERVICE, "payload": {"n": 1}}))
    return ids


def sign_in(page, url: str, username: str) -> None:  # noqa: ANN001
    page.goto(f"{url}/overview")
    assert "/console/signin" in page.url  # not signed in: to the sign-in page, and back after
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_url(re.compile(r".*/console/overview$"))


def test_admin_finds_a_dead_letter_opens_its_timeline_and_bulk_replays_200(embedded_hub: Hub,
                                                                          console_url: str) -> None:
    ids = send(embedded_hub, 200)
    wait_for(lambda: embedded_hub.messages.counts().get("dead", 0) == 200, timeout=90, what="200 dead letters")
    with browser_page(console_url) as page:
        page.goto(console_url)
        assert page.inner_text("h1") == "เข้าสู่ระบบ"  # Thai first
        screenshot(page, "console-signin")
        page.fill("#username", "somchai")
        page.fill("#password", "wrong password")
        page.click("#signin")
        assert page.is_visible("#signin-failed")
        sign_in(page, console_url, "somchai")
        assert "200" in page.inner_text("#banner")
        assert page.locator("#status-chart rect").count() >= 1
        screenshot(page, "console-overview")

        # Search: the dead letters to this receiver; the one we look for is there, whole.
        page.click("#nav-messages")
        page.fill("input[name=receiver]", RECEIVER)
        page.select_option("#status", "dead")
        page.click("#search-button")
        assert page.locator(f"a:text-is('{ids[7]}')").count() == 1
        screenshot(page, "console-messages")
        page.click(f"a:text-is('{ids[7]}')")
        timeline = page.inner_text("#timeline")
        assert "accepted" in timeline and "attempt_failed" in timeline and "dead_lettered" in timeline
        assert "failing on purpose" in timeline and "duration_ms=" in timeline
        assert re.search(r"\d{1,2} (ม\.ค\.|ก\.พ\.|มี\.ค\.|เม\.ย\.|พ\.ค\.|มิ\.ย\.|ก\.ค\.|ส\.ค\.|ก\.ย\.|ต\.ค\.|พ\.ย\.|ธ\.ค\.) 25\d\d",
                         timeline)  # Thai dates, Buddhist Era
        screenshot(page, "console-message")

        # Bulk replay of all 200 as a background task; the progress reaches 200.
        page.click("#nav-deadletters")
        assert page.locator("#dead input[name=ids]").count() == 200
        screenshot(page, "console-deadletters")
        page.check("#select-all")
        page.fill("#bulk-reason", "ผู้รับกลับมาให้บริการแล้ว")
        page.click("#bulk-replay")
        page.wait_for_url(re.compile(r".*/console/tasks/.+"))
        from playwright.sync_api import expect

        expect(page.locator("#task-done")).to_have_text("200", timeout=60000)  # our script polls progress
        expect(page.locator("#task-state")).to_have_text("เสร็จแล้ว")
        assert page.inner_text("#task-replayed") == "200" and page.inner_text("#task-failed") == "0"
        screenshot(page, "console-task")

        # English on request, everywhere.
        page.click("#lang-en")
        assert page.inner_text("h1") == "Replay task"
        page.click("#nav-overview")
        assert page.inner_text("h1") == "Overview"
        page.click("#lang-th")
        assert page.inner_text("h1") == "ภาพรวม"

        page.click("#signout")
        page.goto(f"{console_url}/overview")
        assert "/console/signin" in page.url
        assert page.outside == []  # nothing was asked of any other host

    entries = embedded_hub.security.audit.export(None)["entries"]
    replays = [e for e in entries if e["kind"] == "message.replayed"]
    assert len(replays) == 200 and {e["actor"] for e in replays} == {"user:somchai"}
    assert any(e["kind"] == "console.bulk_replay_started" for e in entries)
    history = embedded_hub.messages.history(ids[0])
    assert any(e["kind"] == "replayed" and e["detail"]["reason"] == "ผู้รับกลับมาให้บริการแล้ว" for e in history)


def test_each_role_sees_and_does_only_what_it_may(embedded_hub: Hub, console_url: str) -> None:
    own = send(embedded_hub, 2)
    others = send(embedded_hub, 2, sender=OTHER)
    wait_for(lambda: embedded_hub.messages.counts().get("dead", 0) == 4, timeout=60, what="4 dead letters")
    with browser_page(console_url) as page:
        # An auditor sees the figures, not the messages (as in the API: only admins and the
        # parties read a message), and replays nothing.
        sign_in(page, console_url, "auditor1")
        assert "4" in page.inner_text("#banner")
        page.click("#nav-deadletters")
        assert page.locator("#dead a").count() == 0
        assert page.locator("#bulk-replay").count() == 0
        page.goto(f"{console_url}/messages/{own[0]}")
        assert page.locator("#replay").count() == 0 and page.inner_text("#error") == "ไม่พบรายการ"
        response = page.request.post(f"{console_url}/deadletters/replay", form={"ids": own[0], "reason": "x"})
        assert response.status == 403
        page.click("#signout")

        sign_in(page, console_url, "op0401")
        page.click("#nav-messages")
        listed = page.locator("#messages a").all_inner_texts()
        assert set(listed) == set(own)  # an agency operator sees its own member's messages only
        page.goto(f"{console_url}/messages/{others[0]}")
        assert page.inner_text("#error") == "ไม่พบรายการ"
        assert page.locator("#nav-routes").count() == 0 and page.locator("#nav-access").count() == 0
        response = page.request.post(f"{console_url}/access/grant", form={"client": SENDER, "service": SERVICE})
        assert response.status == 403
        page.click("#signout")

        # A monitor watches: the overview's figures and charts, nothing else; refused on the
        # server too, not only missing from the menu.
        sign_in(page, console_url, "watcher")
        assert "4" in page.inner_text("#banner")
        assert page.locator("#chart-dead rect").count() >= 1
        assert page.locator("nav a").all_inner_texts() == ["ภาพรวม", "ตัวชี้วัด"]
        screenshot(page, "console-overview-monitor")
        for path in ("messages", "deadletters", f"messages/{own[0]}", "access", "routes", "audit"):
            assert page.goto(f"{console_url}/{path}").status == 403, path
        assert page.inner_text("#error") == "บทบาทของท่านไม่มีสิทธิ์ทำรายการนี้"
        assert page.outside == []


def test_every_page_renders_in_both_languages_with_nothing_from_outside(embedded_hub: Hub, console_url: str) -> None:
    """Each console page an admin can reach, in Thai then English, with a screenshot of each;
    no request leaves the hub."""
    from tests.support.auth import register_agency

    register_agency(embedded_hub, SENDER, rights=[(SERVICE, RECEIVER)])
    own = send(embedded_hub, 3)
    wait_for(lambda: embedded_hub.messages.counts().get("dead", 0) == 3, timeout=60, what="3 dead letters")
    pages = ["overview", "metrics", "messages", f"messages/{own[0]}", f"messages/{own[0]}/payload", "deadletters", "routes",
             "agencies", "agencies/TH/GOV/0401", "departments", "standards", "audit?verify=1", "telework", "access"]
    with browser_page(console_url) as page:
        sign_in(page, console_url, "somchai")
        page.goto(f"{console_url}/routes")
        page.click("#check-1")  # the route's adapter check, from its page
        assert page.is_visible("#check-result")
        for lang in ("th", "en"):
            page.goto(f"{console_url}/lang/{lang}?next=/console/overview")
            for path in pages:
                response = page.goto(f"{console_url}/{path}")
                assert response.status == 200, path
                assert page.locator("html").get_attribute("lang") == lang
                assert not re.search(r"\[[a-z_]+\]", page.inner_text("body")), path  # every word translated
                if lang == "th" or path == "overview":
                    name = "console-" + re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].replace(own[0], "id").lower()).strip("-")
                    screenshot(page, f"{name}-{lang}" if lang == "en" else name)
        page.goto(f"{console_url}/standards")
        first = page.locator("#standards a").first
        if first.count():
            first.click()
            screenshot(page, "console-standard")
        assert page.outside == []


def test_forms_refuse_a_missing_csrf_token(embedded_hub: Hub, console_url: str) -> None:
    own = send(embedded_hub, 1)
    wait_for(lambda: embedded_hub.messages.counts().get("dead", 0) == 1, timeout=60, what="a dead letter")
    with browser_page(console_url) as page:
        sign_in(page, console_url, "somchai")
        cookie = next(c for c in page.context.cookies() if c["name"] == "hub_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        forged = page.request.post(f"{console_url}/messages/{own[0]}/replay", form={"reason": "forged"})
        assert forged.status == 403
        assert embedded_hub.messages.get_meta(own[0]).status == "dead"
        csp = page.request.get(f"{console_url}/overview").headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_an_admin_revokes_a_right_and_the_next_submit_is_refused(embedded_hub: Hub, console_url: str) -> None:
    from fastapi.testclient import TestClient

    from hub.api.app import create_app
    from tests.support.auth import agency_token, bearer

    token = agency_token(embedded_hub, SENDER, rights=[(SERVICE, RECEIVER)])
    right = next(r for r in embedded_hub.security.access.rights(SENDER) if r["service"] == SERVICE)
    api = TestClient(create_app(embedded_hub, embedded_worker=False), headers=bearer(token))

    def submit() -> int:
        return api.post("/v1/messages", json={"sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
                                              "payload": {}}).status_code
    assert submit() == 202
    with browser_page(console_url) as page:
        sign_in(page, console_url, "somchai")
        page.click("#nav-access")
        screenshot(page, "console-access")
        page.click(f"#revoke-{right['id']}")
        assert page.is_visible("#revoked")
        assert page.locator(f"#right-{right['id']}").count() == 0
        assert page.outside == []
    assert submit() == 403
    entries = embedded_hub.security.audit.export(None)["entries"]
    assert any(e["kind"] == "access.right_revoked" and e["actor"] == "user:somchai" for e in entries)
