"""Finding a citizen's messages by the keyed pseudonym (hub/security/pseudonym.py).

The console's search form POSTs the citizen ID once; from then on only ``person:<hex>`` is
in URLs, logs and the audit trail. Messages keep the officer's ID (``user_id``) as sent, so
the pseudonym is matched against the pseudonyms of the IDs the store holds: the key never
leaves the hub and the raw ID is never written anywhere new.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.transport.tables import messages


def citizen_ids(hub: Any, pseudonym: str) -> list[str]:
    """The stored citizen IDs whose pseudonym is ``pseudonym`` (one, or none)."""
    pseudonymize = hub.security.pseudonym
    with hub.engine.connect() as conn:
        stored = conn.execute(select(messages.c.user_id).distinct().where(messages.c.user_id.is_not(None))).scalars()
        return [user_id for user_id in stored if pseudonymize("person", user_id) == pseudonym]
