"""Tables of the e-CMS node (Alembic branch ``ecms``, revision ``ecms0001``).

``ecms_departments``  the node's organisation list (GetMinistryOrganizationList /
                      GetOrganizationList), each department bound to its hub subsystem.
``ecms_letters``      one row per letter sent through the node (per withdraw generation):
                      what notifiers and withdrawals are checked against.
``ecms_queue``        each department's poll queue; the ``ecms-queue`` adapter fills it
                      from delivered hub messages, one row per message id.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint

from hub.db import metadata

ecms_departments = Table(
    "ecms_departments",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("ministry_code", String(20), nullable=False),
    Column("kind", String(10), nullable=False),  # ministry | department
    Column("name_th", String(300), nullable=False),
    Column("name_en", String(300)),
    Column("party", String(200), unique=True),
    Column("clearance", String(3), nullable=False),
    # Node-local credentials, used only while the security layer's authenticator is absent.
    Column("secret_hash", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ecms_letters = Table(
    "ecms_letters",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("sender_code", String(20), nullable=False),
    Column("receiver_code", String(20), nullable=False),
    Column("letter_id", String(100), nullable=False),
    Column("correspondence_date", String(10), nullable=False),
    Column("subject", Text, nullable=False),
    Column("secret_code", String(3), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("conversation", String(128), nullable=False),
    Column("accept_id", String(100)),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("sender_code", "receiver_code", "letter_id", "correspondence_date", "generation",
                     name="uq_ecms_letters_generation"),
    Index("ix_ecms_letters_receiver", "receiver_code", "letter_id", "correspondence_date"),
)

ecms_queue = Table(
    "ecms_queue",
    metadata,
    Column("process_id", String(36), primary_key=True),
    Column("owner_code", String(20), nullable=False),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("letter_message_id", String(36)),
    Column("kind", String(32), nullable=False),
    Column("secret_code", String(3), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("withdrawn_at", DateTime(timezone=True)),
    Index("ix_ecms_queue_owner", "owner_code", "created_at"),
    Index("ix_ecms_queue_letter", "letter_message_id"),
)
