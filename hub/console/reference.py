"""Console pages that read and account: the standards catalogue (versions, diff, docs,
deprecations), the audit trail (verify, export a signed bundle) and the telework overview per
agency. They call the services the API calls (``StandardsRegistry``, ``AuditLog``, the
telework service and store); deprecating is for admins, the audit pages for admins and
auditors, the telework figures for hub staff and each agency's own operators.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from hub.console.kit import Kit
from hub.errors import HubError
from hub.schemas.principal import ADMIN, AUDITOR, OPERATOR

READERS = (ADMIN, AUDITOR, OPERATOR)


def register(console: FastAPI, kit: Kit) -> None:  # noqa: C901 - one function per page, registered here
    # -- standards ---------------------------------------------------------------------------
    @console.get("/standards")
    async def standards_page(request: Request) -> HTMLResponse:
        principal, token = kit.signed_in(request, *READERS)
        standards = kit.get_hub().standards
        summaries = standards.summaries() if standards else []
        deprecations = [(s["id"], v) for s in summaries for v in s["versions"] if v["status"] == "deprecated"]
        return kit.page(request, "standards.html", principal=principal, token=token, summaries=summaries,
                        deprecations=deprecations)

    @console.get("/standards/{standard_id}")
    async def standard_page(request: Request, standard_id: str) -> HTMLResponse:
        principal, token = kit.signed_in(request, *READERS)
        standards = kit.get_hub().standards
        q = request.query_params
        versions = standards.versions(standard_id) if standards else []
        if not versions:
            return kit.page(request, "error.html", principal=principal, token=token, message_key="not_found",
                            status=404)
        summary = standards.summary(versions)
        numbers = [v["version"] for v in summary["versions"]]
        diff, error = None, q.get("error")
        if q.get("from") and q.get("to"):
            try:
                diff = standards.diff(standard_id, q["from"], q["to"])
            except HubError as exc:
                error = exc.message
        return kit.page(request, "standard.html", principal=principal, token=token, s=summary, numbers=numbers,
                        diff=diff, error=error, done=q.get("done"), pick_from=q.get("from") or numbers[0],
                        pick_to=q.get("to") or numbers[-1])

    @console.post("/standards/{standard_id}/deprecate")
    async def deprecate(request: Request, standard_id: str) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        form = await kit.checked_form(request, token)
        version = str(form.get("version", ""))
        try:
            sunset = dt.date.fromisoformat(str(form.get("sunset", "")))
        except ValueError:
            return kit.back(f"/standards/{standard_id}", error="/sunset: a date, YYYY-MM-DD")
        try:  # the registry decides who may, and audits it
            kit.get_hub().standards.deprecate(principal, standard_id, version, sunset,
                                              note=str(form.get("note", "")).strip() or None,
                                              replaced_by=str(form.get("replaced_by", "")).strip() or None)
        except HubError as exc:
            return kit.back(f"/standards/{standard_id}", error=exc.message)
        kit.audit("console.standard_deprecated", principal, target=f"{standard_id}@{version}",
                  sunset=sunset.isoformat())
        return kit.back(f"/standards/{standard_id}", done=version)

    # -- audit -------------------------------------------------------------------------------
    @console.get("/audit")
    async def audit_page(request: Request) -> HTMLResponse:
        principal, token = kit.signed_in(request, ADMIN, AUDITOR)
        audit = kit.get_hub().security.audit
        q = request.query_params
        report = audit.verify() if q.get("verify") else None
        if report is not None:
            kit.audit("console.audit_verified", principal, ok=report.ok, entries=report.entries)
        entries = audit.entries(kind=q.get("kind") or None, target=q.get("target") or None, limit=10000)[-200:]
        return kit.page(request, "audit.html", principal=principal, token=token, report=report,
                        entries=list(reversed(entries)), kind=q.get("kind") or "", target=q.get("target") or "",
                        error=q.get("error"))

    @console.post("/audit/export")
    async def audit_export(request: Request) -> Response:
        """The signed bundle (verifiable offline with the hub's public key), as a download."""
        principal, token = kit.signed_in(request, ADMIN, AUDITOR)
        form = await kit.checked_form(request, token)
        since = None
        if form.get("since"):
            try:
                since = dt.datetime.fromisoformat(str(form["since"]))
            except ValueError:
                return kit.back("/audit", error="/since: an ISO date or time")
        audit = kit.get_hub().security.audit
        bundle = audit.export(since)
        audit.record("audit.exported", actor=principal.subject, entries=len(bundle["entries"]),
                     since=bundle["since"], channel="console")
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return Response(json.dumps(bundle, ensure_ascii=False, indent=1), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="audit-bundle-{stamp}.json"'})

    # -- telework ----------------------------------------------------------------------------
    @console.get("/telework")
    async def telework_page(request: Request) -> HTMLResponse:
        principal, token = kit.signed_in(request, *READERS)
        hub = kit.get_hub()
        try:
            app = hub.telework.get()
        except HubError:
            return kit.page(request, "telework.html", principal=principal, token=token, rows=[], configured=False)
        agencies = [a for a in app.ports.store.list_agencies() if _may_see(principal, a.agency)]
        rows = [_agency_figures(hub, app, a) for a in agencies]
        top_orders = max((r["orders"] for r in rows), default=0) or 1
        for r in rows:
            r["orders_width"] = round(300 * r["orders"] / top_orders)
            r["coverage_width"] = round(3 * r["coverage"]) if r["coverage"] is not None else 0
        return kit.page(request, "telework.html", principal=principal, token=token, rows=rows, configured=True)


def _may_see(principal: Any, agency: str) -> bool:
    return bool(principal.is_admin or AUDITOR in principal.roles or principal.acts_for(agency))


def _agency_figures(hub: Any, app: Any, setup: Any) -> dict[str, Any]:
    """An agency's orders, evidence coverage (complete days of all ordered days so far),
    overdue progress reports and its latest savings report; computed, nothing sent."""
    from hub.apps.telework.domain.reporting import money, total_saved
    from hub.apps.telework.tables import telework_reports

    service, store = app.service, app.ports.store
    as_of = service.now().date()
    cases = store.list_cases(setup.agency)
    ordered = [c for c in cases if c.order is not None]
    by_status: dict[str, int] = {}
    for case in cases:
        by_status[case.status] = by_status.get(case.status, 0) + 1
    days: dict[str, int] = {}
    overdue = 0
    for case in ordered:
        for key, n in service.evidence_status(case.case_id, as_of)["summary"].items():
            days[key] = days.get(key, 0) + n
        if case.agreement:
            overdue += sum(1 for row in service.progress_schedule(case, store.list_evidence(case.case_id), as_of)
                           if row["status"] == "overdue")
    counted = sum(days.values())
    with hub.engine.connect() as conn:
        latest = conn.execute(select(telework_reports.c.document, telework_reports.c.fiscal_year)
                              .where(telework_reports.c.agency == setup.agency, telework_reports.c.kind == "savings")
                              .order_by(telework_reports.c.created_at.desc()).limit(1)).first()
    saved = None
    if latest is not None:
        try:
            saved = {"fiscal_year": latest.fiscal_year, "total": money(total_saved(latest.document))}
        except (KeyError, TypeError, ArithmeticError):
            saved = {"fiscal_year": latest.fiscal_year, "total": "?"}
    return {"agency": setup.agency, "name": setup.name, "cases": len(cases), "orders": len(ordered),
            "by_status": by_status, "days": days,
            "coverage": round(100 * days.get("complete", 0) / counted, 1) if counted else None,
            "overdue": overdue, "saved": saved, "as_of": as_of}

