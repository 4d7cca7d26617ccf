"""One-stop applications: one submission, one message per responsible agency, one tracking id.

The application type (a published standard with ``application`` in its meta) names the
parts, each with its agency and the fields that agency receives. Submitting validates the
whole document against the standard, then accepts one hub message per part (id: UUIDv5 of
the tracking id and the part, so submitting the same tracking id again creates nothing
twice; correlation id: the tracking id). Each part is then an ordinary delivery.

An agency answers its part as the receiver's outcome on that message (``completed`` with an
answer, or ``rejected`` with a reason) — through ``POST /v1/applications/{id}/parts/{part}/answer``
or any adapter's inbound side (``InboundSink.record_outcome``). The application's status is
read from its parts' messages: nothing about delivery is kept twice.
"""
from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from hub.clock import as_utc, utcnow
from hub.errors import FieldError, Forbidden, NotFound, ValidationFailed
from hub.integration.catalogue import ApplicationType, Catalogue
from hub.integration.tables import application_parts, applications
from hub.schemas.envelope import PARTY_PATTERN, Envelope, sha256_hex
from hub.schemas.principal import Principal
from hub.security.authz import AccessControl
from hub.standards.registry import StandardsRegistry
from hub.standards.validation import field_errors
from hub.transport.messages import DEAD, DELIVERED, MessageService
from hub.transport.outcomes import OUTCOME_EVENT, record_receiver_outcome
from hub.transport.routing import Router
from hub.adapters.base import COMPLETED, PARTLY_REJECTED, REJECTED

PART_NS = uuid.UUID("0a7d3c52-9d1e-4b8e-8f21-3c6b5e4a2f10")
# A part's status as the applicant sees it, from its message's transport status.
PENDING, AWAITING_ANSWER, PART_COMPLETED, REFUSED, FAILED = "pending", "awaiting_answer", "completed", "refused", \
    "failed"
IN_PROGRESS, APP_COMPLETED, COMPLETED_WITH_REFUSALS = "in_progress", "completed", "completed_with_refusals"
ANSWER_KEY = "application-answer"


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(None, description="Tracking id (idempotency key); assigned when absent.")
    application_type: str = Field(min_length=1, max_length=200, description="e.g. th.oss.change-of-address")
    applicant: str = Field(pattern=PARTY_PATTERN, description="The e-service subsystem submitting.")
    user_id: str | None = Field(None, description="13-digit citizen ID of the person applying.")
    data: dict[str, Any] = Field(description="The application, valid against the application type's standard.")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern="^(completed|rejected)$", description="completed, or rejected (with a reason).")
    answer: dict[str, Any] = Field(default_factory=dict, description="What the agency answers (its reference...).")
    reason: str | None = Field(None, min_length=1, max_length=2000, description="Why the part was refused.")


def part_message_id(tracking_id: str, part: str) -> str:
    return str(uuid.uuid5(PART_NS, f"{tracking_id}/{part}"))


class ApplicationService:
    def __init__(self, engine: Engine, messages: MessageService, catalogue: Catalogue,
                 standards: StandardsRegistry, access: AccessControl, router: Router) -> None:
        self._engine = engine
        self._router = router
        self._messages = messages
        self._catalogue = catalogue
        self._standards = standards
        self._access = access

    def submit(self, principal: Principal, body: ApplicationIn) -> dict[str, Any]:
        app_type = self._catalogue.application_type(body.application_type)
        _, issues = self._standards.validate(app_type.standard_id, app_type.version, body.data)
        if issues:
            raise ValidationFailed(f"the application does not follow {app_type.standard_ref}",
                                   errors=field_errors(issues, at="/data"))
        tracking = str(body.id or uuid.uuid4())
        envelopes = [(part.name, part.agency, self._part_envelope(app_type, tracking, part.name, part.agency,
                                                                 part.fields, body)) for part in app_type.parts]
        # Every part is authorised and routable before any is stored: a refusal leaves nothing behind.
        grants = [self._access.authorize_submit(principal, env, record_grant=False) for _, _, env in envelopes]
        for _, agency, env in envelopes:
            self._router.resolve(agency, env.service)
        for (_, _, env), grant in zip(envelopes, grants, strict=True):
            self._messages.accept(env, audit=grant)
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(applications).values(
                    id=tracking, application_type=app_type.standard_ref, applicant=body.applicant,
                    submitted_by=principal.subject, submitted_at=utcnow(),
                    payload_sha256=sha256_hex(body.model_dump_json(include={"data"}).encode())))
                conn.execute(insert(application_parts), [
                    {"application_id": tracking, "part": name, "agency": agency, "message_id": str(env.id)}
                    for name, agency, env in envelopes])
        except IntegrityError:
            # The same tracking id submitted again (the parts' messages were absorbed by the
            # idempotent accept): the first submission stands.
            if self._row(tracking) is None:
                raise
        return self.status(principal, tracking)

    @staticmethod
    def _part_envelope(app_type: ApplicationType, tracking: str, part: str, agency: str, fields: tuple[str, ...],
                       body: ApplicationIn) -> Envelope:
        return Envelope(
            id=uuid.UUID(part_message_id(tracking, part)), sender=body.applicant, receiver=agency,
            service=app_type.service, correlation_id=tracking, classification=app_type.classification,
            user_id=body.user_id,
            payload={"tracking_id": tracking, "application_type": app_type.standard_ref, "part": part,
                     "data": {k: body.data[k] for k in fields if k in body.data}})

    def _row(self, tracking: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(select(applications).where(applications.c.id == tracking)).first()

    def _parts(self, tracking: str) -> list[Any]:
        with self._engine.connect() as conn:
            return conn.execute(select(application_parts).where(application_parts.c.application_id == tracking)
                                .order_by(application_parts.c.part)).all()

    def _visible(self, principal: Principal, tracking: str) -> tuple[Any, list[Any]]:
        row = self._row(tracking)
        parts = self._parts(tracking) if row is not None else []
        if row is None or not (principal.acts_for(row.applicant) or any(principal.acts_for(p.agency) for p in parts)):
            raise NotFound(f"no application {tracking}")
        return row, parts

    def status(self, principal: Principal, tracking: str) -> dict[str, Any]:
        row, parts = self._visible(principal, tracking)
        shown = [self._part_status(p) for p in parts]
        states = {p["status"] for p in shown}
        if states <= {PART_COMPLETED}:
            overall = APP_COMPLETED
        elif states <= {PART_COMPLETED, REFUSED, FAILED}:
            overall = COMPLETED_WITH_REFUSALS
        else:
            overall = IN_PROGRESS
        return {"id": row.id, "application_type": row.application_type, "applicant": row.applicant,
                "submitted_at": as_utc(row.submitted_at).isoformat(), "status": overall,
                "complete": overall != IN_PROGRESS, "parts": shown}

    def _part_status(self, part: Any) -> dict[str, Any]:
        meta = self._messages.get_meta(part.message_id)
        answers = [h for h in self._messages.history(part.message_id) if h["kind"] == OUTCOME_EVENT]
        answer = answers[-1]["detail"] if answers else None
        if meta.status == COMPLETED:
            status = PART_COMPLETED
        elif meta.status in (REJECTED, PARTLY_REJECTED):
            status = REFUSED
        elif meta.status == DEAD:
            status = FAILED
        elif meta.status == DELIVERED:
            status = AWAITING_ANSWER
        else:
            status = PENDING
        return {"part": part.part, "agency": part.agency, "message_id": part.message_id, "status": status,
                "transport_status": meta.status, "answer": (answer or {}).get("answer"),
                "reason": meta.last_error if status in (REFUSED, FAILED) else None}

    def answer(self, principal: Principal, tracking: str, part_name: str, body: AnswerIn) -> dict[str, Any]:
        row, parts = self._visible(principal, tracking)
        part = next((p for p in parts if p.part == part_name), None)
        if part is None:
            raise NotFound(f"application {tracking} has no part {part_name!r}")
        if not principal.acts_for(part.agency):
            raise Forbidden(f"only {part.agency} answers part {part_name!r}")
        if body.status == REJECTED and not body.reason:
            raise ValidationFailed("a refusal needs its reason",
                                   errors=[FieldError("/reason", "required", "why the part was refused")])
        record_receiver_outcome(self._engine, part.message_id, key=ANSWER_KEY, status=body.status,
                                detail={"answer": body.answer, "reason": body.reason, "by": principal.subject},
                                error=body.reason if body.status == REJECTED else None)
        return self.status(principal, tracking)

    def list(self, principal: Principal, *, limit: int = 100) -> list[dict[str, Any]]:
        query = select(applications).order_by(applications.c.submitted_at.desc()).limit(limit * 5)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            try:
                out.append(self.status(principal, row.id))
            except NotFound:
                continue  # not this principal's application
            if len(out) >= limit:
                break
        return out
