"""Reading people, the org tree, positions and supervisors from a DPIS-style database."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, inspect, select

from hub.adapters.dpis.legacy import Decoder, LegacyRowError, citizen_id_variants
from hub.adapters.dpis.models import OrgNode, OrgUnit, Person, Position, Supervisor
from hub.adapters.dpis.schema import per_acting, per_mgt, per_org, per_personal, per_position, per_position_duty
from hub.errors import FieldError, NotFound
from hub.thai import ThaiValueError

log = logging.getLogger(__name__)

IN_SERVICE = 1
MAX_ORG_DEPTH = 10  # a ministry -> department -> unit chain is 3; more means a cycle in ORG_ID_REF


class DpisReader:
    def __init__(self, decoder: Decoder) -> None:
        self.decode = decoder

    # -- rows to models -------------------------------------------------------------------

    def person_from_row(self, row: Mapping[str, Any]) -> Person:
        """Raises :class:`LegacyRowError` naming the column when the row holds a bad value."""
        key = row["PER_ID"]
        d = self.decode
        return Person(
            per_id=key,
            per_type=row["PER_TYPE"],
            pn_code=d.code(row["PN_CODE"], table="PER_PERSONAL", key=key, column="PN_CODE"),
            per_name=d.required_text(row["PER_NAME"], table="PER_PERSONAL", key=key, column="PER_NAME"),
            per_surname=d.required_text(row["PER_SURNAME"], table="PER_PERSONAL", key=key, column="PER_SURNAME"),
            per_cardno=d.citizen_id(row["PER_CARDNO"], table="PER_PERSONAL", key=key, column="PER_CARDNO"),
            org_id=row["ORG_ID"],
            pos_id=row["POS_ID"],
            level_no=d.code(row["LEVEL_NO"], table="PER_PERSONAL", key=key, column="LEVEL_NO"),
            per_startdate=d.date(row["PER_STARTDATE"], table="PER_PERSONAL", key=key, column="PER_STARTDATE"),
            per_status=row["PER_STATUS"],
            per_email=(row["PER_EMAIL"] or None),
        )

    def org_from_row(self, row: Mapping[str, Any]) -> OrgUnit:
        key = row["ORG_ID"]
        return OrgUnit(
            org_id=key,
            org_id_ref=row["ORG_ID_REF"],
            ol_code=self.decode.code(row["OL_CODE"], table="PER_ORG", key=key, column="OL_CODE") or "",
            org_name=self.decode.required_text(row["ORG_NAME"], table="PER_ORG", key=key, column="ORG_NAME"),
            org_code=row["ORG_CODE"],
        )

    def position_from_row(self, row: Mapping[str, Any], holder: int | None = None) -> Position:
        key = row["POS_ID"]
        return Position(
            pos_id=key,
            pos_no=row["POS_NO"],
            pl_code=row["PL_CODE"],
            pl_name=self.decode.text(row["PL_NAME"], table="PER_POSITION", key=key, column="PL_NAME"),
            pm_code=row["PM_CODE"],
            pm_name=(self.decode.text(row["PM_NAME"], table="PER_MGT", key=row["PM_CODE"], column="PM_NAME")
                     if row.get("PM_NAME") is not None else None),
            org_id=row["ORG_ID"],
            holder_per_id=holder,
        )

    # -- queries --------------------------------------------------------------------------

    def person_row_by_citizen_id(self, conn: Connection, citizen_id: str) -> Mapping[str, Any]:
        try:
            variants = citizen_id_variants(citizen_id, self.decode.encoding)
        except ThaiValueError as exc:
            raise NotFound(f"no person can have citizen ID {citizen_id!r}: {exc}",
                           errors=[FieldError("/citizen_id", exc.rule, str(exc))]) from None
        rows = conn.execute(
            select(per_personal).where(per_personal.c.PER_CARDNO.in_(variants)).order_by(per_personal.c.PER_ID)
        ).mappings().all()
        if not rows:
            raise NotFound(f"no person with citizen ID {variants[0].decode()} in DPIS",
                           errors=[FieldError("/citizen_id", "not_found", "a PER_PERSONAL.PER_CARDNO in DPIS")])
        # A person re-hired keeps old rows; the in-service one is the current record.
        in_service = [r for r in rows if r["PER_STATUS"] == IN_SERVICE]
        return (in_service or rows)[-1]

    def person(self, conn: Connection, citizen_id: str, *, expand: bool = True) -> Person:
        person = self.person_from_row(self.person_row_by_citizen_id(conn, citizen_id))
        return self.expand(conn, person) if expand else person

    def person_by_id(self, conn: Connection, per_id: int, *, expand: bool = True) -> Person:
        row = conn.execute(select(per_personal).where(per_personal.c.PER_ID == per_id)).mappings().first()
        if row is None:
            raise NotFound(f"no PER_PERSONAL row with PER_ID {per_id}")
        person = self.person_from_row(row)
        return self.expand(conn, person) if expand else person

    def expand(self, conn: Connection, person: Person) -> Person:
        position = self.position(conn, person.pos_id) if person.pos_id else None
        return person.model_copy(update={"position": position, "organization": self.org_chain(conn, person.org_id)})

    def position(self, conn: Connection, pos_id: int) -> Position | None:
        row = conn.execute(
            select(per_position, per_mgt.c.PM_NAME)
            .outerjoin(per_mgt, per_mgt.c.PM_CODE == per_position.c.PM_CODE)
            .where(per_position.c.POS_ID == pos_id)
        ).mappings().first()
        return self.position_from_row(row) if row else None

    def positions(self, conn: Connection, org_id: int | None = None) -> list[Position]:
        """Positions (of one unit, or all) with the PER_ID of the in-service person holding each."""
        query = (
            select(per_position, per_mgt.c.PM_NAME, per_personal.c.PER_ID.label("HOLDER"))
            .outerjoin(per_mgt, per_mgt.c.PM_CODE == per_position.c.PM_CODE)
            .outerjoin(per_personal, (per_personal.c.POS_ID == per_position.c.POS_ID)
                       & (per_personal.c.PER_STATUS == IN_SERVICE))
            .order_by(per_position.c.POS_ID)
        )
        if org_id is not None:
            query = query.where(per_position.c.ORG_ID == org_id)
        return [self.position_from_row(r, r["HOLDER"]) for r in conn.execute(query).mappings()]

    def duties(self, conn: Connection, pos_id: int) -> list[str]:
        """The position's duty lines in order; [] when none are recorded or the installation
        has no ``PER_POSITION_DUTY`` table (it is optional)."""
        if not inspect(conn).has_table(per_position_duty.name):
            return []
        rows = conn.execute(select(per_position_duty).where(per_position_duty.c.POS_ID == pos_id)
                            .order_by(per_position_duty.c.DUTY_SEQ)).mappings()
        return [self.decode.required_text(r["DUTY_DESC"], table="PER_POSITION_DUTY", key=(pos_id, r["DUTY_SEQ"]),
                                          column="DUTY_DESC") for r in rows]

    def acting_heads(self, conn: Connection, org_id: int, on: dt.date) -> list[Person]:
        """Who acts as head of the unit on ``on`` (``PER_ACTINGHIS``: start and end dates
        decoded from CE or BE text, an open end still running); [] when the installation has
        no such table. A row with an unreadable date is logged and left out, not guessed."""
        if not inspect(conn).has_table(per_acting.name):
            return []
        rows = conn.execute(select(per_acting).where(per_acting.c.ORG_ID == org_id)
                            .order_by(per_acting.c.ACTH_ID)).mappings().all()
        people = []
        for row in rows:
            key = row["ACTH_ID"]
            try:
                start = self.decode.date(row["ACTH_STARTDATE"], table=per_acting.name, key=key, column="ACTH_STARTDATE")
                end = self.decode.date(row["ACTH_ENDDATE"], table=per_acting.name, key=key, column="ACTH_ENDDATE")
            except LegacyRowError as exc:
                log.warning("acting assignment left out: %s", exc)
                continue
            if start is None or start > on or (end is not None and end < on):
                continue
            people.append(self.person_by_id(conn, row["PER_ID"], expand=False))
        return people

    def org(self, conn: Connection, org_id: int) -> OrgUnit:
        row = conn.execute(select(per_org).where(per_org.c.ORG_ID == org_id)).mappings().first()
        if row is None:
            raise NotFound(f"no PER_ORG row with ORG_ID {org_id}")
        return self.org_from_row(row)

    def org_chain(self, conn: Connection, org_id: int) -> list[OrgUnit]:
        """The unit, its department, its ministry (nearest first)."""
        chain: list[OrgUnit] = []
        current: int | None = org_id
        while current is not None:
            if len(chain) >= MAX_ORG_DEPTH or any(o.org_id == current for o in chain):
                raise LegacyRowError(table="PER_ORG", key=current, column="ORG_ID_REF", rule="cycle",
                                     message=f"the parent chain from ORG_ID {org_id} loops or is deeper than "
                                             f"{MAX_ORG_DEPTH}")
            unit = self.org(conn, current)
            chain.append(unit)
            current = unit.org_id_ref
        return chain

    def org_tree(self, conn: Connection, root_id: int | None = None) -> list[OrgNode]:
        """The ministry -> department -> unit tree (the subtree under ``root_id`` if given).

        A unit whose row cannot be decoded is logged and left out with its subtree, so one
        bad name does not hide the rest of the tree.
        """
        nodes: dict[int, OrgNode] = {}
        for row in conn.execute(select(per_org).order_by(per_org.c.ORG_ID)).mappings():
            try:
                nodes[row["ORG_ID"]] = OrgNode(**self.org_from_row(row).model_dump())
            except LegacyRowError as exc:
                log.error("DPIS org tree: skipping %s", exc, extra={"legacy_error": exc.as_dict()})
        roots: list[OrgNode] = []
        for node in nodes.values():
            parent = nodes.get(node.org_id_ref) if node.org_id_ref is not None else None
            if parent is not None:
                parent.children.append(node)
            elif node.org_id_ref is None:
                roots.append(node)
        if root_id is None:
            return roots
        if root_id not in nodes:
            raise NotFound(f"no PER_ORG row with ORG_ID {root_id}")
        return [nodes[root_id]]

    def head_of(self, conn: Connection, org_id: int) -> tuple[Person, str] | None:
        """The in-service holder of the unit's management position and its name (None if vacant)."""
        head = conn.execute(
            select(per_personal, per_mgt.c.PM_NAME)
            .join(per_position, per_position.c.POS_ID == per_personal.c.POS_ID)
            .join(per_mgt, per_mgt.c.PM_CODE == per_position.c.PM_CODE)
            .where(per_position.c.ORG_ID == org_id, per_personal.c.PER_STATUS == IN_SERVICE)
            .order_by(per_mgt.c.PM_RANK, per_personal.c.PER_ID)
        ).mappings().first()
        if head is None:
            return None
        title = self.decode.required_text(head["PM_NAME"], table="PER_MGT", key=head["PER_ID"], column="PM_NAME")
        return self.person_from_row(head), title

    def org_chain_with_heads(self, conn: Connection, citizen_id: str) -> list[tuple[OrgUnit, Person | None, str | None]]:
        """The person's unit, department and ministry, each with its head (None when vacant)."""
        person = self.person(conn, citizen_id, expand=False)
        out: list[tuple[OrgUnit, Person | None, str | None]] = []
        for unit in self.org_chain(conn, person.org_id):
            head = self.head_of(conn, unit.org_id)
            out.append((unit, head[0] if head else None, head[1] if head else None))
        return out

    def supervisors(self, conn: Connection, citizen_id: str) -> list[Supervisor]:
        """Heads above the person: the head of their unit (unless that is them), then upwards.

        A head is the in-service holder of the position with a ``PM_CODE`` in a unit.
        """
        person = self.person(conn, citizen_id, expand=False)
        result: list[Supervisor] = []
        for unit in self.org_chain(conn, person.org_id):
            head = self.head_of(conn, unit.org_id)
            if head is None or head[0].per_id == person.per_id:
                continue
            result.append(Supervisor(person=head[0], org=unit, management_position=head[1],
                                     relation="first_line" if not result else "higher"))
        return result
