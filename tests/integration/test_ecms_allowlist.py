"""The weaker e-CMS option: a separate listener that authenticates a department by its source
address alone. Loopback only: 127.0.0.1 and 127.0.0.2.. are all on Linux's loopback interface,
and the client picks its source address with httpx's ``local_address``."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from typer.testing import CliRunner

from hub.bootstrap import build_hub
from hub.cli import app as cli_app
from hub.adapters.ecms.node.allowlist import AddressAllowList
from hub.api.allowlist import AllowListListener, start_listener
from hub.config import EcmsSettings, Settings
from hub.errors import ConfigError
from hub.security.wiring import security_of
from tests.conftest import fast_settings
from tests.integration.test_ecms_node import basic, envelope, error_code, outbound, raw_letter
from tests.support.ecms import post_soap, register_departments, serving
from tests.support.hubproc import free_port, settings_env
from tests.support.waiting import wait_for

HUB_NS = ""  # answers are in no namespace (issue 13)
# 0401 is one host; 0402 is 127.0.0.4/30 (127.0.0.4-7); 127.0.0.2 is on no list.
ALLOWLIST = {"127.0.0.1/32": "0401", "127.0.0.4/30": "0402"}
POLL = envelope("<CorrespondenceLetterInboundRequest/>")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, object]]:
    """(main listener URL, allow-list listener URL, hub)."""
    hub = build_hub(fast_settings(tmp_path_factory.mktemp("ecms-allowlist") / "data"))
    register_departments(hub)
    listener = AllowListListener(hub, AddressAllowList.build(ALLOWLIST, hub.ecms.store),
                                 host="127.0.0.1", port=0, log_level="warning").start()
    try:
        with serving(hub) as url:
            yield url, listener.url, hub
    finally:
        listener.stop()
        hub.close()


def post_from(source: str, url: str, body: str, **headers: str) -> httpx.Response:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as client:
        return client.post(url, content=body.encode(), headers={"Content-Type": "text/xml; charset=utf-8", **headers})


def process_ids(response: httpx.Response) -> list[str]:
    return [e.text for e in etree.fromstring(response.content).iter(f"{HUB_NS}ProcessID")]


def refusals(hub, actor: str) -> list[dict]:
    return [e for e in security_of(hub).audit.entries(kind="auth.refused") if e["actor"] == actor]


def test_the_listener_is_off_by_default(monkeypatch):
    for name in ("HUB_ECMS_ALLOWLIST_PORT", "HUB_ECMS_ALLOWLIST"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().ecms.allowlist_port is None


def test_allowed_addresses_exchange_a_letter_without_credentials(nodes):
    """0401 (127.0.0.1) sends to 0402 and 0402 (127.0.0.5) polls and deletes it: no credentials
    anywhere; 0401's own poll never shows 0402's item, and 0401 cannot delete it."""
    _, url, hub = nodes
    sent = post_from("127.0.0.1", url, outbound(raw_letter(id="กค 0401/allow-list")))
    assert sent.status_code == 200, sent.text
    poll = wait_for(lambda: (r := post_from("127.0.0.5", url, POLL)) and process_ids(r) and r,
                    timeout=20, what="the letter in 0402's queue")
    assert "กค 0401/allow-list" in poll.text
    process_id = process_ids(poll)[0]
    assert process_ids(post_from("127.0.0.1", url, POLL)) == []  # 0401 polls its own (empty) queue
    theirs = post_from("127.0.0.1", url, envelope(
        f"<CorrespondenceLetterDeleteRequest><ProcessID>{process_id}</ProcessID></CorrespondenceLetterDeleteRequest>"))
    assert error_code(theirs) == "E010"
    deleted = post_from("127.0.0.5", url, envelope(
        f"<CorrespondenceLetterDeleteRequest><ProcessID>{process_id}</ProcessID></CorrespondenceLetterDeleteRequest>"))
    assert deleted.status_code == 200, deleted.text


def test_an_allowed_address_cannot_send_as_another_department(nodes):
    _, url, hub = nodes
    before = hub.messages.counts()
    # raw_letter's sender is 0401; 127.0.0.5 is 0402's address.
    spoofed = post_from("127.0.0.5", url, outbound(raw_letter(id="กค 0401/spoofed", dept="0401")))
    assert spoofed.status_code == 200 and error_code(spoofed) == "E008"
    assert hub.messages.counts() == before


def test_an_unlisted_address_is_refused_and_audited(nodes):
    _, url, hub = nodes
    before = len(refusals(hub, "address:127.0.0.2"))
    response = post_from("127.0.0.2", url, POLL)
    assert response.status_code == 200 and error_code(response) == "E009"
    # Credentials do not help on this listener: the address is its only proof.
    with_secret = post_from("127.0.0.2", url, POLL, **basic("0401"))
    assert error_code(with_secret) == "E009"
    entries = refusals(hub, "address:127.0.0.2")
    assert len(entries) == before + 2
    assert entries[-1]["decision"] == "refused" and "allow-list" in entries[-1]["detail"]


def test_forwarded_headers_are_not_trusted(nodes):
    """127.0.0.2 claiming, through proxy headers, to be 0401's 127.0.0.1 is still 127.0.0.2
    (uvicorn would otherwise believe X-Forwarded-For from a 127.0.0.1 peer by default)."""
    _, url, hub = nodes
    for headers in ({"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.1"}, {"X-Real-IP": "127.0.0.1"}):
        assert error_code(post_from("127.0.0.2", url, POLL, **headers)) == "E009"


def test_the_listener_serves_only_the_ecms_endpoint(nodes):
    _, url, _ = nodes
    wsdl = httpx.get(f"{url}?wsdl", timeout=10)
    assert wsdl.status_code == 200 and f'location="{url}"' in wsdl.text
    root = url.removesuffix("/ecms/service2")
    for path in ("/healthz", "/v1/messages", "/docs", "/openapi.json"):
        assert httpx.get(root + path, timeout=10).status_code == 404, path


def test_the_main_listener_still_refuses_callers_without_credentials(nodes):
    main_url, _, hub = nodes
    # 127.0.0.1 is 0401's address on the allow-list listener, but not on the main one.
    response = post_from("127.0.0.1", main_url, POLL)
    assert response.status_code == 200 and error_code(response) == "E009"


@pytest.mark.parametrize(("mapping", "complaint"), [
    ({"127.0.0.0/24": "0401", "127.0.0.9/32": "0402"}, "overlap"),
    ({"127.0.0.1": "0401", "127.0.0.1/32": "0402"}, "overlap"),
    ({"127.0.0.1/32": "9999"}, "not registered"),
    ({"127.0.0.1/32": "0400"}, "no subsystem"),  # a ministry: no queue
    ({"127.0.0.1/24": "0401"}, "host bits"),
    ({"not-an-address": "0401"}, "not an IP address"),
    ({"127.0.0.1/32": ["0401", "0402"]}, "not one department"),
    ({}, "empty"),
])
def test_a_bad_allowlist_is_refused(nodes, mapping, complaint):
    _, _, hub = nodes
    with pytest.raises(ConfigError, match=complaint):
        AddressAllowList.build(mapping, hub.ecms.store)


def test_ipv6_and_mapped_ipv4_peers(nodes):
    _, _, hub = nodes
    allowlist = AddressAllowList.build({"2001:db8::/64": "0401", "10.0.0.0/8": "0402"}, hub.ecms.store)
    assert allowlist.department_code("2001:db8::7") == "0401"
    assert allowlist.department_code("::ffff:10.1.2.3") == "0402"  # a dual-stack socket's IPv4 peer
    assert allowlist.department_code("192.0.2.1") is None and allowlist.department_code(None) is None


def test_the_same_port_as_the_api_is_refused(nodes, monkeypatch):
    _, _, hub = nodes
    monkeypatch.setattr(hub.ecms.settings, "allowlist_port", 8000)
    monkeypatch.setattr(hub.ecms.settings, "allowlist", ALLOWLIST)
    with pytest.raises(ConfigError, match="must differ"):
        start_listener(hub, host="127.0.0.1", main_port=8000)


def test_hub_serve_refuses_a_bad_allowlist_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_ECMS_ALLOWLIST_PORT", str(free_port()))
    monkeypatch.setenv("HUB_ECMS_ALLOWLIST", json.dumps({"127.0.0.1/32": "0401", "127.0.0.0/30": "0402"}))
    result = CliRunner().invoke(cli_app, ["serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2, result.output
    assert "allow-list is refused" in result.output and "not registered" in result.output
    monkeypatch.setenv("HUB_ECMS_ALLOWLIST", "{not json")
    result = CliRunner().invoke(cli_app, ["serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2 and "e-CMS settings are invalid" in result.output


def test_hub_serve_starts_the_listener_and_says_it_is_weaker(tmp_path):
    settings = fast_settings(tmp_path / "data")
    hub = build_hub(settings)
    register_departments(hub)
    hub.close()
    port, allow_port = free_port(), free_port()
    env = settings_env(settings) | {"HUB_ECMS_ALLOWLIST_PORT": str(allow_port),
                                    "HUB_ECMS_ALLOWLIST": json.dumps(ALLOWLIST)}
    log = tmp_path / "hub.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{allow_port}/ecms/service2"

        def answered() -> httpx.Response | None:
            assert proc.poll() is None, log.read_text()
            try:
                return post_from("127.0.0.5", url, POLL)
            except httpx.TransportError:
                time.sleep(0.1)
                return None

        assert wait_for(answered, timeout=30, what="the allow-list listener").status_code == 200
        assert error_code(post_from("127.0.0.5", f"http://127.0.0.1:{port}/ecms/service2", POLL)) == "E009"
        assert "WEAKER e-CMS authentication is ON" in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    # 143 = 128 + SIGTERM, raised as SystemExit after the listener and the hub were closed.
    assert proc.returncode == 143, log.read_text()
