"""/docs and /redoc render with the network cut off: every asset comes from the hub."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.bootstrap import Hub
from hub.demo.server import BackgroundServer
from tests.support.browser import browser_page, need_browser, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def served(embedded_hub: Hub) -> Iterator[str]:
    need_browser()
    server = BackgroundServer(embedded_hub, embedded_worker=False).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_swagger_ui_renders_offline(served: str) -> None:
    with browser_page(served) as page:
        page.goto(f"{served}/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=20000)
        assert "Back Office interoperability hub" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock", timeout=20000)  # the operations, from /openapi.json
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any(p.replace("\u200b", "") == "/v1/messages" for p in paths), paths[:5]
        screenshot(page, "api-docs-swagger")
        assert page.outside == []


def test_redoc_renders_offline(served: str) -> None:
    with browser_page(served) as page:
        page.goto(f"{served}/redoc")
        page.wait_for_selector("h1:has-text('Back Office interoperability hub')", timeout=30000)
        page.wait_for_selector("text=Submit a message", timeout=30000)
        # ReDoc lays every one of the hundred-odd operations out on one page tens of thousands of pixels tall: a
        # full-page capture takes over 30 s on a loaded 2-core machine, and the top shows enough.
        screenshot(page, "api-docs-redoc", full_page=False)
        assert page.outside == []
