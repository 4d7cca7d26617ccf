"""``/ecms/service2`` and ``/ecms-ws01/service2`` (the path deployed e-Saraban clients use, as on
DGA's node): the e-CMS node (SOAP 1.1 POST) and its WSDL / XSDs (GET)."""
from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import IO, Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from lxml import etree

from hub.api.deps import HubDep
from hub.adapters.ecms.codec import soap
from hub.adapters.ecms.node.auth import soap_authenticator
from hub.adapters.ecms.codec.codes import EcmsFault
from hub.api.public import public, self_authenticating
from hub.errors import NotFound
from hub.schemas.principal import Principal
from hub.standards.safexml import parse_xml

router = APIRouter(tags=["e-CMS"])
# The same node on the public path of DGA's e-CMS (registered at the end of this module).
PUBLIC_PATH = "/ecms-ws01/service2"
# Inside the hub's standards folder (Settings.standards_dir).
DOCUMENTS = {
    "wsdl": Path("th.ecms.service") / "1.0.0" / "service.wsdl",
    "service": Path("th.ecms.service") / "1.0.0" / "schema.xsd",
    "letter": Path("th.ecms.letter") / "1.0.0" / "schema.xsd",
    "ram": Path("th.ecms.letter") / "1.0.0" / "ram.xsd",
}
LOCATIONS = {"schema.xsd": "service", "../../th.ecms.letter/1.0.0/schema.xsd": "letter", "ram.xsd": "ram"}
XML = "text/xml; charset=utf-8"
# A 1 MiB attachment is ~1.4 MiB of base64: such a letter stays in memory (its chunks joined
# once) rather than being written to a temporary file and read back; larger requests go to disk.
SPOOL_IN_MEMORY = 2 * 1024 * 1024


@cache
def _document(standards_dir: Path, name: str, base: str) -> bytes:
    """A published file with its relative schema locations and address made absolute."""
    root = parse_xml((standards_dir / DOCUMENTS[name]).read_bytes())
    for element in root.iter("{http://www.w3.org/2001/XMLSchema}import", "{http://www.w3.org/2001/XMLSchema}include"):
        location = element.get("schemaLocation")
        if location in LOCATIONS:
            # letter/schema.xsd imports "ram.xsd"; the service folder has no ram.xsd, so the name is unambiguous
            element.set("schemaLocation", f"{base}?xsd={LOCATIONS[location]}")
    for address in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address"):
        address.set("location", base)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@router.get("/ecms/service2", response_class=Response, responses={200: {
    "description": "The WSDL (?wsdl) or a schema (?xsd=service|letter|ram)", "content": {XML: {"schema": {"type": "string"}}}}})
@public("the node's WSDL and schemas are published standard documents")
def describe(request: Request, hub: HubDep) -> Response:
    """The node's WSDL (``?wsdl``) or one of its schemas (``?xsd=service|letter|ram``)."""
    base = str(request.url.replace(query="", fragment=""))
    standards_dir = hub.settings.standards_dir
    if "wsdl" in {k.lower() for k in request.query_params}:
        return Response(_document(standards_dir, "wsdl", base), media_type=XML)
    xsd = request.query_params.get("xsd")
    if xsd in ("service", "letter", "ram"):
        return Response(_document(standards_dir, xsd, base), media_type=XML)
    raise NotFound("ask for ?wsdl or ?xsd=service|letter|ram; SOAP requests are POSTed")


@router.post("/ecms/service2", response_class=Response, responses={200: {
    "description": "The SOAP 1.1 response envelope (refusals: ErrorDetail in 200; a SOAP fault 500 only for what is not SOAP)", "content": {XML: {"schema": {"type": "string"}}}}})
@self_authenticating("UsernameToken in the SOAP header, HTTP Basic or client certificate (hub.adapters.ecms.node.auth)")
async def call(request: Request, hub: HubDep) -> Response:
    """One SOAP 1.1 e-CMS operation; a body over 2 MiB is spooled to disk, not held whole in memory."""
    return await handle_soap(request, hub.ecms, soap_authenticator(request, hub.ecms.store))


async def handle_soap(request: Request, service: Any, authenticate: Callable[[soap.SoapRequest], Principal]) -> Response:
    """Spool the SOAP request and run it through the node with ``authenticate``: shared by this
    route and the address allow-list listener (``hub.api.allowlist``), which differ only in
    how the caller is authenticated."""
    limit = service.settings.max_request_bytes
    chunks: list[bytes] = []
    spool: IO[bytes] | None = None
    try:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                fault = EcmsFault("E014", f"the request exceeds {limit} bytes (HUB_ECMS_MAX_REQUEST_BYTES)")
                return Response(soap.error_answer(fault, None, None), status_code=200, media_type=XML)
            if spool is not None:
                spool.write(chunk)
                continue
            chunks.append(chunk)
            if size > SPOOL_IN_MEMORY:
                spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed below)
                spool.writelines(chunks)
                chunks.clear()
        if spool is None:
            # Joined once, in one copy: writing each chunk into a growing in-memory file was
            # this route's largest own cost on the event loop in a profile (py-spy).
            spool = io.BytesIO(b"".join(chunks))
            chunks.clear()
        spool.seek(0)
        answer = await run_in_threadpool(service.node.handle, spool, authenticate, base_url=str(request.url),
                                         content_type=request.headers.get("content-type"))
    finally:
        if spool is not None:
            spool.close()
    if isinstance(answer.body, soap.WholeAnswer):  # sent in one write, with a Content-Length
        return Response(answer.body.content, status_code=answer.status, media_type=XML)
    return StreamingResponse(answer.body, status_code=answer.status, media_type=XML)


router.add_api_route(PUBLIC_PATH, describe, methods=["GET"], response_class=Response,
                     summary="The node's WSDL or a schema, on the public e-CMS path", responses={200: {
                         "description": "The WSDL (?wsdl) or a schema (?xsd=service|letter|ram)",
                         "content": {XML: {"schema": {"type": "string"}}}}})
router.add_api_route(PUBLIC_PATH, call, methods=["POST"], response_class=Response,
                     summary="One SOAP 1.1 e-CMS operation, on the public e-CMS path", responses={200: {
                         "description": "The SOAP 1.1 response envelope (refusals: ErrorDetail in 200)",
                         "content": {XML: {"schema": {"type": "string"}}}}})
