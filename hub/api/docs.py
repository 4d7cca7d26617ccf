"""``/docs`` (Swagger UI) and ``/redoc`` served from assets the hub ships: no CDN.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN (and ReDoc its fonts from
Google), so on a government network without internet they are blank. The script and style
files come from the ``fastapi-offline`` package (MIT; it vendors Swagger UI and ReDoc's
standalone build), served at ``/docs-assets``; the pages are FastAPI's, pointed at them.

The pages and assets are public like the OpenAPI document they render (they hold no data);
a mount and plain routes are outside the application's deny-by-default dependency.
"""
from __future__ import annotations

import secrets
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def assets_dir() -> str:
    return str(resources.files("fastapi_offline") / "static")


def policy(nonce: str | None) -> str:
    """The pages' Content-Security-Policy: everything from the hub. ReDoc's sidebar shows a
    logo from its vendor's CDN (hard-coded in its bundle); ``img-src`` keeps the browser from
    asking for it. Styles may be inline (both libraries set them from script); scripts only
    from the hub, or the one start-up script carrying ``nonce``."""
    script = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; "
            f"script-src {script}; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'")


def hoist_defs(node: Any, schemas: dict[str, Any]) -> None:
    """Move every inline ``$defs`` (a pydantic schema given whole, e.g. the submit body in
    ``openapi_extra``) into ``components/schemas``, where its ``#/components/schemas/...``
    references point: left inline, those references resolve to nothing and ReDoc stops."""
    if isinstance(node, dict):
        for name, schema in node.pop("$defs", {}).items():
            schemas.setdefault(name, schema)
            hoist_defs(schema, schemas)
        for value in node.values():
            hoist_defs(value, schemas)
    elif isinstance(node, list):
        for value in node:
            hoist_defs(value, schemas)


def install(app: FastAPI) -> None:
    """Call with a FastAPI built with ``docs_url=None, redoc_url=None``."""
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build_openapi()
            hoist_defs(spec["paths"], spec.setdefault("components", {}).setdefault("schemas", {}))
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")
    title = app.title

    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{title} — API",
            oauth2_redirect_url=f"{root}{app.swagger_ui_oauth2_redirect_url}",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png")
        # The one inline script (Swagger UI's start-up, no input in it) runs by its nonce.
        nonce = secrets.token_urlsafe(16)
        html = bytes(page.body).decode("utf-8").replace("<script>", f'<script nonce="{nonce}">')
        return HTMLResponse(html, headers={"Content-Security-Policy": policy(nonce)})

    async def oauth2_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{title} — API",
                              redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{ASSETS}/favicon.png", with_google_fonts=False)
        page.headers["Content-Security-Policy"] = policy(None)
        return page

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route(app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect", oauth2_redirect,
                  include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
