"""``hub ecms departments add|list|remove|secret``: onboard e-Saraban departments on the node
without Python. A department with a subsystem (``--party``) gets a route for e-CMS letters into
its poll queue; its secret (HTTP Basic / UsernameToken password, username = the code) is
printed once and stored only as a hash."""
from __future__ import annotations

import secrets as secret_tokens
from typing import Annotated, Optional

import typer
from rich.table import Table

from hub.cli.common import DataDir, console, fail, open_hub, print_json
from hub.errors import HubError

ecms_app = typer.Typer(help="The hub's e-CMS node.", no_args_is_help=True)
departments_app = typer.Typer(help="Ministries and departments served by the e-CMS node.", no_args_is_help=True)
ecms_app.add_typer(departments_app, name="departments")


def _new_secret() -> str:
    return secret_tokens.token_urlsafe(24)


@departments_app.command("add")
def add(code: Annotated[str, typer.Argument(help="Department (or ministry) code, e.g. 0401")],
        ministry: Annotated[str, typer.Argument(help="Its ministry's code, e.g. 0400 (the same code for a ministry)")],
        name_th: Annotated[str, typer.Argument(help="Thai name, e.g. สำนักงานปลัดกระทรวงการคลัง")],
        name_en: Annotated[Optional[str], typer.Option(help="English name.")] = None,
        party: Annotated[Optional[str], typer.Option(help="Its subsystem, e.g. TH/GOV/0401/saraban.")] = None,
        clearance: Annotated[str, typer.Option(help="Highest secrecy code it may receive (001-004).")] = "001",
        with_secret: Annotated[bool, typer.Option("--secret/--no-secret",
                                                  help="Make a secret for HTTP Basic / UsernameToken.")] = True,
        data_dir: DataDir = None) -> None:
    """Add (or update) a ministry or department."""
    secret = _new_secret() if with_secret and party else None
    with open_hub(data_dir) as hub:
        try:
            department = hub.ecms.onboard(code, ministry, name_th, name_en=name_en, party=party,
                                          clearance=clearance, secret=secret)
        except HubError as exc:
            fail(exc)
    console.print(f"e-CMS {department.kind} {department.code} ({department.name_th}) registered")
    if secret:
        console.print(f"username [bold]{department.code}[/bold], secret (shown once): [bold]{secret}[/bold]")


@departments_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
          data_dir: DataDir = None) -> None:
    """Every ministry and department of the node."""
    with open_hub(data_dir) as hub:
        rows = [{"code": d.code, "ministry": d.ministry_code, "kind": d.kind, "name_th": d.name_th,
                 "name_en": d.name_en, "party": d.party, "clearance": d.clearance,
                 "secret": hub.ecms.store.has_secret(d.code)} for d in hub.ecms.store.departments()]
    if as_json:
        print_json(rows)
        return
    table = Table("code", "ministry", "kind", "name", "subsystem", "clearance", "secret")
    for r in rows:
        table.add_row(r["code"], r["ministry"], r["kind"], r["name_th"], r["party"] or "-", r["clearance"],
                      "yes" if r["secret"] else "no")
    console.print(table)


@departments_app.command("remove")
def remove(code: Annotated[str, typer.Argument(help="Department code.")], data_dir: DataDir = None) -> None:
    """Remove a department whose queue is empty (a ministry: once it has no departments)."""
    with open_hub(data_dir) as hub:
        try:
            hub.ecms.store.remove_department(code)
        except HubError as exc:
            fail(exc)
    console.print(f"e-CMS department {code} removed")


@departments_app.command("secret")
def secret(code: Annotated[str, typer.Argument(help="Department code.")], data_dir: DataDir = None) -> None:
    """Give the department a new secret (the old one stops working); printed once."""
    value = _new_secret()
    with open_hub(data_dir) as hub:
        try:
            hub.ecms.store.set_secret(code, value)
        except HubError as exc:
            fail(exc)
    console.print(f"username [bold]{code}[/bold], new secret (shown once): [bold]{value}[/bold]")


paperless_app = typer.Typer(help="The paperless record (seed 002): letters sent electronically only.",
                            no_args_is_help=True)
ecms_app.add_typer(paperless_app, name="paperless")


@paperless_app.command("mark")
def paperless_mark(message_id: Annotated[str, typer.Argument(help="The letter's hub message id (ecms_letters)")],
                   pages: Annotated[int, typer.Option(help="Sheets one paper copy would take")] = 1,
                   data_dir: DataDir = None) -> None:
    """Mark a letter as sent electronically only: the electronic letter is the original, no paper copy follows."""
    from hub.adapters.ecms.node.paperless import PaperlessRecord

    with open_hub(data_dir) as hub:
        try:
            marked = PaperlessRecord(hub.engine).mark(message_id, pages=pages, actor="cli")
        except HubError as exc:
            fail(exc)
    console.print(f"letter {marked['letter_id']} ({marked['sender_code']} -> {marked['receiver_code']}): "
                  f"sent electronically only, {marked['pages']} sheet(s) of paper avoided")


@paperless_app.command("report")
def paperless_report(department: Annotated[str, typer.Argument(help="Department code, e.g. 0401")],
                     month: Annotated[str, typer.Option(help="The month, YYYY-MM (CE), e.g. 2026-11")],
                     as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                     data_dir: DataDir = None) -> None:
    """Letters the department exchanged electronically in the month and the paper that avoided."""
    from hub.adapters.ecms.node.paperless import PaperlessRecord

    with open_hub(data_dir) as hub:
        try:
            report = PaperlessRecord(hub.engine).report(department, month)
        except HubError as exc:
            fail(exc)
    if as_json:
        print_json(report)
        return
    sent, received = report["exchanged_electronically"]["sent"], report["exchanged_electronically"]["received"]
    console.print(f"หน่วยงาน {department} เดือน{report['month_th']}: ส่งหนังสือทางอิเล็กทรอนิกส์ {sent} ฉบับ "
                  f"รับ {received} ฉบับ; ไม่มีสำเนากระดาษ {report['paper_avoided']['letters']} ฉบับ "
                  f"ลดการใช้กระดาษ {report['paper_avoided']['sheets']} แผ่น")
