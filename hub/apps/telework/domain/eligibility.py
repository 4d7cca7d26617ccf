"""Which work may go off-site (seed 001 §3; seed 003: judge by the position's title and duties).

The three kinds of work the manual says may **not** go off-site are refused whatever an
agency's policy says, because the manual states them as limits of the arrangement, not as
options; a policy may add to them (``ineligible_work``) but not remove them.
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


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    category: str | None = None  # the ineligible category found
    matched: str | None = None  # the word that placed it there
    seed: str | None = None
    reason_th: str | None = None
    reason_en: str | None = None

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


def require_eligible(officer: Officer, policy: dict[str, Any], work_category: str) -> Eligibility:
    """Refuse ineligible work with the seed's reason; otherwise check the policy allows the category."""
    result = classify(officer)
    if not result.eligible:
        raise TeleworkRefused(
            f"{officer.name} ({officer.position}) does {result.reason_en}, which may not be done off-site "
            f"(seed 001 {result.seed}; matched {result.matched!r})",
            field="/person/position", rule=f"ineligible_work:{result.category}",
            expected="work of seed 001 §3.1, not §3.2", reason_th=result.reason_th, seed=f"001 {result.seed}")
    allowed = policy.get("eligible_work", [])
    if work_category not in allowed:
        raise TeleworkRefused(
            f"work category {work_category!r} is not among those the agency's policy allows",
            field="/work_category", rule="policy_eligible_work", expected=f"one of {allowed}", seed="001 §9.1")
    return result
