"""Who may do what, read from the HR org tree (seed 001 §5, §6, §9.2).

* the agreement is signed with the **first-line** supervisor;
* the first-line **or a higher** supervisor proposes;
* only the **head of the agency at ministry or department level** orders (and revokes):
  Leave Regulation B.E. 2555 cl. 11 gives the power to "หัวหน้าส่วนราชการ".
"""
from __future__ import annotations

from hub.apps.telework.domain.errors import NotAuthorised
from hub.apps.telework.domain.model import DEPARTMENT, MINISTRY, Officer, OrgUnit

CLAUSE_11_TH = ("หัวหน้าส่วนราชการ ระดับกระทรวง หรือระดับกรม ตามนัยของระเบียบว่าด้วยการลาของข้าราชการ "
                "พ.ศ. 2555 ข้อ 11")


def supervisors(person: Officer, chain: list[OrgUnit]) -> list[Officer]:
    """Heads above the person, nearest first (a head of their own unit is skipped)."""
    seen: list[Officer] = []
    for unit in chain:
        head = unit.head
        if head is None or head.citizen_id == person.citizen_id:
            continue
        if all(h.citizen_id != head.citizen_id for h in seen):
            seen.append(head)
    return seen


def first_line(person: Officer, chain: list[OrgUnit]) -> Officer:
    above = supervisors(person, chain)
    if not above:
        raise NotAuthorised(f"HR shows no supervisor above {person.name}", field="/supervisor",
                            rule="has_supervisor", expected="a head in the person's org chain")
    return above[0]


def heads_of_agency(chain: list[OrgUnit]) -> list[tuple[OrgUnit, Officer]]:
    return [(u, u.head) for u in chain if u.level in (DEPARTMENT, MINISTRY) and u.head is not None]


def require_first_line(person: Officer, chain: list[OrgUnit], supervisor_id: str) -> Officer:
    expected = first_line(person, chain)
    if expected.citizen_id != supervisor_id:
        raise NotAuthorised(
            f"the agreement must be signed with the first-line supervisor {expected.name} ({expected.position})",
            field="/supervisor/citizen_id", rule="first_line_supervisor",
            expected=f"{expected.citizen_id} per the HR org tree", seed="001 §6")
    return expected


def require_supervisor(person: Officer, chain: list[OrgUnit], proposer_id: str) -> tuple[Officer, str]:
    """The proposer and their level: ``first-line`` or ``higher``."""
    above = supervisors(person, chain)
    for i, head in enumerate(above):
        if head.citizen_id == proposer_id:
            return head, "first-line" if i == 0 else "higher"
    names = ", ".join(f"{h.name} ({h.citizen_id})" for h in above) or "none"
    raise NotAuthorised(
        f"{proposer_id} is not a supervisor of {person.name} in the HR org tree",
        field="/proposer/citizen_id", rule="supervisor_chain",
        expected=f"the first-line or a higher supervisor: {names}", seed="001 §5")


HEAD, ACTING_HEAD = "head-of-agency", "acting-head-of-agency"


def require_head_of_agency(chain: list[OrgUnit], signer_id: str, action: str = "order telework", *,
                           acting: dict[str, list[Officer]] | None = None) -> tuple[OrgUnit, Officer, str]:
    """The unit, the signer and their role: the head of the person's department or ministry,
    or whoever HR records as acting head (ผู้รักษาราชการแทน) of that unit on the day."""
    heads = heads_of_agency(chain)
    for unit, head in heads:
        if head.citizen_id == signer_id:
            return unit, head, HEAD
    for unit in chain:
        if unit.level not in (DEPARTMENT, MINISTRY):
            continue
        for officer in (acting or {}).get(unit.org_id, []):
            if officer.citizen_id == signer_id:
                return unit, officer, ACTING_HEAD
    names = ", ".join(f"{h.name}, {h.position} of {u.name}" for u, h in heads) or "none recorded"
    raise NotAuthorised(
        f"only the head of the agency at ministry or department level may {action}; "
        f"{signer_id} is not (heads: {names})",
        field="/signer/citizen_id", rule="head_of_agency",
        expected="the head of the person's department or ministry per the HR org tree",
        reason_th=CLAUSE_11_TH, seed="001 §5")
