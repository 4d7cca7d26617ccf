"""The API documents itself without the internet: pages that name only the hub's own assets,
and an OpenAPI document whose every reference resolves (ReDoc stops at one that does not)."""
from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_pages_load_only_the_hubs_own_assets(anonymous_client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = anonymous_client.get(page)
        assert response.status_code == 200, page
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", response.text)
        assert urls, page
        assert all(u.startswith("/") and not u.startswith("//") for u in urls), (page, urls)
        for url in urls:
            assert anonymous_client.get(url).status_code == 200, url
    assert "fonts.googleapis" not in anonymous_client.get("/redoc").text


def test_every_openapi_reference_resolves(anonymous_client: TestClient) -> None:
    spec = anonymous_client.get("/openapi.json").json()
    refs = set(re.findall(r'"\$ref":\s*"([^"]+)"', anonymous_client.get("/openapi.json").text))
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]
    body = spec["paths"]["/v1/messages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "$defs" not in body and "Code" in spec["components"]["schemas"]
