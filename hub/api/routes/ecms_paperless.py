"""``/v1/ecms/paperless``: the paperless record of seed 002. The sending department (its
e-Saraban's subsystem) marks a letter as sent electronically only; the monthly report per
department counts the letters exchanged through the node and the paper avoided. A hub admin
may do both for any department; anyone else learns nothing about other departments (404)."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hub.adapters.ecms.node.paperless import PaperlessRecord
from hub.api.deps import HubDep, PrincipalDep
from hub.errors import NotFound
from hub.schemas.principal import Principal

router = APIRouter(prefix="/v1/ecms/paperless", tags=["e-CMS"])


class PaperlessIn(BaseModel):
    pages: int = Field(1, description="Sheets one paper copy of the letter (with its attachments) would take.")


def _of(hub, principal: Principal, code: str) -> None:  # noqa: ANN001
    department = hub.ecms.store.department(code)
    if not principal.is_admin and (department is None or department.party is None
                                   or not principal.acts_for(department.party)):
        raise NotFound(f"no e-CMS department {code}")  # as if unknown: its letters are its own


@router.post("/letters/{message_id}", response_model=dict)
def mark_electronic_only(message_id: str, body: PaperlessIn, hub: HubDep, principal: PrincipalDep) -> dict:
    """The sending department marks its letter as sent electronically only: no paper copy follows."""
    record = PaperlessRecord(hub.engine)
    try:
        sender = record.letter(message_id)["sender_code"]
    except NotFound:
        raise NotFound(f"no e-CMS letter {message_id}") from None
    _of(hub, principal, sender)
    return record.mark(message_id, pages=body.pages, actor=principal.subject)


@router.get("/report", response_model=dict)
def report(department: str, month: str, hub: HubDep, principal: PrincipalDep) -> dict:
    """Letters the department exchanged electronically in the month (YYYY-MM) and the paper avoided."""
    _of(hub, principal, department)
    return PaperlessRecord(hub.engine).report(department, month)
