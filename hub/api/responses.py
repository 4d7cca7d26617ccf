"""JSON responses rendered with orjson (datetimes, UUIDs and large bodies, fast)."""
from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse
from starlette.responses import Response


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class AcceptedResponse(Response):
    """An accept's 202: the same bytes and headers as ``FastJSONResponse(content, 202,
    {"Location": ..., ["Idempotent-Replayed": "true"]})``, with the header list built
    directly rather than through ``init_headers``' general case (once per accepted message)."""

    media_type = "application/json"

    def __init__(self, content: dict[str, Any], location: str, *, replayed: bool = False) -> None:
        self.status_code = 202
        self.background = None
        self.body = orjson.dumps(content)
        headers = [(b"location", location.encode("latin-1"))]
        if replayed:
            headers.append((b"idempotent-replayed", b"true"))
        headers += [(b"content-length", str(len(self.body)).encode("latin-1")), (b"content-type", b"application/json")]
        self.raw_headers = headers
