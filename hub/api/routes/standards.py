"""``/v1/standards``: the data-standards registry; ``/standards/``: its HTML documentation.

Public standard documents — the list, a standard, a version, its raw schema, the diff
between two versions and the HTML documentation — are readable without credentials: the
issue allows anonymous access to them, and an agency must be able to read a standard
before it has a client certificate or token. Publishing and deprecating need the caller
(``PrincipalDep``): only the lead agency of the Back Office system, or a hub admin.

Validating a document also needs the caller: it is computation on the hub (a payload of up
to ``HUB_MAX_PAYLOAD_BYTES`` of JSON or XML), not a public document, so it is not offered
to anonymous clients; ``hub standards validate`` does the same check offline.
"""
from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from hub.api.deps import PrincipalDep, SettingsDep, StandardsDep
from hub.api.public import public
from hub.api.routes.messages import read_limited_body
from hub.errors import FieldError, ValidationFailed
from hub.schemas.standards import (
    DeprecateIn, PublishIn, PublishOut, StandardDiff, StandardList, StandardSummary, StandardVersionOut, ValidationOut,
)
from hub.standards import docs
from hub.schemas.standards import ID_PATTERN, SEMVER_PATTERN
from hub.standards.model import XSD_MAIN, is_xsd_file_name
from hub.standards.publishing import version_from_request
from hub.standards.registry import StandardsRegistry

router = APIRouter(tags=["standards"])

StandardId = Annotated[str, Path(pattern=ID_PATTERN, max_length=100, examples=["th.telework.order"])]
Version = Annotated[str, Path(pattern=SEMVER_PATTERN, max_length=32, examples=["1.0.0"])]
PUBLIC_DOCUMENT = "published standard documents are public (issue: no anonymous access except health and these)"


@router.get("/v1/standards", response_model=StandardList)
@public(PUBLIC_DOCUMENT)
async def list_standards(standards: StandardsDep) -> dict[str, Any]:
    """Every published standard with its versions (public)."""
    return {"items": await run_in_threadpool(standards.summaries)}


@router.post("/v1/standards", status_code=201, response_model=PublishOut,
             responses={200: {"model": PublishOut,
                              "description": "the same version with the same content was already published"},
                        403: {"description": "not the lead agency of the Back Office system"},
                        409: {"description": "the version exists with different content (immutable)"},
                        422: {"description": "invalid schema or examples, or a breaking change in a minor/patch"}})
async def publish_standard(body: PublishIn, standards: StandardsDep, principal: PrincipalDep,
                           response: Response) -> dict[str, Any]:
    """Publish a version (lead agency of its Back Office system or hub admin; compatibility gate)."""
    version = version_from_request(body)
    result = await run_in_threadpool(standards.publish, principal, version)
    if not result.created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/standards/{result.version.id}/{result.version.version}"
    return {**standards.describe(result.version), "created": result.created, "compared_with": result.compared_with,
            "changes": [c.as_dict() for c in result.changes]}


@router.get("/v1/standards/{standard_id}", response_model=StandardSummary)
@public(PUBLIC_DOCUMENT)
async def get_standard(standard_id: StandardId, standards: StandardsDep) -> dict[str, Any]:
    """A standard: its latest usable version's metadata and every version's status (public)."""
    versions = await run_in_threadpool(standards.versions, standard_id)
    if not versions:
        await run_in_threadpool(standards.get, standard_id)  # raises NotFound naming it
    return standards.summary(versions)


@router.get("/v1/standards/{standard_id}/diff", response_model=StandardDiff)
@public(PUBLIC_DOCUMENT)
async def diff_standard(
    standard_id: StandardId, standards: StandardsDep,
    from_: Annotated[str, Query(alias="from", pattern=SEMVER_PATTERN)],
    to: Annotated[str, Query(pattern=SEMVER_PATTERN)],
) -> dict[str, Any]:
    """Every change between two versions, each marked breaking or not (public)."""
    return await run_in_threadpool(standards.diff, standard_id, from_, to)


@router.get("/v1/standards/{standard_id}/{version}", response_model=StandardVersionOut)
@public(PUBLIC_DOCUMENT)
async def get_version(standard_id: StandardId, version: Version, standards: StandardsDep) -> dict[str, Any]:
    """One version: metadata, status, examples and links (public)."""
    return standards.describe(await run_in_threadpool(standards.get, standard_id, version))


@router.get("/v1/standards/{standard_id}/{version}/schema", response_class=Response, responses={200: {
    "description": "The JSON Schema (application/schema+json) or an XSD file (application/xml)",
    "content": {"application/schema+json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "string"}}}}})
@public(PUBLIC_DOCUMENT)
async def get_schema(standard_id: StandardId, version: Version, standards: StandardsDep,
                     file: Annotated[str | None, Query(description="XSD only: an imported file, e.g. ram.xsd")] = None,
                     ) -> Response:
    """The raw schema: JSON Schema, or the XSD (``?file=`` for an imported XSD file) (public)."""
    stored = await run_in_threadpool(standards.get, standard_id, version)
    if stored.is_json:
        return Response(stored.schema_text(), media_type="application/schema+json")
    name = file or XSD_MAIN
    if not is_xsd_file_name(name) or name not in (stored.xsd_files or {}):
        raise ValidationFailed(f"{stored.ref} has no schema file {name!r}",
                               errors=[FieldError("/query/file", "enum", f"one of {', '.join(stored.xsd_files or {})}")])
    return Response(stored.schema_text(name), media_type="application/xml")


@router.get("/v1/standards/{standard_id}/{version}/docs", response_class=HTMLResponse)
@public(PUBLIC_DOCUMENT)
async def get_docs(standard_id: StandardId, version: Version, standards: StandardsDep) -> HTMLResponse:
    """The version's documentation page (HTML, Thai and English) (public)."""
    return HTMLResponse(await run_in_threadpool(_render, standards, standard_id, version, "/standards/"))


@router.post("/v1/standards/{standard_id}/{version}/validate", response_model=ValidationOut)
async def validate_document(standard_id: StandardId, version: Version, request: Request, standards: StandardsDep,
                            settings: SettingsDep, principal: PrincipalDep) -> dict[str, Any]:
    """Check a document before sending it: 200 with ``valid`` and every violation.

    The body is the document itself: JSON for a JSON standard, XML text for an XML one.
    """
    raw = await read_limited_body(request, settings.max_payload_bytes)
    stored = await run_in_threadpool(standards.get, standard_id, version)
    if stored.is_json:
        try:
            document: Any = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return {"standard": stored.ref, "valid": False,
                    "errors": [{"path": "/", "rule": "json", "message": f"not valid JSON: {exc}"}]}
    else:
        document = bytes(raw)  # bytes, not text: parse_xml honours the XML declaration's encoding
    _, issues = await run_in_threadpool(standards.validate, standard_id, version, document)
    return {"standard": stored.ref, "valid": not issues, "errors": [i.as_dict() for i in issues]}


@router.post("/v1/standards/{standard_id}/{version}/deprecate", response_model=StandardVersionOut)
async def deprecate_version(standard_id: StandardId, version: Version, body: DeprecateIn, standards: StandardsDep,
                            principal: PrincipalDep) -> dict[str, Any]:
    """Deprecate a version with a sunset, after which messages declaring it are refused."""
    stored = await run_in_threadpool(
        lambda: standards.deprecate(principal, standard_id, version, body.sunset, note=body.note,
                                    replaced_by=body.replaced_by))
    return standards.describe(stored)


# ------------------------------------------------------------------ served documentation


def _render(reg: StandardsRegistry, standard_id: str, version: str, index_href: str) -> str:
    stored = reg.get(standard_id, version)
    return docs.render_version(stored, reg.catalogue, all_versions=reg.versions(standard_id), index_href=index_href,
                               past_sunset=reg.version_status(stored)["past_sunset"])


@router.get("/standards/", response_class=HTMLResponse, include_in_schema=False)
@router.get("/standards/index.html", response_class=HTMLResponse, include_in_schema=False)
@public(PUBLIC_DOCUMENT)
async def docs_index(standards: StandardsDep) -> HTMLResponse:
    """Index of the documentation pages (public)."""
    summaries = await run_in_threadpool(standards.summaries)
    return HTMLResponse(docs.render_index(summaries))


@router.get("/standards/{standard_id}/{page}", response_class=HTMLResponse, include_in_schema=False)
@public(PUBLIC_DOCUMENT)
async def docs_page(standard_id: StandardId, page: Annotated[str, Path(pattern=r"^[0-9.]+\.html$")],
                    standards: StandardsDep) -> HTMLResponse:
    """One documentation page, at the same relative path ``hub standards docs`` writes (public)."""
    version = page.removesuffix(".html")
    return HTMLResponse(await run_in_threadpool(_render, standards, standard_id, version, "../index.html"))
