"""``hub adapters ...``: the adapter catalogue, health checks, and polling the inbound side of a route."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hub.cli.common import DataDir, console, open_hub, print_json

adapters_app = typer.Typer(help="Adapters: catalogue, health checks, polling legacy systems.", no_args_is_help=True)


def _settings_summary(schema: dict[str, Any]) -> str:
    """One line per setting: name, type, default or 'required', description."""
    required = set(schema.get("required", []))
    lines = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type") or "|".join(p.get("type", p.get("$ref", "?").rsplit("/", 1)[-1])
                                             for p in prop.get("anyOf", [])) or "object"
        if "enum" in prop:
            kind = "|".join(map(str, prop["enum"]))
        default = "required" if name in required else f"= {json.dumps(prop.get('default'), ensure_ascii=False)}"
        text = f"{name}: {kind} {default}"
        if prop.get("description"):
            text += f" — {prop['description']}"
        lines.append(text)
    return "\n".join(lines) or "(none)"


@adapters_app.command("list")
def list_adapters(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalogue as JSON (full JSON schemas).")] = False,
) -> None:
    """The adapter catalogue: each adapter's capabilities and settings schema."""
    from hub.adapters.registry import AdapterRegistry
    from hub.errors import AdapterError

    registry = AdapterRegistry()
    catalogue, broken = [], []
    for name in registry.names():
        try:
            cls = registry.get(name)
        except AdapterError as exc:  # one broken plug-in must not hide the catalogue
            broken.append((name, exc.message))
            continue
        catalogue.append({"name": name, "capabilities": sorted(cls.capabilities), "summary": cls.summary,
                          "settings": cls.Settings.model_json_schema()})
    if as_json:
        print_json({"adapters": catalogue, "unavailable": dict(broken)})
        return
    table = Table("adapter", "capabilities", "summary", "settings", show_lines=True)
    for item in catalogue:
        table.add_row(item["name"], ", ".join(item["capabilities"]), item["summary"],
                      _settings_summary(item["settings"]))
    for name, reason in broken:
        table.add_row(name, "-", f"[red]unavailable:[/red] {reason}", "")
    console.print(table)


def _route_adapter(route_id: int, data_dir: Path | None):  # noqa: ANN202
    """(hub, route, the route's adapter, not opened yet); the caller closes the hub."""
    hub = open_hub(data_dir)
    try:
        route = hub.router.get(route_id)
        return hub, route, hub.adapters.build(route.adapter, route.settings)
    except BaseException:
        hub.close()
        raise


@adapters_app.command("check")
def check(route_id: Annotated[int, typer.Argument(help="Route id (see `hub routes list`).")],
          data_dir: DataDir = None) -> None:
    """Run the health check of a route's adapter; exit 1 if unhealthy."""
    from hub.errors import HubError

    try:
        hub, route, adapter = _route_adapter(route_id, data_dir)
    except HubError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    try:
        with adapter:
            health = adapter.check()
    finally:
        hub.close()
    mark = "[green]ok[/green]" if health.ok else "[red]unhealthy[/red]"
    console.print(f"route {route.id} ({route.receiver} {route.service} -> {route.adapter}): {mark} — {health.detail}")
    raise typer.Exit(0 if health.ok else 1)


@adapters_app.command("poll")
def poll(route_id: Annotated[int, typer.Argument(help="Route id of a route whose adapter can receive "
                                                       "(capability 'receive' in `hub adapters list`).")],
         every: Annotated[float, typer.Option(help="Repeat every N seconds (0: once).")] = 0.0,
         data_dir: DataDir = None) -> None:
    """The inbound side of a route, polled now: what its system holds for the hub is taken in."""
    from hub.errors import HubError

    try:
        hub = open_hub(data_dir)
    except HubError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    try:
        while True:
            _poll_once(hub, route_id)
            if every <= 0:
                break
            time.sleep(every)
    except HubError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        console.print("polling stopped (Ctrl-C); everything polled so far is committed")
    finally:
        hub.close()


def _poll_once(hub: Any, route_id: int) -> None:
    """One poll through the hub's inbound scheduler, the same as its workers run."""
    report = hub.inbound.poll_route(route_id)
    console.print(report.summary, markup=False)
