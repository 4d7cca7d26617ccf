"""Tables of the agency registry and the shared person / juristic-person registries.

Members are X-Road style ``INSTANCE/CLASS/MEMBER``; a subsystem is ``MEMBER/SUBSYSTEM``.
The org tree (ministry -> department -> unit) is ``members.parent_id``.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from hub.db import metadata

members = Table(
    "registry_members",
    metadata,
    Column("id", String(120), primary_key=True),  # TH/GOV/OCSC
    Column("instance", String(32), nullable=False),
    Column("member_class", String(10), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name_th", Text, nullable=False),
    Column("name_en", Text, nullable=True),
    Column("level", String(12), nullable=False),  # ministry / department / unit
    Column("parent_id", String(120), ForeignKey("registry_members.id"), nullable=True),
    Column("ministry_code", String(8), nullable=True),  # two-letter book-number prefix, e.g. กค
    Column("department_code", String(32), nullable=True),  # e.g. the e-CMS DepartmentOrganization/ID
    Column("pilot", Boolean, nullable=False, default=False),
    Column("contacts", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

subsystems = Table(
    "registry_subsystems",
    metadata,
    Column("id", String(200), primary_key=True),  # TH/GOV/OCSC/hr
    Column("member_id", String(120), ForeignKey("registry_members.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("status", String(12), nullable=False),  # pending / approved / rejected / disabled
    Column("clearance", String(3), nullable=False),  # e-CMS secrecy code 001-004 it may receive
    Column("endpoints", JSON, nullable=False),
    Column("description", Text, nullable=True),
    Column("requested_by", String(200), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Index("ix_registry_subsystems_member", "member_id"),
)

system_roles = Table(
    "registry_system_roles",
    metadata,
    Column("member_id", String(120), ForeignKey("registry_members.id"), primary_key=True),
    Column("system_key", String(64), primary_key=True),
    Column("role", String(16), primary_key=True),  # lead / secondary / supplementary / advisory
)

persons = Table(
    "registry_persons",
    metadata,
    Column("citizen_id", String(13), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row per (person, field, source agency): the value each agency reported and when, so a
# reader sees provenance and freshness instead of one anonymous "current" value.
person_facts = Table(
    "registry_person_facts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("citizen_id", String(13), ForeignKey("registry_persons.citizen_id", ondelete="CASCADE"), nullable=False),
    Column("field", String(64), nullable=False),
    Column("value", JSON, nullable=False),
    Column("source", String(200), nullable=False),  # the subsystem that reported it
    Column("observed_at", DateTime(timezone=True), nullable=False),  # when the source says it was true
    Column("recorded_at", DateTime(timezone=True), nullable=False),  # when the hub stored it
    Index("ix_registry_person_facts_person", "citizen_id", "field", "source", unique=True),
)

juristic_persons = Table(
    "registry_juristic_persons",
    metadata,
    Column("juristic_id", String(13), primary_key=True),
    Column("name_th", Text, nullable=False),
    Column("name_en", Text, nullable=True),
    Column("kind", String(40), nullable=True),
    Column("status", String(20), nullable=True),
    Column("province_code", String(2), nullable=True),
    Column("source", String(200), nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

consents = Table(
    "registry_consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("citizen_id", String(13), ForeignKey("registry_persons.citizen_id", ondelete="CASCADE"), nullable=False),
    Column("consumer", String(200), nullable=False),  # subsystem or member allowed to read
    Column("purpose", Text, nullable=False),
    Column("fields", JSON, nullable=False),  # which fields; ["*"] for all
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("recorded_by", String(200), nullable=False),
    Index("ix_registry_consents_person_consumer", "citizen_id", "consumer"),
)

# Person updates applied, one row per update id (a message id, or the idempotency key of a
# REST submission): a redelivered ``hr.person.changed`` message is recognised and not applied
# twice, and the rows are the history of who changed whose record when.
person_updates = Table(
    "registry_person_updates",
    metadata,
    Column("update_id", String(64), primary_key=True),
    Column("citizen_id", String(13), ForeignKey("registry_persons.citizen_id", ondelete="CASCADE"), nullable=False),
    Column("source", String(200), nullable=False),
    Column("fields", JSON, nullable=False),  # the field names it carried (never the values)
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Index("ix_registry_person_updates_person", "citizen_id"),
)
