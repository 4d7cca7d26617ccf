"""What the DPIS adapter hands out and takes in: clean, UTF-8, CE-dated values.

``Person.to_standard()`` is a ``th.hr.person@1.0.0`` document; ``TeleworkDays`` is the payload
the adapter's ``send`` accepts (three spellings, see its docstring).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.thai import CitizenId, ThaiDate


class OrgUnit(BaseModel):
    org_id: int
    org_id_ref: int | None
    ol_code: str
    org_name: str
    org_code: str | None = None

    def to_standard(self) -> dict[str, Any]:
        return {"org_id": self.org_id, "org_id_ref": self.org_id_ref, "ol_code": self.ol_code,
                "org_name": self.org_name}


class OrgNode(OrgUnit):
    children: list[OrgNode] = Field(default_factory=list)


class Position(BaseModel):
    pos_id: int
    pos_no: str
    pl_code: str | None = None
    pl_name: str | None = None
    pm_code: str | None = None
    pm_name: str | None = None
    org_id: int
    holder_per_id: int | None = None

    def to_standard(self) -> dict[str, Any]:
        data: dict[str, Any] = {"pos_id": self.pos_id, "pos_no": self.pos_no, "org_id": self.org_id}
        if self.pl_code:
            data["pl_code"] = self.pl_code
        return data


class Person(BaseModel):
    per_id: int
    per_type: int
    pn_code: str | None = None
    per_name: str
    per_surname: str
    per_cardno: str
    org_id: int
    pos_id: int | None = None
    level_no: str | None = None
    per_startdate: dt.date | None = None
    per_status: int
    per_email: str | None = None
    position: Position | None = None
    organization: list[OrgUnit] = Field(default_factory=list)

    def to_standard(self) -> dict[str, Any]:
        """A ``th.hr.person@1.0.0`` document (optional members only when known)."""
        data: dict[str, Any] = {
            "per_id": self.per_id, "per_type": self.per_type, "per_name": self.per_name,
            "per_surname": self.per_surname, "per_cardno": self.per_cardno, "org_id": self.org_id,
            "per_status": self.per_status,
        }
        optional = {"pn_code": self.pn_code, "pos_id": self.pos_id, "level_no": self.level_no,
                    "per_email": self.per_email,
                    "per_startdate": self.per_startdate.isoformat() if self.per_startdate else None}
        data.update({k: v for k, v in optional.items() if v is not None})
        if self.position is not None:
            data["position"] = self.position.to_standard()
        if self.organization:
            data["organization"] = [o.to_standard() for o in self.organization]
        return data


class Supervisor(BaseModel):
    """A head above the person: ``first_line`` is the nearest one."""

    person: Person
    org: OrgUnit
    management_position: str
    relation: Literal["first_line", "higher"]


class TeleworkDay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: ThaiDate
    period: Literal[1, 2, 3] = Field(3, description="1 morning, 2 afternoon, 3 whole day (DPIS ABS_*PERIOD)")
    check_in: dt.time | None = None
    check_out: dt.time | None = None


class TeleworkDays(BaseModel):
    """Telework days of one official, to be written into DPIS.

    Accepted spellings of the payload:

    * ``{"citizen_id": "...", "days": [{"date": "2026-11-23", "period": 3}, ...]}``;
    * the short form of the README: ``{"citizen_id": "...", "date": "2026-11-23", "kind": "telework"}``
      (``dates`` for several days);
    * a ``th.telework.time-evidence`` document (``person_citizen_id``, ``work_date``,
      ``check_in.at``, ``check_out.at``): check-in / check-out become attendance times.
    """

    model_config = ConfigDict(extra="forbid")

    citizen_id: CitizenId
    kind: Literal["telework"] = "telework"
    days: list[TeleworkDay] = Field(min_length=1, max_length=366)

    @model_validator(mode="before")
    @classmethod
    def _spellings(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "person_citizen_id" in data and "work_date" in data:  # th.telework.time-evidence
            day: dict[str, Any] = {"date": data["work_date"]}
            for edge in ("check_in", "check_out"):
                at = (data.get(edge) or {}).get("at")
                if at:
                    # Attendance is local (Asia/Bangkok) wall-clock time, as DPIS stores it.
                    stamp = dt.datetime.fromisoformat(at)
                    if stamp.tzinfo is not None:
                        stamp = stamp.astimezone(dt.timezone(dt.timedelta(hours=7)))
                    day[edge] = stamp.time().replace(microsecond=0)
            return {"citizen_id": data["person_citizen_id"], "days": [day]}
        if "days" not in data and ("date" in data or "dates" in data):
            rest = {k: v for k, v in data.items() if k not in ("date", "dates")}
            dates = [data["date"]] if "date" in data else list(data["dates"] or [])
            return {**rest, "days": [{"date": d} for d in dates]}
        return data


class TeleworkCancel(BaseModel):
    """Telework days a revocation ends (service ``hr.telework.cancel/v1``): their rows are
    removed from DPIS. ``{"citizen_id": "...", "dates": ["2026-11-09", ...], "revocation_ref": "..."}``."""

    model_config = ConfigDict(extra="forbid")

    citizen_id: CitizenId
    kind: Literal["telework"] = "telework"
    dates: list[ThaiDate] = Field(min_length=1, max_length=366)
    revocation_ref: str | None = Field(None, max_length=100, description="Book number of the revocation letter.")
    order_ref: str | None = Field(None, max_length=100, description="Book number of the order being cut short.")
