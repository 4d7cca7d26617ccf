"""``hub telework ...``: look at cases, eligibility, working time; raise supervisor alerts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from hub.cli.common import DataDir, console, open_hub, print_json
from hub.errors import HubError

telework_app = typer.Typer(help="The telework central application (orders, evidence, reports).",
                           no_args_is_help=True)


def _run(data_dir: Path | None, action) -> None:  # noqa: ANN001
    """``action(app)`` on the hub's telework application; a refusal exits 2 with the
    regulation's rule and reason (not the generic error lines: the reason is the answer)."""
    with open_hub(data_dir) as hub:
        try:
            action(hub.telework.get())
        except HubError as exc:
            console.print(f"[red]refused:[/red] {exc.message}")
            for err in exc.errors:
                console.print(f"  - {err.field}: {err.rule}: expected {err.message}")
            if exc.extra.get("reason_th"):
                console.print(f"  เหตุผล: {exc.extra['reason_th']}")
            raise typer.Exit(2) from exc


agencies_app = typer.Typer(help="Agencies that run telework on this hub (any agency, not only the pilot's).",
                          no_args_is_help=True)
telework_app.add_typer(agencies_app, name="agencies")


@agencies_app.command("add")
def agencies_add(policy_file: Annotated[Path, typer.Argument(help="The agency's th.telework.policy JSON document")],
                 name: Annotated[str, typer.Option(help="The agency's name as HR knows it, e.g. กรมควบคุมโรค")],
                 hr_agency: Annotated[str, typer.Option(help="Whose DPIS keeps its staff (route HR/dpis)")],
                 finance_agency: Annotated[str, typer.Option(help="Who receives the savings batch (FIN/gfmis)")],
                 strategy_agency: Annotated[str, typer.Option(help="Who receives the KPIs (STRAT/gsms)")],
                 copy_to: Annotated[Optional[list[str]], typer.Option(help="Agency copied on orders (repeat)")] = None,
                 holiday: Annotated[Optional[list[str]], typer.Option(help="A declared day off YYYY-MM-DD (repeat)")] = None,
                 gfmis_code: Annotated[Optional[str], typer.Option(help="Its agency code in GFMIS, e.g. 21004")] = None,
                 gsms_code: Annotated[Optional[str], typer.Option(help="Its agency code in GSMS")] = None,
                 esaraban_department: Annotated[Optional[str], typer.Option(
                     help="Its e-Saraban's e-CMS department code: enrols its own e-Saraban")] = None,
                 esaraban_ministry: Annotated[Optional[str], typer.Option(help="That department's ministry code")] = None,
                 book_prefix: Annotated[Optional[str], typer.Option(help="Its book-number prefix, e.g. 'สธ 0419'")] = None,
                 ministry_name: Annotated[Optional[str], typer.Option(
                     help="The ministry's name, if the e-CMS node does not list it yet")] = None,
                 node_url: Annotated[Optional[str], typer.Option(
                     help="The e-CMS endpoint its e-Saraban posts to (default: this hub's)")] = None,
                 data_dir: DataDir = None) -> None:
    """Register an agency's telework policy and where its systems are (seed 001 §9.1): its HR
    agency's DPIS route, its finance and strategy agencies and codes, its own e-Saraban."""
    from hub.apps.telework.wiring import missing_routes, onboard_agency

    try:
        policy = json.loads(policy_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        console.print(f"[red]cannot read the policy:[/red] {exc}")
        raise typer.Exit(2) from exc
    with open_hub(data_dir) as hub:
        try:
            esaraban = None
            if esaraban_department or esaraban_ministry or book_prefix:
                esaraban = {"department": esaraban_department or "", "ministry": esaraban_ministry or "",
                            "prefix": book_prefix or "", "ministry_name": ministry_name, "node_url": node_url}
            setup = onboard_agency(
                hub, policy, name=name, hr_agency=hr_agency, finance_agency=finance_agency,
                strategy_agency=strategy_agency, copy_to=list(copy_to or []), declared_holidays=list(holiday or []),
                gfmis_code=gfmis_code, gsms_code=gsms_code, esaraban=esaraban)
        except HubError as exc:
            console.print(f"[red]refused:[/red] {exc.message}")
            for err in exc.errors:
                console.print(f"  - {err.field}: {err.rule}: expected {err.message}")
            raise typer.Exit(2) from exc
        missing = missing_routes(hub, setup)
    console.print(f"registered {setup.agency} ({setup.name}): policy {setup.policy['policy_id']}, HR at "
                  f"{setup.hr_agency}, finance at {setup.finance_agency}, KPIs to {setup.strategy_agency}")
    if setup.esaraban:
        console.print(f"its e-Saraban: e-CMS department {setup.esaraban['department']} "
                      f"(book numbers {setup.esaraban['prefix']}/N), enrolled as {setup.agency}/saraban")
    for route in missing:
        console.print(f"[yellow]no route yet:[/yellow] {route} (`hub routes add`)")


@telework_app.command("esaraban-add")
def esaraban_add(agency: Annotated[str, typer.Argument(help="The agency member, e.g. TH/GOV/MOPH-OPS")],
                 name: Annotated[str, typer.Option(help="The department's Thai name")],
                 department: Annotated[str, typer.Option(help="Its e-CMS department code")],
                 ministry: Annotated[str, typer.Option(help="Its ministry's e-CMS code")],
                 book_prefix: Annotated[str, typer.Option(help="Its book-number prefix")],
                 ministry_name: Annotated[Optional[str], typer.Option(help="The ministry's name, if not listed")] = None,
                 node_url: Annotated[Optional[str], typer.Option(help="The e-CMS endpoint it posts to")] = None,
                 data_dir: DataDir = None) -> None:
    """Enrol an agency's own e-Saraban (one that receives telework orders, e.g. the HR agency's)."""
    from hub.apps.telework.agency_systems import default_node_url, enrol_esaraban

    with open_hub(data_dir) as hub:
        try:
            home = enrol_esaraban(hub, agency, name=name, department=department, ministry=ministry,
                                  prefix=book_prefix, ministry_name=ministry_name,
                                  node_url=node_url or default_node_url(hub.settings))
        except HubError as exc:
            console.print(f"[red]refused:[/red] {exc.message}")
            for err in exc.errors:
                console.print(f"  - {err.field}: {err.rule}: expected {err.message}")
            raise typer.Exit(2) from exc
    console.print(f"{agency}/saraban enrolled on e-CMS department {department}; its configuration is in {home}")


@agencies_app.command("list")
def agencies_list(data_dir: DataDir = None) -> None:
    """Agencies registered for telework on this hub."""
    def action(tw) -> None:  # noqa: ANN001
        table = Table(title="telework agencies")
        for column in ("agency", "name", "policy", "HR", "finance", "strategy", "days off"):
            table.add_column(column)
        for a in tw.ports.store.list_agencies():
            table.add_row(a.agency, a.name, a.policy["policy_id"], a.hr_agency, a.finance_agency, a.strategy_agency,
                          ", ".join(a.declared_holidays))
        console.print(table)
    _run(data_dir, action)


@telework_app.command()
def eligibility(citizen_id: str, agency: Annotated[Optional[str], typer.Option(
        help="Judge under this agency's policy (its work list and approved exceptions decide)")] = None,
                data_dir: DataDir = None) -> None:
    """Whether a person's work may go off-site (seed 001 §3, §9.1), with the seed's reason if not.
    Without --agency only the keyword classifier's suggestion."""
    def action(tw) -> None:  # noqa: ANN001
        officer, result = tw.service.eligibility(citizen_id, agency)
        console.print_json(json.dumps({"person": officer.party(), **result.as_dict()}, ensure_ascii=False))
    _run(data_dir, action)


@telework_app.command()
def cases(agency: Annotated[Optional[str], typer.Option(help="Agency member, e.g. TH/GOV/CGD")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
          data_dir: DataDir = None) -> None:
    """List telework cases with their status and order book number."""
    def action(tw) -> None:  # noqa: ANN001
        if as_json:
            print_json([{"case": c.case_id, "agency": c.agency, "person": c.agreement["person"]["name"],
                         "status": c.status, "order": c.book_number, "days": len(c.active_days())}
                        for c in tw.ports.store.list_cases(agency)])
            return
        table = Table(title="telework cases")
        for column in ("case", "agency", "person", "status", "order", "days"):
            table.add_column(column)
        for c in tw.ports.store.list_cases(agency):
            table.add_row(c.case_id, c.agency, c.agreement["person"]["name"], c.status, c.book_number or "",
                          str(len(c.active_days())))
        console.print(table)
    _run(data_dir, action)


@telework_app.command("working-time")
def working_time(case_id: str,
                 as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
                 data_dir: DataDir = None) -> None:
    """Minutes worked per telework day, computed from the evidence."""
    def action(tw) -> None:  # noqa: ANN001
        if as_json:
            print_json(tw.service.working_time(case_id))
            return
        table = Table(title=f"working time of {case_id}")
        for column in ("day", "minutes", "evidence"):
            table.add_column(column)
        for day, row in tw.service.working_time(case_id).items():
            table.add_row(day, str(row["minutes"]), ", ".join(row["evidence"]) or "[red]none[/red]")
        console.print(table)
    _run(data_dir, action)


@telework_app.command()
def evidence(case_id: str, data_dir: DataDir = None) -> None:
    """The order's daily evidence status (complete / incomplete / late / missing; seed 001 §7.2)."""
    def action(tw) -> None:  # noqa: ANN001
        report = tw.service.evidence_status(case_id)
        table = Table(title=f"evidence of {report['person']['name']} ({report['order_ref'] or 'no order'})")
        for column in ("day", "status", "minutes", "evidence"):
            table.add_column(column)
        for day in report["days"]:
            colour = {"missing": "red", "late": "yellow", "incomplete": "yellow"}.get(day["status"])
            text = f"[{colour}]{day['status_th']}[/{colour}]" if colour else day["status_th"]
            table.add_row(day["date"], text, str(day["minutes"]), ", ".join(day["evidence"]))
        console.print(table)
    _run(data_dir, action)


@telework_app.command("annual-evaluation")
def annual_evaluation(agency: str, fiscal_year: Annotated[int, typer.Option(help="BE fiscal year, e.g. 2570")],
                      effectiveness: Annotated[float, typer.Option(help="Effectiveness score 0-5")],
                      respondents: Annotated[int, typer.Option(help="Staff who answered the satisfaction survey")],
                      satisfaction: Annotated[float, typer.Option(help="Average satisfaction 0-5")],
                      lesson: Annotated[Optional[list[str]], typer.Option(help="A lesson learned (repeat)")] = None,
                      data_dir: DataDir = None) -> None:
    """Make the agency's yearly telework evaluation (seed 001 §9.3.3) and print it in official Thai."""
    def action(tw) -> None:  # noqa: ANN001
        made = tw.reports.annual_evaluation(agency, fiscal_year, effectiveness_score=effectiveness,
                                            satisfaction_respondents=respondents, satisfaction_score=satisfaction,
                                            lessons=list(lesson or []))
        console.print(tw.reports.printable(made["report_id"])[1], markup=False, highlight=False)
    _run(data_dir, action)


@telework_app.command()
def alerts(agency: Annotated[Optional[str], typer.Option(help="Agency member")] = None, data_dir: DataDir = None) -> None:
    """Alert supervisors (through the hub) about past telework days without evidence."""
    def action(tw) -> None:  # noqa: ANN001
        for alert in tw.service.alert_missing_evidence(agency=agency):
            console.print(f"{alert.work_date} -> {alert.supervisor_citizen_id}: {alert.message}")
    _run(data_dir, action)


@telework_app.command("finance-verdict")
def finance_verdict(report_id: str, data_dir: DataDir = None) -> None:
    """Send a savings report's KPIs to GSMS with the verdict GFMIS gave on its batch (seed 000)."""
    def action(tw) -> None:  # noqa: ANN001
        sent = tw.reports.report_finance_verdict(report_id)
        console.print(f"GSMS: KPIs of {report_id} sent with the GFMIS verdict {sent['verdict']} (message {sent['kpi_ref']})")
    _run(data_dir, action)
