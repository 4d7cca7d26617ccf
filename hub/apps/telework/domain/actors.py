"""Who performs a step, as the hub authenticated them (seed 001 §5-§6, §9.2).

A decision (an order, a revocation) and a signature (on an agreement, a proposal, an
evaluation) are acts of a person, made in that person's own authenticated session: the
citizen ID comes from the session, never from the request body. A machine client (an
agency's system) may prepare a draft, never sign.
"""
from __future__ import annotations

from dataclasses import dataclass

from hub.apps.telework.domain.errors import NotAuthorised

PERSON_SESSION_TH = "การลงนามและการสั่งการต้องกระทำโดยผู้มีอำนาจด้วยตนเอง ผ่านการยืนยันตัวตนของบุคคลนั้น"


@dataclass(frozen=True)
class Actor:
    subject: str  # who authenticated: ``user:NAME``, ``client:ID``
    citizen_id: str | None = None  # the person, when a person acts in their own session

    @classmethod
    def person(cls, citizen_id: str, subject: str | None = None) -> Actor:
        return cls(subject or f"person:{citizen_id}", citizen_id)

    @classmethod
    def machine(cls, subject: str) -> Actor:
        return cls(subject, None)

    @property
    def is_person(self) -> bool:
        return self.citizen_id is not None


def require_person(actor: Actor, act: str) -> str:
    """The acting person's citizen ID; ``NotAuthorised`` for a machine client."""
    if actor.citizen_id is None:
        raise NotAuthorised(
            f"{actor.subject} is not a person's own session linked to their citizen ID: a machine client may "
            f"prepare a draft but not {act}; the person who holds the authority does it in their own session "
            "(/v1/auth/login)",
            field="/session", rule="person_session", expected="a person's authenticated session linked to their "
            "citizen ID", reason_th=PERSON_SESSION_TH, seed="001 §5-§6")
    return actor.citizen_id
