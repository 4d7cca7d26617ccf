"""e-CMS test helpers: a hub serving HTTP in a thread, departments of two ministries."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from hub.bootstrap import Hub, build_hub
from hub.config import Settings
from tests.support.hubproc import free_port

# (code, ministry, name_th, name_en, party, clearance, secret)
DEPARTMENTS = [
    ("0400", "0400", "กระทรวงการคลัง", "Ministry of Finance", None, "001", None),
    ("0401", "0400", "สำนักงานปลัดกระทรวงการคลัง", "Office of the Permanent Secretary, MOF",
     "TH/GOV/0401/saraban", "004", "secret-0401"),
    ("0402", "0400", "สำนักงานเศรษฐกิจการคลัง", "Fiscal Policy Office", "TH/GOV/0402/saraban", "002",
     "secret-0402"),
    ("1000", "1000", "สำนักนายกรัฐมนตรี", "Office of the Prime Minister", None, "001", None),
    ("1012", "1000", "สำนักงาน ก.พ.ร.", "OPDC", "TH/GOV/1012/saraban", "001", "secret-1012"),
]


def register_departments(hub: Hub) -> None:
    for code, ministry, name_th, name_en, party, clearance, secret in DEPARTMENTS:
        hub.ecms.register_department(code, ministry, name_th, name_en=name_en, party=party,
                                     clearance=clearance, secret=secret)
    grant_letters(hub, [d[4] for d in DEPARTMENTS if d[4]])


def grant_letters(hub: Hub, parties: list[str]) -> None:
    """Register each department's subsystem and let it send e-CMS letters to every other one
    (a letter flows only with the right, as the README's onboarding shows)."""
    from hub.security.onboarding import onboard
    from hub.security.wiring import security_of

    for party in parties:
        onboard(security_of(hub), party, actor="test", rights=[("ecms.letter/v1", p) for p in parties if p != party])


@contextmanager
def serving(hub: Hub) -> Iterator[str]:
    """The hub's API (with its embedded worker) on a real port; yields the node URL."""
    from hub.api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/ecms/service2"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def post_soap(url: str, body: bytes | str, **headers: str) -> httpx.Response:
    data = body.encode() if isinstance(body, str) else body
    return httpx.post(url, content=data, headers={"Content-Type": "text/xml; charset=utf-8", **headers}, timeout=30)


@contextmanager
def node_serving(settings: Settings) -> Iterator[tuple[str, Hub]]:
    """A hub built from ``settings`` with the test departments, its API on a real port;
    yields (node URL, hub) and closes the hub afterwards."""
    hub = build_hub(settings)
    register_departments(hub)
    try:
        with serving(hub) as url:
            yield url, hub
    finally:
        hub.close()

