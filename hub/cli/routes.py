"""``hub routes ...`` and ``hub replay``: which adapter delivers what, and delivering again."""
from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from hub.cli.common import DataDir, console, fail, open_hub, print_json, table
from hub.errors import HubError

routes_app = typer.Typer(help="Manage routes: which adapter delivers (receiver, service).", no_args_is_help=True)


@routes_app.command("add")
def routes_add(
    receiver: Annotated[str, typer.Argument(help="Receiver party, e.g. TH/GOV/1501/hr")],
    service: Annotated[str, typer.Argument(help="Service, e.g. telework.order/v1, or '*'")],
    adapter: Annotated[str, typer.Argument(help="Adapter name, e.g. http")],
    settings_json: Annotated[str, typer.Option("--settings", help="Adapter settings as JSON.")] = "{}",
    max_attempts: Annotated[int, typer.Option(help="Attempts before dead-lettering.")] = 8,
    max_age_seconds: Annotated[float, typer.Option(help="No attempt after this age.")] = 86400.0,
    backoff_base_seconds: Annotated[float, typer.Option(help="First retry delay.")] = 1.0,
    backoff_max_seconds: Annotated[float, typer.Option(help="Largest retry delay.")] = 300.0,
    require_standard: Annotated[Optional[str], typer.Option(help="Standard messages must declare.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Add a route."""
    from pydantic import ValidationError

    from hub.schemas.validation import validation_failed
    from hub.schemas.routes import RouteIn
    from hub.security.wiring import security_of

    try:
        settings = json.loads(settings_json)
    except json.JSONDecodeError as exc:
        console.print(f"[red]error:[/red] --settings is not valid JSON: {exc}")
        raise typer.Exit(2) from exc
    with open_hub(data_dir) as hub:
        try:
            route_in = RouteIn(
                receiver=receiver, service=service, adapter=adapter, settings=settings, max_attempts=max_attempts,
                max_age_seconds=max_age_seconds, backoff_base_seconds=backoff_base_seconds,
                backoff_max_seconds=backoff_max_seconds, require_standard=require_standard,
            )
            security_of(hub).registry.check_registered(route_in.receiver, pointer="/receiver", role="receiver")
            route = hub.router.add(route_in)
            console.print(f"route {route.id} added: {route.receiver} {route.service} -> {route.adapter}")
        except ValidationError as exc:
            fail(validation_failed(exc, "route"))
        except HubError as exc:
            fail(exc)


@routes_app.command("list")
def routes_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
                data_dir: DataDir = None) -> None:
    """List routes."""
    with open_hub(data_dir) as hub:
        routes = hub.router.list()
    if as_json:
        print_json([r.model_dump(mode="json") for r in routes])
        return
    out = table("id", "receiver", "service", "adapter", "settings", "max attempts")
    for r in routes:
        # Thai in settings (a department's name) is shown as Thai, not as \u0e.. escapes.
        out.add_row(str(r.id), r.receiver, r.service, r.adapter, json.dumps(r.settings, ensure_ascii=False),
                    str(r.max_attempts))
    console.print(out)


@routes_app.command("remove")
def routes_remove(route_id: Annotated[int, typer.Argument(help="Route id (see `hub routes list`).")],
                  data_dir: DataDir = None) -> None:
    """Remove a route."""
    with open_hub(data_dir) as hub:
        try:
            hub.router.remove(route_id)
            console.print(f"route {route_id} removed")
        except HubError as exc:
            fail(exc)


def replay(
    ids: Annotated[list[str], typer.Argument(help="Message ids to deliver again.")],
    data_dir: DataDir = None,
) -> None:
    """Deliver messages again (recorded in their history; originals kept)."""
    with open_hub(data_dir) as hub:
        try:
            for message_id in ids:
                meta = hub.messages.replay(message_id, reason="hub replay")
                console.print(f"{meta.id} -> {meta.status}")
        except HubError as exc:
            fail(exc)
