"""Agency reporting (seed 001 §9.3.3, §12; seed 000 GSMS <-> GFMIS): the annual evaluation,
and the savings report sent to finance as a GFMIS-style batch and to the strategy side as KPI
results next to the same financial figures."""
from __future__ import annotations

import datetime as dt
from typing import Any

from hub.apps.telework import documents as D
from hub.apps.telework.domain import reporting
from hub.apps.telework.domain.errors import CaseNotFound, InvalidState
from hub.apps.telework.domain.model import Case
from hub.apps.telework.ports import BatchResult
from hub.apps.telework.service import TeleworkService, new_id
from hub.thai import fiscal_year_bounds, thai_date


class AgencyReports:
    def __init__(self, service: TeleworkService, rates: reporting.SavingsRates | None = None) -> None:
        self.s = service
        self.rates = rates or reporting.SavingsRates()

    def _year(self, agency: str, fiscal_year: int) -> tuple[list[Case], dt.date, dt.date]:
        first, last = fiscal_year_bounds(fiscal_year)
        cases = [c for c in self.s.p.store.list_cases(agency)
                 if c.order and first.isoformat() <= c.order["start_date"] <= last.isoformat()]
        return cases, first, last

    def _evidenced_days(self, cases: list[Case], first: dt.date, last: dt.date) -> tuple[int, int]:
        """(off-site days with evidence, off-site days scheduled) in the year."""
        evidenced = scheduled = 0
        for case in cases:
            if not case.off_site:
                continue
            have = {e.work_date for e in self.s.p.store.list_evidence(case.case_id)}
            days = [d for d in case.active_days() if first <= d <= last]
            scheduled += len(days)
            evidenced += sum(1 for d in days if d.isoformat() in have)
        return evidenced, scheduled

    def savings(self, agency: str, fiscal_year: int, *, method_note: str | None = None) -> dict[str, Any]:
        """Build, validate, send to finance and strategy; returns the report with its references."""
        setup = self.s.p.store.get_agency(agency)
        cases, first, last = self._year(agency, fiscal_year)
        evidenced, scheduled = self._evidenced_days(cases, first, last)
        figures = reporting.savings_figures(evidenced, self.rates)
        starts = [c.order["start_date"] for c in cases] or [first.isoformat()]
        ends = [c.order["end_date"] for c in cases] or [first.isoformat()]
        doc = {"report_id": new_id("SV"), "agency": agency, "fiscal_year": fiscal_year,
               "period": {"start": min(starts), "end": min(max(ends), last.isoformat())}, "currency": "THB",
               "participants": len({c.citizen_id for c in cases}), **figures,
               "method_note": method_note or (
                   f"{evidenced} off-site person-days with verifiable evidence x per-day rates "
                   f"(electricity {self.rates.electricity_per_day}, water {self.rates.water_per_day}, "
                   f"commute {self.rates.commute_cost_per_day} THB / {self.rates.commute_hours_per_day} h); "
                   f"office space {self.rates.desk_square_metres} m2 per FTE at "
                   f"{self.rates.space_cost_per_square_metre_year} THB/m2/year")}
        self.s.documents.validate(D.SAVINGS, doc)
        batch_ref = self.s.p.finance.send_savings_batch(setup.finance_agency, doc)
        kpis = reporting.kpis(cases, evidenced, scheduled, figures)
        kpi_report = self._gsms_report(setup, doc, kpis, {"batch_ref": batch_ref, "verdict": "pending"})
        kpi_ref = self.s.p.strategy.publish_kpis(setup.strategy_agency, kpi_report)
        refs = {"finance_batch_ref": batch_ref, "kpi_ref": kpi_ref, "kpis": kpis}
        self.s.p.store.save_report(doc["report_id"], "savings", agency, fiscal_year, doc, refs)
        return {"document": doc, **refs}

    def _gsms_report(self, setup, savings: dict[str, Any], kpis: list[dict[str, Any]],  # noqa: ANN001
                     gfmis: dict[str, Any]) -> dict[str, Any]:
        """The th.gsms.kpi report: the KPIs next to the financial figures and GFMIS's verdict on them."""
        figures = {k: savings[k] for k in ("utilities", "travel", "office_space")}
        report = {"report_ref": savings["report_id"], "programme": "telework", "agency": setup.agency,
                  "fiscal_year": savings["fiscal_year"], "kpis": kpis,
                  "financial": {**figures, "total_saved": reporting.money(reporting.total_saved(figures)),
                                "currency": "THB"},
                  "gfmis": gfmis, "reported_at": self.s.now().isoformat(timespec="seconds")}
        if setup.gsms_code:
            report["agency_code"] = setup.gsms_code
        return self.s.documents.validate(D.GSMS_KPI, report)

    def report_finance_verdict(self, report_id: str) -> dict[str, Any]:
        """Once GFMIS has answered the savings batch, the KPIs go to GSMS again with its verdict
        (seed 000: GSMS reports KPI results together with GFMIS's financial results); GSMS keeps
        one record per report with the verdict. Refused while GFMIS has not answered."""
        kind, savings, refs = self.s.p.store.get_report(report_id)
        if kind != "savings":
            raise CaseNotFound(f"{report_id} is not a savings report")
        result = self.s.p.finance.batch_result(refs["finance_batch_ref"])
        if result.status == "pending":
            raise InvalidState(f"GFMIS has not answered batch {refs['finance_batch_ref']} yet",
                               field="/gfmis/verdict", rule="finance_answered",
                               expected="a GFMIS verdict (accepted, partly-rejected or rejected)", seed="000")
        lines = {"accepted_lines": 0, "rejected_lines": 0}
        for event in result.detail.get("events", []):
            lines["accepted_lines"] += int(event.get("detail", {}).get("accepted", 0))
            lines["rejected_lines"] += int(event.get("detail", {}).get("rejected", 0))
        setup = self.s.p.store.get_agency(savings["agency"])
        report = self._gsms_report(setup, savings, refs["kpis"],
                                   {"batch_ref": refs["finance_batch_ref"], "verdict": result.status, **lines})
        kpi_ref = self.s.p.strategy.publish_kpis(setup.strategy_agency, report)
        return {"report_id": report_id, "verdict": result.status, "kpi_ref": kpi_ref, "gsms_report": report}

    def finance_result(self, report_id: str) -> BatchResult:
        _, _, refs = self.s.p.store.get_report(report_id)
        return self.s.p.finance.batch_result(refs["finance_batch_ref"])

    def printable(self, report_id: str) -> tuple[str, str]:
        """(agency, the printable Thai text) of a stored yearly evaluation."""
        kind, document, refs = self.s.p.store.get_report(report_id)
        if kind != "annual-evaluation":
            raise CaseNotFound(f"{report_id} is not a yearly evaluation")
        setup = self.s.p.store.get_agency(document["agency"])
        return document["agency"], printable_annual(document, agency_name=setup.name, report_id=report_id,
                                                    made_on=dt.date.fromisoformat(refs["made_on"]))

    def annual_evaluation(self, agency: str, fiscal_year: int, *, effectiveness_score: float,
                          satisfaction_respondents: int, satisfaction_score: float, lessons: list[str],
                          effectiveness_note: str | None = None, savings_ref: str | None = None) -> dict[str, Any]:
        cases, _, _ = self._year(agency, fiscal_year)
        total, met = reporting.target_counts(cases)
        doc: dict[str, Any] = {
            "agency": agency, "fiscal_year": fiscal_year, "participants": len({c.citizen_id for c in cases}),
            "efficiency": {"targets_total": total, "targets_met": met,
                           "note": f"{met} of {total} agreed targets met in {len(cases)} arrangements"},
            "effectiveness": {"score": effectiveness_score, **({"note": effectiveness_note} if effectiveness_note else {})},
            "satisfaction": {"respondents": satisfaction_respondents, "score": satisfaction_score},
            "lessons_learned": lessons,
        }
        if savings_ref:
            doc["savings_ref"] = savings_ref
        self.s.documents.validate(D.ANNUAL_EVALUATION, doc)
        report_id = new_id("AE")
        self.s.p.store.save_report(report_id, "annual-evaluation", agency, fiscal_year, doc,
                                   {"made_on": self.s.now().date().isoformat()})
        return {"report_id": report_id, "document": doc}


def printable_annual(document: dict[str, Any], *, agency_name: str, report_id: str, made_on: dt.date) -> str:
    """The yearly agency evaluation (seed 001 §9.3.3) as a person reads it: official Thai with
    Buddhist-Era dates and Thai month names."""
    first, last = fiscal_year_bounds(document["fiscal_year"])
    eff, sat, how = document["efficiency"], document["satisfaction"], document["effectiveness"]
    lines = [
        f"รายงานผลการประเมินการปฏิบัติราชการนอกสถานที่ ประจำปีงบประมาณ พ.ศ. {document['fiscal_year']}",
        agency_name,
        f"ระหว่างวันที่ {thai_date(first)} ถึงวันที่ {thai_date(last)}",
        f"เลขที่รายงาน {report_id}",
        "",
        f"ผู้ปฏิบัติราชการนอกสถานที่ {document['participants']} คน",
        f"1. ประสิทธิภาพ: บรรลุเป้าหมายตามข้อตกลง {eff['targets_met']} จาก {eff['targets_total']} เป้าหมาย",
        f"2. ประสิทธิผล: คะแนน {how['score']}" + (f" ({how['note']})" if how.get("note") else ""),
        f"3. ความพึงพอใจของบุคลากร: ผู้ตอบแบบสำรวจ {sat['respondents']} คน คะแนนเฉลี่ย {sat['score']}",
        "4. บทเรียนที่ได้รับ:",
        *([f"   - {lesson}" for lesson in document.get("lessons_learned", [])] or ["   - ไม่มี"]),
    ]
    if document.get("savings_ref"):
        lines.append(f"อ้างอิงรายงานผลการประหยัดทรัพยากร {document['savings_ref']}")
    lines += ["", f"จัดทำ ณ วันที่ {thai_date(made_on)}"]
    return "\n".join(lines) + "\n"
