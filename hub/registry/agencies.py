"""The agency registry: members, their org tree, roles per Back Office system, subsystems.

Onboarding follows X-Road: an agency registers a subsystem (``pending``), a hub admin
approves it (``approved``; the security layer then issues its credentials once) or rejects
it. Only approved subsystems can authenticate. Seeding from the pilot catalogue is
idempotent: existing members are left as they are.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.clock import as_utc, utcnow
from hub.db import reading
from hub.errors import Conflict, FieldError, InputError, NotFound
from hub.refresh_ahead import RefreshAhead
from hub.registry.ports import AuditSink
from hub.registry.schemas import Member, MemberIn, MemberPatch, Subsystem, SubsystemIn
from hub.registry.tables import members, subsystems, system_roles

# Matches the authenticator's cache of principals (hub.security.authn.CACHE_SECONDS).
CLEARANCE_CACHE_SECONDS = 2.0

# The pilot catalogue, relative to the standards folder (``Settings.standards_dir``).
CATALOGUE = Path("catalogue") / "backoffice-systems.json"
PENDING, APPROVED, REJECTED, DISABLED = "pending", "approved", "rejected", "disabled"


def org_tree() -> dict[str, Any]:
    return json.loads(resources.files("hub.registry").joinpath("org_tree.json").read_text(encoding="utf-8"))


def _subsystem(row: Any) -> Subsystem:
    data = dict(row._mapping)
    data["requested_at"] = as_utc(data["requested_at"])
    data["decided_at"] = as_utc(data["decided_at"])
    return Subsystem.model_validate(data)


class AgencyRegistry:
    def __init__(self, engine: Engine, audit: AuditSink, *, own_parties: frozenset[str] = frozenset()) -> None:
        self._engine = engine
        self._audit = audit
        # The hub's own parties (the shared registries, the events party) are never registered
        # as members' subsystems, yet routes and grants toward them are how an admin wires them.
        self._own_parties = own_parties
        # Clearances are read on every submit and delivery; another process's change is seen
        # within CLEARANCE_CACHE_SECONDS, this process's at once. Re-read in the background
        # while in use, so no submit waits for the read (hub.refresh_ahead).
        self._clearances: RefreshAhead[str, str] = RefreshAhead(
            self._read_clearance, ttl=CLEARANCE_CACHE_SECONDS, maxsize=65536)

    # -- members ---------------------------------------------------------------------
    def seed(self, catalogue: Path, *, actor: str = "hub") -> int:
        """Add the catalogue's ministries, agencies and roles that are not registered yet
        (``catalogue``: the file, e.g. ``standards_dir / CATALOGUE``)."""
        data = json.loads(catalogue.read_text(encoding="utf-8"))
        tree = org_tree()
        pilot_members = {m for s in data["systems"] if s["key"] in tree["pilot_systems"]
                         for ids in s["agencies"].values() for m in ids}
        wanted: list[MemberIn] = [
            MemberIn(id=mid, level="ministry", **info) for mid, info in tree["ministries"].items()
        ]
        for mid, info in data["agencies"].items():
            parent = tree["parents"].get(mid)
            code = tree["ministries"][parent]["ministry_code"] if parent else tree["independent_codes"].get(mid)
            wanted.append(MemberIn(id=mid, name_th=info["name_th"], name_en=info.get("name_en"), level="department",
                                   parent_id=parent, ministry_code=code, pilot=mid in pilot_members))
        added = 0
        with self._engine.begin() as conn:
            known = set(conn.execute(select(members.c.id)).scalars())
            for member in wanted:
                if member.id not in known:
                    conn.execute(insert(members).values(self._member_row(member)))
                    added += 1
            roles = {(r.member_id, r.system_key, r.role) for r in conn.execute(select(system_roles)).all()}
            new_roles = [{"member_id": m, "system_key": s["key"], "role": role}
                         for s in data["systems"] for role, ids in s["agencies"].items() for m in ids
                         if (m, s["key"], role) not in roles]
            if new_roles:
                conn.execute(insert(system_roles), new_roles)
        if added or new_roles:
            self._audit.record("registry.seeded", actor=actor, target=str(catalogue.name), members_added=added,
                               roles_added=len(new_roles))
        return added

    @staticmethod
    def _member_row(member: MemberIn) -> dict[str, Any]:
        instance, member_class, code = member.id.split("/")
        now = utcnow()
        return {**member.model_dump(mode="json"), "instance": instance, "member_class": member_class,
                "code": code, "created_at": now, "updated_at": now}

    def add_member(self, member: MemberIn, *, actor: str) -> Member:
        if member.parent_id and self._member_row_or_none(member.parent_id) is None:
            raise InputError(f"parent {member.parent_id} is not a registered member",
                             errors=[FieldError("/parent_id", "exists", "a registered member id")])
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(members).values(self._member_row(member)))
        except IntegrityError as exc:
            raise Conflict(f"member {member.id} is already registered",
                           errors=[FieldError("/id", "unique", "a member id not yet registered")]) from exc
        self._audit.record("registry.member_added", actor=actor, target=member.id, level=member.level,
                           parent=member.parent_id, pilot=member.pilot)
        return self.member(member.id)

    def update_member(self, member_id: str, patch: MemberPatch, *, actor: str) -> Member:
        values = patch.model_dump(mode="json", exclude_unset=True)
        if values:
            with self._engine.begin() as conn:
                if not conn.execute(update(members).where(members.c.id == member_id)
                                    .values(**values, updated_at=utcnow())).rowcount:
                    raise NotFound(f"no member {member_id}")
            self._audit.record("registry.member_changed", actor=actor, target=member_id, fields=sorted(values))
        return self.member(member_id)

    def _member_row_or_none(self, member_id: str) -> Any:
        with self._engine.connect() as conn:
            return conn.execute(select(members).where(members.c.id == member_id)).first()

    def member(self, member_id: str) -> Member:
        with self._engine.connect() as conn:
            row = conn.execute(select(members).where(members.c.id == member_id)).first()
            if row is None:
                raise NotFound(f"no member {member_id}")
            roles = conn.execute(select(system_roles).where(system_roles.c.member_id == member_id)).all()
            children = conn.execute(select(members.c.id).where(members.c.parent_id == member_id)
                                    .order_by(members.c.id)).scalars().all()
            subs = conn.execute(select(subsystems).where(subsystems.c.member_id == member_id)
                                .order_by(subsystems.c.id)).all()
        by_system: dict[str, list[str]] = {}
        for r in roles:
            by_system.setdefault(r.system_key, []).append(r.role)
        return Member.model_validate({**dict(row._mapping), "roles": by_system, "children": list(children),
                                      "subsystems": [_subsystem(s) for s in subs]})

    def list_members(self, *, pilot: bool | None = None, system: str | None = None,
                     parent: str | None = None) -> list[Member]:
        query = select(members.c.id).order_by(members.c.id)
        if pilot is not None:
            query = query.where(members.c.pilot == pilot)
        if parent is not None:
            query = query.where(members.c.parent_id == parent)
        if system is not None:
            query = query.where(members.c.id.in_(select(system_roles.c.member_id)
                                                 .where(system_roles.c.system_key == system)))
        with self._engine.connect() as conn:
            ids = conn.execute(query).scalars().all()
        return [self.member(i) for i in ids]

    # -- subsystems ------------------------------------------------------------------
    def request_subsystem(self, member_id: str, request: SubsystemIn, *, actor: str) -> Subsystem:
        if self._member_row_or_none(member_id) is None:
            raise NotFound(f"no member {member_id}")
        sid = f"{member_id}/{request.code}"
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(subsystems).values(
                    id=sid, member_id=member_id, code=request.code, status=PENDING, clearance=request.clearance,
                    endpoints=request.endpoints, description=request.description, requested_by=actor,
                    requested_at=utcnow()))
        except IntegrityError as exc:
            raise Conflict(f"subsystem {sid} is already registered",
                           errors=[FieldError("/code", "unique", "a subsystem code not yet used by this member")]) from exc
        self._audit.record("registry.subsystem_requested", actor=actor, target=sid, clearance=request.clearance)
        return self.subsystem(sid)

    def subsystem(self, subsystem_id: str, *, missing_ok: bool = False) -> Subsystem | None:
        with reading(self._engine).connect() as conn:
            row = conn.execute(select(subsystems).where(subsystems.c.id == subsystem_id)).first()
        if row is None:
            if missing_ok:
                return None
            raise NotFound(f"no subsystem {subsystem_id}")
        return _subsystem(row)

    def check_registered(self, party: str, *, pointer: str, role: str, wildcard: bool = False) -> None:
        """An administrator's grant or route names a party that exists: a registered subsystem, a
        registered member, or ``*`` where the caller matches any (issue 12: a typo was accepted
        and silently matched nothing — or whoever registered that id later)."""
        if (wildcard and party == "*") or party in self._own_parties \
                or self.subsystem(party, missing_ok=True) is not None:
            return
        if party.count("/") == 2 and self._member_row_or_none(party) is not None:
            return
        own = "".join(f", {p}" for p in sorted(self._own_parties))
        expected = f"a registered subsystem id, a registered member id{own}, or *" if wildcard \
            else f"a registered subsystem id or a registered member id{own}"
        raise InputError(f"{role} {party} is neither a registered subsystem nor a registered member",
                         errors=[FieldError(pointer, "exists", expected)])

    def approved_subsystems(self, member_id: str) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.execute(select(subsystems.c.id).where(subsystems.c.member_id == member_id,
                                                                  subsystems.c.status == APPROVED)).scalars())

    def decide(self, subsystem_id: str, status: str, *, actor: str, clearance: str | None = None,
               reason: str | None = None) -> Subsystem:
        """Approve, reject, disable or re-enable a subsystem (admins only; checked by the caller)."""
        if status not in (APPROVED, REJECTED, DISABLED):
            raise InputError(f"unknown decision {status!r}",
                             errors=[FieldError("/status", "enum", "approved, rejected or disabled")])
        current = self.subsystem(subsystem_id)
        values: dict[str, Any] = {"status": status, "decided_by": actor, "decided_at": utcnow()}
        if clearance is not None:
            values["clearance"] = clearance
        with self._engine.begin() as conn:
            conn.execute(update(subsystems).where(subsystems.c.id == subsystem_id).values(**values))
        self._forget_clearances()
        self._audit.record(f"registry.subsystem_{status}", actor=actor, target=subsystem_id,
                           previous=current.status, clearance=clearance or current.clearance, reason=reason)
        return self.subsystem(subsystem_id)

    def set_clearance(self, subsystem_id: str, clearance: str, *, actor: str) -> Subsystem:
        current = self.subsystem(subsystem_id)
        with self._engine.begin() as conn:
            conn.execute(update(subsystems).where(subsystems.c.id == subsystem_id).values(clearance=clearance))
        self._forget_clearances()
        self._audit.record("registry.clearance_changed", actor=actor, target=subsystem_id,
                           previous=current.clearance, clearance=clearance)
        return self.subsystem(subsystem_id)

    def clearance_of(self, party: str) -> str:
        """The clearance of an approved subsystem; anything else is treated as 001 (lowest)."""
        cached = self._clearances.get(party)
        return cached if cached is not None else self._clearances.load_now(party)

    def _read_clearance(self, party: str) -> str:
        sub = self.subsystem(party, missing_ok=True)
        return sub.clearance if sub is not None and sub.status == APPROVED else "001"

    def remembered_clearance(self, party: str) -> str | None:
        """``clearance_of`` if it is cached (no I/O), else None."""
        return self._clearances.get(party)

    def _forget_clearances(self) -> None:
        self._clearances.clear()
