"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium`` driven by
Playwright for Python (no browser download of Playwright's own).

``browser_page(base_url)`` gives a page that records every request and aborts any that
leaves the hub (``page.outside`` lists them), so a test can both check that a page works with
the network cut off and that it asked for nothing outside. Browser tests skip when Playwright
or Chromium is missing, unless HUB_TEST_SERVICES=required (CI: ``scripts/test`` installs
Chromium with apt-get when it runs as root).
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.services import required

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Where each page's screenshot is written (README › Web console); override with HUB_SCREENSHOTS.
SCREENSHOTS = Path(os.environ.get("HUB_SCREENSHOTS", Path(__file__).resolve().parents[2] / "screenshots"))


def chromium_path() -> str | None:
    explicit = os.environ.get("HUB_TEST_CHROMIUM")
    for candidate in (explicit, *CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def need_browser() -> str:
    """The Chromium executable, or skip (fail when HUB_TEST_SERVICES=required)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        if required():
            pytest.fail("the playwright package is not installed (pip install -e '.[test]')")
        pytest.skip("the playwright package is not installed")
    path = chromium_path()
    if path is None:
        if required():
            pytest.fail("no Chromium at /usr/bin/chromium (apt-get install chromium)")
        pytest.skip("no Chromium at /usr/bin/chromium")
    return path


@contextmanager
def browser_page(base_url: str, *, locale: str = "th-TH") -> Iterator[Any]:
    """A fresh browser context's page; requests outside ``base_url`` are aborted and recorded
    in ``page.outside``."""
    from playwright.sync_api import sync_playwright

    executable = need_browser()
    own = urlsplit(base_url).netloc
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.outside = []

            def guard(route: Any) -> None:
                url = route.request.url
                if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == own:
                    route.continue_()
                else:
                    page.outside.append(url)
                    route.abort("internetdisconnected")
            context.route("**/*", guard)
            yield page
        finally:
            browser.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
