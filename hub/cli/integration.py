"""``hub integration ...``: subscriptions, events and one-stop applications (layer 5), run by the
hub operator on this hub's database (as the admin: agencies use the HTTP API with their tokens)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Optional

import typer
from pydantic import ValidationError
from rich.table import Table

from hub.cli.common import DataDir, console, fail, open_hub, print_json
from hub.errors import HubError
from hub.schemas.principal import ADMIN, Principal
from hub.schemas.validation import validation_failed

integration_app = typer.Typer(help="Layer 5: event subscriptions (Tell Us Once), events and one-stop applications.",
                              no_args_is_help=True)
OPERATOR = Principal(subject="cli:operator", roles=frozenset({ADMIN}))
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _run(data_dir: Any, action: Any) -> Any:
    with open_hub(data_dir) as hub:
        try:
            return action(hub)
        except ValidationError as exc:
            fail(validation_failed(exc))
        except HubError as exc:
            fail(exc)


@integration_app.command("subscribe")
def subscribe(
    subscriber: Annotated[str, typer.Argument(help="The subscribing subsystem, e.g. TH/GOV/CGD/hrsync")],
    event_type: Annotated[str, typer.Argument(help="Event type, e.g. hr.person.changed/v1")],
    webhook: Annotated[Optional[str], typer.Option(help="Deliver to this https URL (signed, Standard Webhooks).")] = None,
    queue: Annotated[Optional[str], typer.Option(help="Deliver to this queue on the hub's broker.")] = None,
    route: Annotated[bool, typer.Option("--route", help="Deliver through the subscriber's existing route.")] = False,
    match: Annotated[Optional[str], typer.Option(help='Filter, JSON: {"/organization/*/org_id": [1]}')] = None,
    field: Annotated[Optional[list[str]], typer.Option(help="Deliver only this top-level field (repeat).")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Subscribe a subsystem to an event type (it needs the right and the clearance). A webhook's
    secret is printed once."""
    from hub.integration.subscriptions import SubscriptionIn

    chosen = [c for c, on in (("webhook", webhook), ("amqp", queue), ("route", route)) if on]
    if len(chosen) != 1:
        console.print("[red]error:[/red] choose exactly one of --webhook URL, --queue NAME or --route")
        raise typer.Exit(2)
    try:
        match_value = json.loads(match) if match else {}
    except json.JSONDecodeError as exc:
        console.print(f"[red]error:[/red] --match is not valid JSON: {exc}")
        raise typer.Exit(2) from exc

    def act(hub: Any) -> None:
        body = SubscriptionIn.model_validate({
            "subscriber": subscriber, "event_type": event_type,
            "filter": {"match": match_value, "fields": field or None},
            "channel": {"type": chosen[0], **({"url": webhook} if webhook else {}),
                        **({"queue": queue} if queue else {})}})
        sub, secret = hub.integration.subscriptions.subscribe(OPERATOR, body)
        shown = {**sub.public(), **({"secret": secret} if secret else {})}
        if as_json:
            print_json(shown)
            return
        console.print(f"subscription {sub.id}: {sub.subscriber} <- {sub.event_type} via {sub.channel}")
        if secret:
            console.print(f"signing secret (shown once): {secret}")

    _run(data_dir, act)


@integration_app.command("subscriptions")
def subscriptions(
    event_type: Annotated[Optional[str], typer.Option(help="Only this event type.")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """List subscriptions (who subscribes to what, by which channel, and their state)."""
    def act(hub: Any) -> None:
        subs = [s.public() for s in hub.integration.subscriptions.list(OPERATOR, event_type=event_type)]
        if as_json:
            print_json(subs)
            return
        table = Table("id", "subscriber", "event type", "channel", "filter", "status")
        for s in subs:
            channel = s["channel"]
            table.add_row(s["id"], s["subscriber"], s["event_type"],
                          " ".join(str(v) for v in channel.values()), json.dumps(s["filter"], ensure_ascii=False),
                          s["status"] + (f" ({s['status_reason']})" if s["status_reason"] else ""))
        console.print(table)

    _run(data_dir, act)


@integration_app.command("events")
def events(
    event_type: Annotated[Optional[str], typer.Option(help="Only this event type.")] = None,
    since: Annotated[Optional[datetime], typer.Option(help="Only events accepted from this time (ISO 8601).")] = None,
    types: Annotated[bool, typer.Option("--types", help="List the published event types instead.")] = False,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Published events and where each went (or, with --types, the event types)."""
    def act(hub: Any) -> None:
        integration = hub.integration
        if types:
            rows = [e.as_dict() for e in integration.catalogue.event_types()]
            if as_json:
                print_json(rows)
                return
            table = Table("event type", "standard", "lead agency", "classification", "subject")
            for e in rows:
                table.add_row(e["event_type"], e["standard"], e["owner_agency"], e["classification"],
                              str(e["subject_field"]))
            console.print(table)
            return
        found = [integration.events.event(OPERATOR, str(m.id))
                 for m in integration.events.events(OPERATOR, event_type=event_type, since=since, limit=1000)]
        if as_json:
            print_json(found)
            return
        table = Table("event", "type", "source", "status", "deliveries")
        for e in found:
            event = e["event"]
            table.add_row(event["id"], event["service"], event["sender"], event["status"],
                          ", ".join(f"{d['subscriber']}: {d['status']}" for d in e["deliveries"]) or "-")
        console.print(table)

    _run(data_dir, act)


@integration_app.command("applications")
def applications(
    application_id: Annotated[Optional[str], typer.Argument(help="One application's tracking id.")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """One-stop applications and each agency's status and answer."""
    def act(hub: Any) -> None:
        service = hub.integration.applications
        found = [service.status(OPERATOR, application_id)] if application_id else service.list(OPERATOR)
        if as_json:
            print_json(found)
            return
        table = Table("tracking id", "type", "applicant", "status", "parts")
        for a in found:
            table.add_row(a["id"], a["application_type"], a["applicant"], a["status"], "\n".join(
                f"{p['part']} ({p['agency']}): {p['status']}" + (f" — {p['reason']}" if p["reason"] else "")
                for p in a["parts"]))
        console.print(table)

    _run(data_dir, act)
