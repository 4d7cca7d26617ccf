"""The statements of the node's per-letter path (send, delivery into the queue, poll, delete),
built once.

Built anew on every call, each statement's construction and cache key took more of the
node's CPU than running it on SQLite (a profile of ``hub bench --scenario e-cms``); built
once, SQLAlchemy keys its compiled form by the same object every time. Values go in as bound
parameters; ``IN`` lists expand.
"""
from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update

from hub.adapters.ecms.node.tables import ecms_departments, ecms_letters, ecms_queue

_q, _l = ecms_queue.c, ecms_letters.c

DEPARTMENT_BY_CODE = select(ecms_departments).where(ecms_departments.c.code == bindparam("key"))
DEPARTMENT_BY_PARTY = select(ecms_departments).where(ecms_departments.c.party == bindparam("key"))

LATEST_LETTER = (
    select(ecms_letters)
    .where(_l.sender_code == bindparam("sender"), _l.receiver_code == bindparam("receiver"),
           _l.letter_id == bindparam("letter_id"), _l.correspondence_date == bindparam("date"))
    .order_by(_l.generation.desc()).limit(1)
)
LETTER = select(ecms_letters).where(_l.message_id == bindparam("message_id"))
INSERT_LETTER = insert(ecms_letters)
LETTER_WITHDRAWN_FOR_UPDATE = select(_l.withdrawn_at).where(_l.message_id == bindparam("message_id")).with_for_update()

QUEUED = select(_q.process_id, _q.created_at).where(_q.message_id == bindparam("message_id"))
# What the delivery of an item placed at accept needs to know of it, without its payload.
QUEUED_ITEM = (select(_q.process_id, _q.created_at, _q.owner_code, _q.kind, _q.letter_message_id)
               .where(_q.message_id == bindparam("message_id")))
INSERT_QUEUED = insert(ecms_queue)
# The caller's queues, what its clearance lets it see, not withdrawn.
_VISIBLE = (_q.owner_code.in_(bindparam("codes", expanding=True)), _q.withdrawn_at.is_(None),
            _q.secret_code.in_(bindparam("allowed", expanding=True)))
NEXT_ITEM = (select(ecms_queue).where(*_VISIBLE, _q.deleted_at.is_(None))
             .order_by(_q.created_at, _q.process_id).limit(1))
# A poll in one statement (a round trip and a statement fewer than reading, then marking):
# the oldest visible item, marked read unless it was already, returned.
READ_NEXT_ITEM = (update(ecms_queue)
                  .where(_q.process_id == NEXT_ITEM.with_only_columns(_q.process_id).scalar_subquery())
                  .values(read_at=func.coalesce(_q.read_at, bindparam("at", type_=_q.read_at.type)))
                  .returning(*ecms_queue.c))
MARK_DELETED = (update(ecms_queue)
                .where(_q.owner_code.in_(bindparam("codes", expanding=True)), _q.process_id == bindparam("pid"))
                .values(deleted_at=func.coalesce(_q.deleted_at, bindparam("at", type_=_q.deleted_at.type))))
