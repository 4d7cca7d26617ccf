"""``hub integration eservices|eservice-add|consents|reads``: e-services as OAuth2 clients, a
citizen's consents and the citizen's data tracker (issue 15), on this hub's database as the
operator. Citizens themselves use ``/citizen`` (pages) or ``/v1/citizens/me/...``."""
from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from hub.cli.common import DataDir, console, print_json
from hub.cli.integration import JsonOpt, _run, integration_app
from hub.registry import ids

ACTOR = "cli:operator"


@integration_app.command("eservices")
def eservices(as_json: JsonOpt = False, data_dir: DataDir = None) -> None:
    """e-Services registered as OAuth2 clients: what a citizen is asked to consent to."""
    def act(hub: Any) -> None:
        found = [s.as_dict() for s in hub.integration.citizens.eservices.list()]
        if as_json:
            print_json(found)
            return
        table = Table("client", "name", "purpose", "field groups", "days", "redirect URIs", "disabled")
        for s in found:
            table.add_row(s["client_id"], f"{s['name_th']}\n{s['name_en']}", s["purpose"], ", ".join(s["field_groups"]),
                          str(s["consent_days"]), "\n".join(s["redirect_uris"]), "yes" if s["disabled"] else "")
        console.print(table)

    _run(data_dir, act)


@integration_app.command("eservice-add")
def eservice_add(
    client_id: Annotated[str, typer.Argument(help="A client of this hub (hub clients / an approved subsystem).")],
    name_th: Annotated[str, typer.Option(help="The name a citizen reads, in Thai.")],
    name_en: Annotated[str, typer.Option(help="The name in English.")],
    purpose: Annotated[str, typer.Option(help="The purpose every read under its consents states.")],
    purpose_th: Annotated[str, typer.Option(help="The purpose as the citizen reads it, in Thai.")],
    purpose_en: Annotated[str, typer.Option(help="The purpose in English.")],
    redirect_uri: Annotated[list[str], typer.Option(help="A redirect URI (exact match); repeat for more.")],
    group: Annotated[list[str], typer.Option(help="A field group it may ask for; repeat for more.")],
    days: Annotated[int, typer.Option(help="How long a consent lasts, in days.")] = 90,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Register an e-service as an OAuth2 client (authorization code + PKCE)."""
    def act(hub: Any) -> None:
        service = hub.integration.citizens.eservices.register(
            client_id=client_id, name_th=name_th, name_en=name_en, purpose=purpose, purpose_th=purpose_th,
            purpose_en=purpose_en, redirect_uris=list(redirect_uri), field_groups=list(group), consent_days=days,
            actor=ACTOR)
        if as_json:
            print_json(service.as_dict())
        else:
            console.print(f"e-service {service.client_id} registered: citizens are sent to /citizen/authorize")

    _run(data_dir, act)


@integration_app.command("consents")
def consents(
    citizen_id: Annotated[str, typer.Argument(help="The citizen's 13-digit ID.")],
    revoke: Annotated[Optional[str], typer.Option(help="Revoke this consent to an e-service (for the citizen).")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """A citizen's consents to e-services and, apart, the consents agencies recorded."""
    def act(hub: Any) -> None:
        citizen = ids.citizen_id(citizen_id, "/argument/citizen_id")
        service = hub.integration.citizens.eservices
        if revoke:
            service.revoke(citizen, revoke)
        found = service.for_citizen(citizen)
        if as_json:
            print_json(found)
            return
        table = Table("kind", "id", "to", "field groups / fields", "purpose", "expires", "valid")
        for c in found["eservices"]:
            table.add_row("e-service", c["id"], c["eservice"], ", ".join(c["field_groups"]), c["purpose"],
                          c["expires_at"], "yes" if c["valid"] else "no")
        for c in found["agencies"]:
            table.add_row("agency", str(c["id"]), c["consumer"], ", ".join(c["fields"]), c["purpose"],
                          c["expires_at"], "yes" if c["valid"] else "no")
        console.print(table)

    _run(data_dir, act)


@integration_app.command("reads")
def reads(
    citizen_id: Annotated[str, typer.Argument(help="The citizen's 13-digit ID.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (the citizen's export).")] = False,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """The data tracker: every read of the citizen's data, from the signed audit trail."""
    def act(hub: Any) -> None:
        tracker = hub.integration.citizens.tracker
        found = tracker.reads(ids.citizen_id(citizen_id, "/argument/citizen_id"))
        if as_json:
            print_json(found)
        elif as_csv:
            typer.echo(tracker.as_csv(found), nl=False)
        else:
            table = Table("at", "reader", "fields", "purpose", "basis", "entry")
            for r in found:
                table.add_row(r["at"], f"{r['reader']} ({r['reader_kind']})", ", ".join(r["fields"]) or
                              ", ".join(r["groups"]), r["purpose"] or "", f"{r['basis']} {r['basis_id'] or ''}",
                              f"#{r['seq']}")
            console.print(table)

    _run(data_dir, act)
