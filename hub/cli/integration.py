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


# -- issue 15: query services and the unified record -------------------------------------


@integration_app.command("services")
def services(
    name: Annotated[Optional[str], typer.Option(help="Only services of this name, e.g. record.person/v1")] = None,
    provider: Annotated[Optional[str], typer.Option(help="Only this provider subsystem.")] = None,
    publish: Annotated[Optional[str], typer.Option(
        help='Publish (or replace) a query service first, JSON: {"provider", "name", "system", "adapter", '
             '"settings", "timeout_seconds", ...}')] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Query services (request/response across agencies): who answers what, with which limits."""
    from hub.integration.queries import QueryServiceIn

    def act(hub: Any) -> None:
        queries = hub.integration.queries
        if publish:
            queries.publish(OPERATOR, QueryServiceIn.model_validate_json(publish))
        found = [s.as_dict() for s in queries.list(name=name, provider=provider)]
        if as_json:
            print_json(found)
            return
        table = Table("provider", "service", "system", "answered by", "timeout", "cache", "max bytes", "class")
        for s in found:
            table.add_row(s["provider"], s["name"], s["system"], s["adapter"], f"{s['timeout_seconds']:g} s",
                          f"{s['cache_seconds']} s", str(s["max_answer_bytes"]), s["classification"])
        console.print(table)

    _run(data_dir, act)


@integration_app.command("query")
def query(
    provider: Annotated[str, typer.Argument(help="The provider subsystem, e.g. TH/GOV/OCSC/dpis")],
    service: Annotated[str, typer.Argument(help="The query service, e.g. record.person/v1")],
    body: Annotated[str, typer.Option(help="The request, JSON.")] = "{}",
    client: Annotated[Optional[str], typer.Option(help="Call as this consumer subsystem (audited).")] = None,
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """Ask a query service and print its answer (as the hub operator; audited like any call)."""
    try:
        request = json.loads(body)
    except json.JSONDecodeError as exc:
        console.print(f"[red]error:[/red] --body is not valid JSON: {exc}")
        raise typer.Exit(2) from exc

    def act(hub: Any) -> None:
        answer = hub.integration.queries.call(OPERATOR, provider, service, request, client=client)
        if as_json:
            print_json(answer)
            return
        console.print(f"{provider} {service}: answered in {answer['duration_ms']} ms"
                      + (" (cached)" if answer["cached"] else ""))
        console.print_json(json.dumps(answer["answer"], ensure_ascii=False))

    _run(data_dir, act)


@integration_app.command("record")
def record(
    citizen_id: Annotated[str, typer.Argument(help="The citizen ID (13 digits).")],
    fields: Annotated[str, typer.Option(help="Comma-separated field groups of th.integration.record.")] = (
        "person,position,org_unit,telework,letters"),
    purpose: Annotated[str, typer.Option(help="Why you read (recorded in the audit trail).")] = "operator check",
    as_json: JsonOpt = False,
    data_dir: DataDir = None,
) -> None:
    """A citizen's unified record, live from its sources, every field with its provenance (as the
    hub operator: an admin read, audited as one)."""
    from hub.registry import ids

    def act(hub: Any) -> None:
        records = hub.integration.records
        found = records.read(OPERATOR, ids.citizen_id(citizen_id, "/citizen_id"), records.parse_groups(fields),
                             purpose)
        if as_json:
            print_json(found)
            return
        table = Table("field", "value", "source", "observed at", "stale", "class", "conflict rule")
        for name, f in found["fields"].items():
            value = f["value"] if isinstance(f["value"], str) else json.dumps(f["value"], ensure_ascii=False)
            table.add_row(name, value[:80], f"{f['source']['subsystem']} ({f['source']['system']})", f["observed_at"],
                          "yes" if f["stale"] else "no", f["classification"], (f.get("conflict") or {}).get("rule", ""))
        console.print(table)
        for s in found["sources"]:
            if s["outcome"] != "ok":
                console.print(f"[yellow]partial:[/yellow] {s['provider'] or '-'} {s['service']}: {s['outcome']} "
                              f"({s['reason']})")

    _run(data_dir, act)
