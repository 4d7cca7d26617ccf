"""The DPIS-style legacy schema (DOMAIN.md §5) as SQLAlchemy Core tables.

These tables belong to the agency, not to the hub: they live on their own ``MetaData`` and
are never part of the hub's migrations. The reference DPIS (``hub sim dpis``) creates them;
against a real installation the adapter only reads and inserts rows.

Why text and date columns are ``VARBINARY``: many DPIS installations were set up in
TIS-620 / windows-874 and keep Thai text as raw cp874 bytes (often in ``latin1`` columns
that a Unicode-aware driver would mis-decode). Reading bytes and decoding them ourselves
with :func:`hub.thai.decode_legacy` is the only way to report *which* row and column hold a
bad byte instead of silently producing mojibake. Dates are CE strings (some BE years slip
in), so they are text too.

The one table the adapter owns is ``HUB_MESSAGE_LOG``: a side table holding the hub message
id of every message applied, which is what makes writes idempotent (DOMAIN: "the same
message twice writes one row"). It is created on first write if missing.
"""
from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table
from sqlalchemy.types import VARBINARY

legacy_metadata = MetaData()

# Organisation units: 01 ministry, 02 department, 03 unit (ORG_ID_REF is the parent).
per_org = Table(
    "PER_ORG",
    legacy_metadata,
    Column("ORG_ID", Integer, primary_key=True, autoincrement=False),
    Column("ORG_ID_REF", Integer, nullable=True),
    Column("OL_CODE", String(2), nullable=False),
    Column("ORG_CODE", String(10)),
    Column("ORG_NAME", VARBINARY(255), nullable=False),
    Column("ORG_SHORT", VARBINARY(50)),
)

# Management positions (head of ministry, department, unit); PER_POSITION.PM_CODE refers here.
per_mgt = Table(
    "PER_MGT",
    legacy_metadata,
    Column("PM_CODE", String(4), primary_key=True),
    Column("PM_NAME", VARBINARY(200), nullable=False),
    Column("PM_RANK", Integer, nullable=False),  # 1 = most senior
)

per_position = Table(
    "PER_POSITION",
    legacy_metadata,
    Column("POS_ID", Integer, primary_key=True, autoincrement=False),
    Column("POS_NO", String(20), nullable=False),
    Column("PL_CODE", String(20)),
    Column("PL_NAME", VARBINARY(200)),
    Column("PM_CODE", String(4), nullable=True),  # set when the position heads its ORG_ID
    Column("ORG_ID", Integer, nullable=False),
)

per_personal = Table(
    "PER_PERSONAL",
    legacy_metadata,
    Column("PER_ID", Integer, primary_key=True, autoincrement=False),
    Column("PER_TYPE", Integer, nullable=False),
    Column("PN_CODE", String(3)),
    Column("PER_NAME", VARBINARY(200), nullable=False),
    Column("PER_SURNAME", VARBINARY(200), nullable=False),
    Column("PER_CARDNO", VARBINARY(40), nullable=False),
    Column("ORG_ID", Integer, nullable=False),
    Column("POS_ID", Integer),
    Column("LEVEL_NO", String(4)),
    Column("PER_STARTDATE", VARBINARY(19)),
    Column("PER_STATUS", Integer, nullable=False, default=1),
    Column("PER_EMAIL", String(254)),
    Column("UPDATE_USER", String(30)),
    # 'YYYY-MM-DD HH:MM:SS' CE (sometimes BE) local time: the change-capture column.
    Column("UPDATE_DATE", VARBINARY(19)),
)

per_absenttype = Table(
    "PER_ABSENTTYPE",
    legacy_metadata,
    Column("AB_CODE", String(3), primary_key=True),
    Column("AB_NAME", VARBINARY(200), nullable=False),
)

per_absent = Table(
    "PER_ABSENT",
    legacy_metadata,
    Column("ABS_ID", Integer, primary_key=True, autoincrement=True),
    Column("PER_ID", Integer, nullable=False),
    Column("AB_CODE", String(3), nullable=False),
    Column("ABS_STARTDATE", VARBINARY(19), nullable=False),
    Column("ABS_ENDDATE", VARBINARY(19), nullable=False),
    Column("ABS_STARTPERIOD", Integer, nullable=False),
    Column("ABS_ENDPERIOD", Integer, nullable=False),
    Column("ABS_DAY", Numeric(5, 1), nullable=False),
    Column("ABS_REASON", VARBINARY(500)),
    Column("APPROVE_PER_ID", Integer),
    Column("APPROVE_DATE", VARBINARY(19)),
    Column("UPDATE_USER", String(30)),
    Column("UPDATE_DATE", VARBINARY(19)),
)

per_time_attendance = Table(
    "PER_TIME_ATTENDANCE",
    legacy_metadata,
    Column("PER_ID", Integer, primary_key=True, autoincrement=False),
    Column("TIME_STAMP", VARBINARY(19), primary_key=True),
    Column("TA_CODE", String(4), primary_key=True),
)

# Duties of a position (หน้าที่ความรับผิดชอบ), one line each. Not every installation keeps them
# in DPIS, so the table is optional: the reader answers "no duties recorded" when it is absent.
# Eligibility for telework (seed 001 §3.2) is judged on the position's title and these duties.
per_position_duty = Table(
    "PER_POSITION_DUTY",
    legacy_metadata,
    Column("POS_ID", Integer, primary_key=True, autoincrement=False),
    Column("DUTY_SEQ", Integer, primary_key=True, autoincrement=False),
    Column("DUTY_DESC", VARBINARY(1000), nullable=False),
)

# Acting assignments (ผู้รักษาราชการแทน): who acts as head of an org unit, from when to when,
# under which order. Dates are text as elsewhere in DPIS (CE, some BE years slip in); an open
# end is NULL. Optional: an installation that keeps none has no acting head to report.
per_acting = Table(
    "PER_ACTINGHIS",
    legacy_metadata,
    Column("ACTH_ID", Integer, primary_key=True, autoincrement=False),
    Column("PER_ID", Integer, nullable=False),
    Column("ORG_ID", Integer, nullable=False),  # the unit whose head's duties they take on
    Column("ACTH_STARTDATE", VARBINARY(19), nullable=False),
    Column("ACTH_ENDDATE", VARBINARY(19), nullable=True),
    Column("ACTH_DOCNO", VARBINARY(100)),  # the order appointing them, e.g. คำสั่ง ที่ 12/2569
)

# Owned by the adapter: one row per hub message applied (the idempotency marker).
hub_message_log = Table(
    "HUB_MESSAGE_LOG",
    legacy_metadata,
    Column("MESSAGE_ID", String(36), primary_key=True),
    Column("PER_ID", Integer, nullable=False),
    Column("TARGET", String(30), nullable=False),
    Column("ROWS_WRITTEN", Integer, nullable=False),
    Column("APPLIED_AT", String(19), nullable=False),
)

LEGACY_TABLES = (per_org, per_mgt, per_position, per_personal, per_absenttype, per_absent, per_time_attendance)
OPTIONAL_TABLES = (per_position_duty, per_acting)
