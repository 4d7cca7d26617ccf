"""Which work may go off-site (seed 001 §3, §9.1; seed 003).

The agency's policy decides (seed 001 §9.1: the head announces which work may go off-site):

1. an on-site New Normal pattern (seed 003: staggered or counted hours) is not off-site
   work, so the off-site rules of §3.2 do not judge it;
2. the policy's ``work_list`` (th.telework.policy 1.1.0) names positions and duties and
   decides them: an ineligible entry refuses, an eligible entry admits the work as its
   ``work_category``;
3. otherwise the keyword classifier only *suggests*: a suggestion of §3.2 work (secret,
   direct public service, technical equipment) refuses unless the supervisor recorded a
   reasoned exception that the head of agency approved;
4. the agreed work category must be one the policy's ``eligible_work`` allows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.apps.telework.domain.errors import TeleworkRefused
from hub.apps.telework.domain.model import Officer

SECRET, PUBLIC_SERVICE, EQUIPMENT = "secret-documents", "direct-public-service", "onsite-technical-equipment"

# The seed's own words (seed 001 §3.2), quoted in every refusal.
SEED_REASONS: dict[str, tuple[str, str, str]] = {
    SECRET: (
        "§3.2.1",
        "งานที่เกี่ยวข้องกับการใช้เอกสาร หรือข้อมูลสำคัญที่จำเป็นต้องเก็บเป็นความลับ "
        "ในสำนักงานที่มีมาตรการรักษาความปลอดภัยอย่างรัดกุม",
        "work that uses secret documents or data which must stay in a secured office",
    ),
    PUBLIC_SERVICE: (
        "§3.2.2",
        "งานที่มีหน้าที่รับผิดชอบเกี่ยวกับการให้บริการประชาชน เช่น งานทะเบียนราษฎร "
        "งานบริการทางการแพทย์ และสาธารณสุข งานด้านการรักษาความปลอดภัย เป็นต้น",
        "direct public service such as civil registration, medical and public-health services, security",
    ),
    EQUIPMENT: (
        "§3.2.3",
        "งานที่ต้องอาศัยเครื่องมือทางเทคนิคในการปฏิบัติงาน เช่น งานด้านเทคนิคการแพทย์ "
        "งานควบคุมการจราจรทางอากาศ งานด้านการตรวจสอบวัตถุอันตราย เป็นต้น",
        "work that needs on-site technical equipment: medical laboratory, air traffic control, "
        "hazardous-material inspection",
    ),
}

# Words in a position title or duty that place the work in a category. Checked in this
# order so that "นักเทคนิคการแพทย์" (medical technologist) is equipment work, not medical care.
KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (EQUIPMENT, ("เทคนิคการแพทย์", "ห้องปฏิบัติการ", "จราจรทางอากาศ", "วัตถุอันตราย", "รังสีการแพทย์",
                 "medical technolog", "laboratory", "air traffic", "hazardous")),
    (SECRET, ("เอกสารลับ", "ข้อมูลลับ", "ชั้นความลับ", "ข่าวกรอง", "รักษาความลับ",
              "classified", "secret document", "intelligence")),
    (PUBLIC_SERVICE, ("ทะเบียนราษฎร", "นายทะเบียน", "บริการประชาชน", "ให้บริการประชาชน", "นายแพทย์",
                      "พยาบาล", "บริการทางการแพทย์", "สาธารณสุข", "รักษาความปลอดภัย",
                      "civil registration", "public counter", "nurse", "physician", "security guard")),
)


POLICY_LIST, SUGGESTION, EXCEPTION, ON_SITE = "policy-work-list", "keyword-suggestion", "approved-exception", \
    "on-site-pattern"


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    category: str | None = None  # the ineligible category found
    matched: str | None = None  # the word that placed it there
    seed: str | None = None
    reason_th: str | None = None
    reason_en: str | None = None
    basis: str | None = None  # what decided: the policy's list, an approved exception, the pattern, a suggestion
    work_category: str | None = None  # the eligible category the policy lists the work as
    exception_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def classify(officer: Officer) -> Eligibility:
    texts = [officer.position, *officer.duties]
    haystack = " ".join(t.lower() for t in texts if t)
    for category, words in KEYWORDS:
        for word in words:
            if word.lower() in haystack:
                seed, th, en = SEED_REASONS[category]
                return Eligibility(False, category, word, seed, th, en)
    return Eligibility(True)


def listed(officer: Officer, policy: dict[str, Any]) -> dict[str, Any] | None:
    """The policy's work_list entry for this person (an ineligible one before an eligible one)."""
    def matches(entry: dict[str, Any]) -> bool:
        position_ok = "position" not in entry or entry["position"] in officer.position
        duty_ok = "duty" not in entry or any(entry["duty"] in d for d in officer.duties)
        return position_ok and duty_ok
    found = [e for e in policy.get("work_list", []) if matches(e)]
    return next((e for e in found if e["decision"] == "ineligible"), found[0] if found else None)


def on_site(pattern: dict[str, Any] | None) -> bool:
    return bool(pattern) and pattern.get("kind") == "new-normal" and pattern.get("mode") != "off-site"


def assess(officer: Officer, policy: dict[str, Any], *, pattern: dict[str, Any] | None = None,
           exception: dict[str, Any] | None = None) -> Eligibility:
    """What decides for this person under this policy (see the module's order)."""
    if on_site(pattern):
        return Eligibility(True, basis=ON_SITE)
    entry = listed(officer, policy)
    if entry is not None:
        what = entry.get("position") or entry.get("duty")
        if entry["decision"] == "ineligible":
            seed, th, en = SEED_REASONS[entry["category"]]
            return Eligibility(False, entry["category"], what, seed, th, en, basis=POLICY_LIST)
        return Eligibility(True, matched=what, basis=POLICY_LIST, work_category=entry["work_category"])
    suggestion = classify(officer)
    if suggestion.eligible:
        return Eligibility(True, basis=SUGGESTION)
    if exception is not None:
        return Eligibility(True, suggestion.category, suggestion.matched, basis=EXCEPTION,
                           work_category=exception["work_category"], exception_id=exception["exception_id"])
    return Eligibility(False, suggestion.category, suggestion.matched, suggestion.seed, suggestion.reason_th,
                       suggestion.reason_en, basis=SUGGESTION)


def require_eligible(officer: Officer, policy: dict[str, Any], work_category: str, *,
                     pattern: dict[str, Any] | None = None, exception: dict[str, Any] | None = None) -> Eligibility:
    """Refuse work the policy (or an unexcepted suggestion) keeps in the office, with the seed's
    reason; otherwise check the policy allows the agreed category."""
    result = assess(officer, policy, pattern=pattern, exception=exception)
    if result.basis == ON_SITE:
        return result
    if not result.eligible:
        how = ("the agency's policy lists this work as such" if result.basis == POLICY_LIST else
               "suggested by the keywords of the position and duties; the policy does not list this work, and no "
               "exception approved by the head of agency exists (a supervisor may propose one, with reasons)")
        raise TeleworkRefused(
            f"{officer.name} ({officer.position}) does {result.reason_en}, which may not be done off-site "
            f"(seed 001 {result.seed}; matched {result.matched!r}; {how})",
            field="/person/position", rule=f"ineligible_work:{result.category}",
            expected="work of seed 001 §3.1, not §3.2", reason_th=result.reason_th, seed=f"001 {result.seed}")
    if result.work_category and result.basis == POLICY_LIST and work_category != result.work_category:
        raise TeleworkRefused(
            f"the policy lists {result.matched!r} as {result.work_category!r} work, not {work_category!r}",
            field="/work_category", rule="policy_work_list", expected=result.work_category, seed="001 §9.1")
    allowed = policy.get("eligible_work", [])
    if work_category not in allowed:
        raise TeleworkRefused(
            f"work category {work_category!r} is not among those the agency's policy allows",
            field="/work_category", rule="policy_eligible_work", expected=f"one of {allowed}", seed="001 §9.1")
    return result
