"""The DPIS adapter: the hub's edge to an agency's DPIS-style HR database.

Features:
    - reads a person by citizen ID (any stored spelling: hyphens, Thai digits), the
      ministry -> department -> unit tree, positions, and a person's supervisors;
    - ``send`` writes a day's given check-in / check-out as attendance (``PER_TIME_ATTENDANCE``;
      a day without a check-in is refused, nothing is pre-filled) or telework days as absence
      (``PER_ABSENT``) rows with the agency's codes, once per message id, one transaction
      per message; a message of service ``hr.telework.cancel/v1`` removes the telework rows
      of the days a revocation ends, the same way;
    - ``duties(citizen_id)``: the duty lines of the person's position (optional table);
    - ``poll(sink)`` (:class:`~hub.adapters.dpis.capture.ChangeCapture`) turns changed
      ``PER_PERSONAL`` rows into ``hr.person.changed`` messages, durably with a watermark in
      the sink's state (the hub's database); ``hub adapters poll ROUTE`` polls on demand, the
      hub's workers every ``capture.poll_interval_seconds`` when it is set;
    - ``query`` (the ``query`` capability, for query services and the unified record): answers
      ``{"query": "person" | "position" | "org_unit", "citizen_id": ...}`` live from the legacy
      tables as ``{"fields": {...}, "observed_at": now}``; a citizen DPIS does not hold is
      ``{"fields": {}}``, an unreadable row a ``QueryAnswerError`` naming the column;
    - text stored as TIS-620 / windows-874 bytes, CE dates with BE years mixed in, and Thai
      digits are read correctly; a bad value is reported for its row only.

Connection string (route settings):
    {"url": "mysql+pymysql://dpis@db.agency.go.th/dpis", "telework_as": "attendance",
     "ta_code_in": "W1", "ta_code_out": "W2", "ab_code": "91",
     "capture": {"sender": "TH/GOV/OCSC/dpis", "receiver": "TH/GOV/OCSC/telework"}}
    MariaDB/MySQL needs the ``mysql`` extra (PyMySQL); SQLite needs nothing.
"""
from __future__ import annotations

import codecs
import threading
from collections.abc import Iterator
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

from hub.adapters.base import (
    QUERY, RECEIVE, SEND, Adapter, Health, InboundSink, InboundState, OutboundMessage, PollReport, QueryAnswer,
    QueryAnswerError, QueryRequest, Receipt,
)
from hub.adapters.dpis.capture import PERSON_CHANGED_SERVICE, CaptureTarget, ChangeCapture, Publish
from hub.adapters.dpis.legacy import Decoder, LegacyRowError
from hub.adapters.dpis.models import OrgNode, Person, Position, Supervisor, TeleworkCancel, TeleworkDays
from hub.adapters.dpis.reader import DpisReader
from hub.adapters.dpis.schema import hub_message_log, per_personal
from hub.adapters.dpis.writer import TeleworkWriter, WriteCodes, WriteResult
from hub.clock import utcnow
from hub.errors import ConfigError, DeliveryError, NotFound
from hub.schemas.envelope import PARTY_PATTERN, SERVICE_PATTERN

CANCEL_SERVICE = "hr.telework.cancel/v1"


class CaptureSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sender: str = Field(pattern=PARTY_PATTERN, description="Party the changes come from (the DPIS system).")
    receiver: str = Field(pattern=PARTY_PATTERN, description="Party hr.person.changed messages go to.")
    service: str = Field(PERSON_CHANGED_SERVICE, pattern=SERVICE_PATTERN)
    overlap_seconds: float = Field(300.0, ge=0, le=86400,
                                   description="Re-read window behind the watermark (late commits, same-second changes).")
    start_at: Literal["now", "beginning"] = Field(
        "now", description="First start: 'now' publishes only later changes; 'beginning' publishes every row.")
    page_size: int = Field(500, ge=1, le=10000)
    poll_interval_seconds: float | None = Field(
        None, gt=0, le=86400, description="Capture on this interval in the hub's workers; unset: only when "
                                          "`hub adapters poll ROUTE` is run.")


class DpisSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, description="SQLAlchemy URL of the DPIS database.")
    encoding: str = Field("cp874", description="Encoding of legacy text columns (cp874 = windows-874 / TIS-620).")
    telework_as: Literal["attendance", "absence"] = Field(
        "attendance", description="Write telework days as PER_TIME_ATTENDANCE or PER_ABSENT rows.")
    ta_code_in: str = Field("W1", pattern=r"^[0-9A-Z]{1,4}$", description="TA_CODE of a telework check-in.")
    ta_code_out: str = Field("W2", pattern=r"^[0-9A-Z]{1,4}$", description="TA_CODE of a telework check-out.")
    ab_code: str = Field("91", pattern=r"^[0-9]{1,3}$", description="AB_CODE of a telework day in PER_ABSENT.")
    reason: str = Field("ปฏิบัติงานนอกสถานที่", max_length=200, description="ABS_REASON of telework absences.")
    update_user: str = Field("HUB", max_length=30)
    create_side_table: bool = Field(True, description="Create HUB_MESSAGE_LOG (idempotency marker) if missing.")
    capture: CaptureSettings | None = Field(None, description="Change capture of PER_PERSONAL, if wanted.")
    pool_size: int = Field(5, ge=1, le=100)

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}; DPIS installations use cp874 or tis-620") from None
        return value

    @field_validator("reason")
    @classmethod
    def _storable(cls, value: str, info: Any) -> str:
        encoding = info.data.get("encoding", "cp874")
        try:
            value.encode(encoding)
        except UnicodeEncodeError as exc:
            raise ValueError(f"{value[exc.start:exc.end]!r} cannot be stored in {encoding}") from None
        return value


class DpisAdapter(Adapter):
    scheme = "dpis"
    capabilities = frozenset({SEND, RECEIVE, QUERY})
    Settings = DpisSettings
    summary = "DPIS-style HR database: read people and org tree, write telework days, capture person changes."

    def __init__(self, settings: DpisSettings) -> None:
        super().__init__(settings)
        self.decoder = Decoder(settings.encoding)
        self.reader = DpisReader(self.decoder)
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._side_table_ready = False

    # -- connection -----------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """Created on first use: building the adapter never connects."""
        with self._lock:
            if self._engine is None:
                from hub.db import make_engine

                try:
                    self._engine = make_engine(self.settings.url, pool_size=self.settings.pool_size)
                except (NoSuchModuleError, ImportError) as exc:
                    raise ConfigError(
                        f"cannot open DPIS database {_safe_url(self.settings.url)}: {exc}. For MariaDB/MySQL "
                        "install the driver: pip install 'backoffice-hub[mysql]'"
                    ) from exc
            return self._engine

    def _ensure_side_table(self) -> None:
        if self._side_table_ready:
            return
        if self.settings.create_side_table:
            hub_message_log.create(self.engine, checkfirst=True)
        elif not inspect(self.engine).has_table(hub_message_log.name):
            raise DeliveryError(
                "DPIS has no HUB_MESSAGE_LOG table and create_side_table is false; create it "
                "(see hub/adapters/dpis/schema.py) so writes can be applied once", permanent=True)
        self._side_table_ready = True

    # -- reading (what central applications call) ------------------------------------------

    def person(self, citizen_id: str) -> Person:
        """The person with this citizen ID, with position and org chain. ``NotFound`` if absent;
        :class:`LegacyRowError` if their row holds an unreadable value."""
        with self.engine.connect() as conn:
            return self.reader.person(conn, citizen_id)

    def supervisors(self, citizen_id: str) -> list[Supervisor]:
        """Heads above the person, nearest (first-line) first."""
        with self.engine.connect() as conn:
            return self.reader.supervisors(conn, citizen_id)

    def org_chain(self, citizen_id: str) -> list[tuple[Any, Person | None, str | None]]:
        """(unit, head or None if vacant, head's management title) from the person's unit up."""
        with self.engine.connect() as conn:
            return self.reader.org_chain_with_heads(conn, citizen_id)

    def duties(self, citizen_id: str) -> list[str]:
        """The duty lines of the person's position ([] when DPIS records none)."""
        with self.engine.connect() as conn:
            person = self.reader.person(conn, citizen_id, expand=False)
            return self.reader.duties(conn, person.pos_id) if person.pos_id else []

    def org_tree(self, root_id: int | None = None) -> list[OrgNode]:
        with self.engine.connect() as conn:
            return self.reader.org_tree(conn, root_id)

    def positions(self, org_id: int | None = None) -> list[Position]:
        with self.engine.connect() as conn:
            return self.reader.positions(conn, org_id)

    # -- queries (query services, the unified record) --------------------------------------

    QUERIES = ("person", "position", "org_unit")

    def query(self, request: QueryRequest) -> QueryAnswer:
        kind, citizen_id = request.body.get("query"), request.body.get("citizen_id")
        if kind not in self.QUERIES or not isinstance(citizen_id, str):
            raise QueryAnswerError(f"DPIS answers {{'query': one of {list(self.QUERIES)}, 'citizen_id': ...}}; "
                                   f"got query={kind!r}")
        observed = utcnow().isoformat()
        try:
            person = self.person(citizen_id)
        except NotFound:
            return QueryAnswer({"fields": {}, "observed_at": observed}, observed)
        except LegacyRowError as exc:
            raise QueryAnswerError(f"DPIS holds an unreadable value: {exc}") from exc
        except SQLAlchemyError as exc:
            raise QueryAnswerError(f"DPIS database error: {_first_error(exc)}") from exc
        return QueryAnswer({"fields": query_fields(kind, person), "observed_at": observed}, observed)

    # -- writing --------------------------------------------------------------------------

    def write_telework(self, message_id: str, days: TeleworkDays | dict[str, Any]) -> WriteResult:
        """Write telework days once for ``message_id`` (a second call is a no-op)."""
        if not isinstance(days, TeleworkDays):
            days = TeleworkDays.model_validate(days)
        if self.settings.telework_as == "attendance":
            # Attendance is evidence that a day was worked (Leave Regulation B.E. 2555 cl. 11):
            # only a check-in the person gave becomes a PER_TIME_ATTENDANCE row, never a default.
            bare = [d.date.isoformat() for d in days.days if d.check_in is None]
            if bare:
                raise DeliveryError(
                    f"no check-in given for {', '.join(bare)}: PER_TIME_ATTENDANCE holds only times actually "
                    "recorded (send a th.telework.time-evidence, or use telework_as 'absence' for a day record)",
                    permanent=True)
        self._ensure_side_table()
        return self._writer().write(message_id, days)

    def cancel_telework(self, message_id: str, cancel: TeleworkCancel | dict[str, Any]) -> WriteResult:
        """Remove the telework rows of the given days once for ``message_id`` (one transaction)."""
        if not isinstance(cancel, TeleworkCancel):
            cancel = TeleworkCancel.model_validate(cancel)
        self._ensure_side_table()
        return self._writer().cancel(message_id, cancel)

    def _writer(self) -> TeleworkWriter:
        s = self.settings
        codes = WriteCodes(s.telework_as, s.ta_code_in, s.ta_code_out, s.ab_code, s.reason, s.update_user)
        return TeleworkWriter(self.engine, self.reader, self.decoder, codes)

    def send(self, message: OutboundMessage) -> Receipt:
        cancelling = message.meta.service == CANCEL_SERVICE
        model = TeleworkCancel if cancelling else TeleworkDays
        try:
            parsed = model.model_validate(orjson.loads(message.payload))
        except (ValidationError, orjson.JSONDecodeError) as exc:
            what = "telework days to cancel" if cancelling else "telework days"
            raise DeliveryError(f"payload is not {what} for DPIS: {_first_error(exc)}", permanent=True) from exc
        try:
            if cancelling:
                result = self.cancel_telework(message.id, parsed)
            else:
                result = self.write_telework(message.id, parsed)
        except NotFound as exc:
            raise DeliveryError(exc.message, permanent=True) from exc
        except LegacyRowError as exc:
            raise DeliveryError(str(exc), permanent=True, legacy_error=exc.as_dict()) from exc
        except (DBAPIError, SQLAlchemyError) as exc:
            # Connection loss, lock wait timeout, deadlock: the transaction rolled back; retry.
            raise DeliveryError(f"DPIS database error: {type(exc).__name__}: {str(exc)[:300]}") from exc
        what = "already applied" if result.duplicate else "applied"
        verb = "removed" if cancelling else "written"
        return Receipt(f"DPIS {what}: {result.rows_written} {self.settings.telework_as} row(s) {verb} for "
                       f"PER_ID {result.per_id}", {"per_id": result.per_id, "rows": result.rows_written,
                                                    "duplicate": result.duplicate})

    # -- change capture -------------------------------------------------------------------

    def person_rows(self, where: Any, page_size: int) -> Iterator[tuple[int, object, dict[str, Any] | LegacyRowError]]:
        """(PER_ID, raw UPDATE_DATE, th.hr.person document or the row's error), by PER_ID."""
        after = None
        while True:
            query = select(per_personal).order_by(per_personal.c.PER_ID).limit(page_size)
            if where is not None:
                query = query.where(where)
            if after is not None:
                query = query.where(per_personal.c.PER_ID > after)
            with self.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
            for row in rows:
                try:
                    outcome: dict[str, Any] | LegacyRowError = self.reader.person_from_row(row).to_standard()
                except LegacyRowError as exc:
                    outcome = exc
                yield row["PER_ID"], row["UPDATE_DATE"], outcome
            if len(rows) < page_size:
                return
            after = rows[-1]["PER_ID"]

    def change_capture(self, state: InboundState, publish: Publish) -> ChangeCapture:
        """The capture engine over ``state`` (its watermark and row versions), publishing with
        ``publish``; ``poll`` runs it with the inbound sink's."""
        c = self._capture_settings()
        target = CaptureTarget(c.sender, c.receiver, c.service, c.overlap_seconds, c.start_at, c.page_size)
        return ChangeCapture(self, state, publish, target)

    def poll(self, sink: InboundSink) -> PollReport:
        """One change capture pass. The state is named after the capture's sender (the DPIS
        system), so its watermark outlives the route and is shared by routes of one source."""
        report = self.change_capture(sink.state(self._capture_settings().sender), sink.accept).poll()
        summary = (f"DPIS: {len(report.published)} published, {report.republished} already known, "
                   f"{len(report.errors)} bad row(s); watermark {report.watermark}")
        return PollReport(summary, accepted=report.published, known=report.known, refused=report.errors,
                          detail=report)

    def poll_interval(self) -> float | None:
        return self.settings.capture.poll_interval_seconds if self.settings.capture else None

    def _capture_settings(self) -> CaptureSettings:
        if self.settings.capture is None:
            raise ConfigError("this DPIS route has no 'capture' settings (sender, receiver)")
        return self.settings.capture

    # -- contract -------------------------------------------------------------------------

    def check(self) -> Health:
        try:
            with self.engine.connect() as conn:
                people = conn.execute(select(func.count()).select_from(per_personal)).scalar_one()
                side = inspect(conn).has_table(hub_message_log.name)
        except (SQLAlchemyError, ConfigError) as exc:
            return Health(False, f"DPIS at {_safe_url(self.settings.url)} not usable: {type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0][:200]}")
        marker = "present" if side else "missing (created on first write)" if self.settings.create_side_table \
            else "MISSING"
        return Health(side or self.settings.create_side_table,
                      f"DPIS at {_safe_url(self.settings.url)}: {people} PER_PERSONAL rows; HUB_MESSAGE_LOG {marker}")

    def close(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()


def query_fields(kind: str, person: Person) -> dict[str, Any]:
    """The fields of one DPIS query, in the unified record's names (``th.integration.record``)."""
    if kind == "person":
        found = {"first_name_th": person.per_name, "last_name_th": person.per_surname,
                 "email": person.per_email, "start_date": person.per_startdate.isoformat() if person.per_startdate else None,
                 "level": person.level_no,
                 "employment_status": "active" if person.per_status == 1 else "inactive"}
    elif kind == "position":
        pos = person.position
        found = {"position_no": pos.pos_no if pos else None, "position_code": pos.pl_code if pos else None,
                 "position_name": pos.pl_name if pos else None,
                 "management_position": pos.pm_name if pos else None, "level": person.level_no}
    else:
        chain = person.organization
        found = {"org_unit_id": chain[0].org_id if chain else person.org_id,
                 "org_unit_name": chain[0].org_name if chain else None,
                 "org_chain": [o.org_name for o in chain] or None}
    return {k: v for k, v in found.items() if v is not None}


def _safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as "(invalid URL)" rather than echoed
        return "(invalid URL)"


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']} (rule {err['type']})"
    return str(exc)
