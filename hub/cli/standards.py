"""``hub standards ...``: the registry from the command line.

The CLI works on the hub's own registry (``open_hub``, as ``hub routes`` does), so whoever
runs it is a hub operator and acts as a hub admin; ``--member`` makes it act as one agency instead,
with that agency's rights (only the lead agency of a Back Office system may publish).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer
from rich.table import Table

from hub.cli.common import DataDir, console, fail, open_hub, print_json
from hub.errors import HubError
from hub.schemas.principal import ADMIN, OPERATOR, Principal
from hub.standards.model import ArtefactError, load_folder, split_ref

standards_app = typer.Typer(help="Data standards: list, show, publish, validate, diff, deprecate, docs.",
                            no_args_is_help=True)
Member = Annotated[Optional[str], typer.Option(
    help="Act as this agency (e.g. TH/GOV/OCSC) instead of as a hub admin.")]


@contextmanager
def open_registry(data_dir: Path | None) -> Iterator[Any]:
    """The hub's standards registry, with the published artefacts loaded (warning about any refused)."""
    with open_hub(data_dir) as hub:
        for ref, reason in hub.standards_loaded.refused.items():
            console.print(f"[yellow]warning:[/yellow] published artefact {ref} not loaded: {reason}")
        yield hub.standards


def _principal(member: str | None) -> Principal:
    if member:
        return Principal(subject=f"cli:{member}", roles=frozenset({OPERATOR}), member=member)
    return Principal(subject="cli:operator", roles=frozenset({ADMIN}))


@standards_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
          data_dir: DataDir = None) -> None:
    """List published standards and their versions."""
    with open_registry(data_dir) as registry:
        summaries = registry.summaries()
        if as_json:
            print_json(summaries)
            return
        table = Table("id", "latest", "versions", "system", "owner", "summary")
        for column in table.columns[:3]:
            column.overflow = "fold"
        for s in summaries:
            versions = ", ".join(v["version"] + (" (deprecated)" if v["status"] == "deprecated" else "")
                                 for v in s["versions"])
            table.add_row(s["id"], s["latest"], versions, s["backoffice_system"], s["owner_agency"], s["summary_en"])
        console.print(table)


@standards_app.command()
def show(ref: Annotated[str, typer.Argument(help="ID or ID@VERSION, e.g. th.telework.order@1.0.0")],
         data_dir: DataDir = None) -> None:
    """Show one version's metadata and status (JSON)."""
    standard_id, version = split_ref(ref)
    with open_registry(data_dir) as registry:
        try:
            described = registry.describe(registry.get(standard_id, version))
        except HubError as exc:
            fail(exc)
        described["examples"] = [f"{e['kind']}/{e['name']}" for e in described["examples"]]
        print_json(described)


@standards_app.command()
def publish(folder: Annotated[Path, typer.Argument(help="A standards/<id>/<version>/ folder (standards/README.md).",
                                                   exists=True, file_okay=False)],
            member: Member = None, data_dir: DataDir = None) -> None:
    """Publish a version from a folder; runs the compatibility gate."""
    try:
        version = load_folder(folder.resolve()).with_status(source="cli")
    except (ArtefactError, OSError, orjson.JSONDecodeError) as exc:
        console.print(f"[red]error:[/red] {folder} is not a standard folder: {exc}")
        raise typer.Exit(2) from exc
    with open_registry(data_dir) as registry:
        try:
            result = registry.publish(_principal(member), version)
        except HubError as exc:
            fail(exc)
        if not result.created:
            console.print(f"{result.version.ref} is already published with this content; nothing to do")
            return
        console.print(f"published {result.version.ref}"
                      + (f" (compared with {result.compared_with})" if result.compared_with else ""))
        for change in result.changes:
            console.print(f"  - {change.path}: {change.message} ({change.kind})")


@standards_app.command()
def validate(ref: Annotated[str, typer.Argument(help="ID[@VERSION]; without a version, the latest usable one.")],
             file: Annotated[Path, typer.Argument(help="The document (JSON or XML).", exists=True, dir_okay=False)],
             data_dir: DataDir = None) -> None:
    """Validate a document; exit 0 if valid, 1 with every violation if not."""
    standard_id, version = split_ref(ref)
    raw = file.read_bytes()
    with open_registry(data_dir) as registry:
        try:
            stored = registry.get(standard_id, version)
            if stored.is_json:
                try:
                    document: Any = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    console.print(f"[red]invalid[/red]: {file} is not valid JSON: {exc}")
                    raise typer.Exit(1) from exc
            else:
                document = raw
            _, issues = registry.validate(stored.id, stored.version, document)
        except HubError as exc:
            fail(exc)
    if not issues:
        console.print(f"[green]valid[/green]: {file} conforms to {stored.ref}")
        return
    console.print(f"[red]invalid[/red]: {file} does not conform to {stored.ref} ({len(issues)} violation(s))")
    for issue in issues:
        console.print(f"  - {issue.path}: {issue.message} ({issue.rule})", markup=False)
    raise typer.Exit(1)


@standards_app.command()
def diff(standard_id: Annotated[str, typer.Argument(help="Standard id.")],
         old: Annotated[str, typer.Argument(help="From version.")],
         new: Annotated[str, typer.Argument(help="To version.")],
         data_dir: DataDir = None) -> None:
    """Every change between two versions, breaking ones marked."""
    with open_registry(data_dir) as registry:
        try:
            result = registry.diff(standard_id, old, new)
        except HubError as exc:
            fail(exc)
    table = Table("path", "change", "breaking", "detail")
    for c in result["changes"]:
        table.add_row(c["path"], c["kind"], "[red]yes[/red]" if c["breaking"] else "no", c["message"])
    console.print(table)
    verdict = "backward compatible" if result["compatible"] else "NOT backward compatible"
    console.print(f"{standard_id} {old} -> {new}: {verdict}")


def _sunset(value: str) -> date | datetime:
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO date or date-time") from exc


@standards_app.command()
def deprecate(standard_id: Annotated[str, typer.Argument(help="Standard id.")],
              version: Annotated[str, typer.Argument(help="Version to deprecate.")],
              sunset: Annotated[str, typer.Option(help="ISO date (00:00 Bangkok time) or date-time after which "
                                                       "messages declaring it are refused.")],
              note: Annotated[Optional[str], typer.Option(help="Why, and what to do instead.")] = None,
              replaced_by: Annotated[Optional[str], typer.Option(help="The version to move to.")] = None,
              member: Member = None, data_dir: DataDir = None) -> None:
    """Deprecate a version with a sunset."""
    with open_registry(data_dir) as registry:
        try:
            stored = registry.deprecate(_principal(member), standard_id, version, _sunset(sunset), note=note,
                                        replaced_by=replaced_by)
        except HubError as exc:
            fail(exc)
    console.print(f"{stored.ref} deprecated; sunset {stored.sunset_at.isoformat()}")


@standards_app.command()
def docs(out: Annotated[Path, typer.Option(help="Folder to write the HTML pages to.")] = Path("standards-docs"),
         data_dir: DataDir = None) -> None:
    """Write one HTML page per standard version, and an index."""
    from hub.standards.docs import write_docs

    with open_registry(data_dir) as registry:
        versions = registry.all_versions()
        written = write_docs(out, versions, registry.summaries(), registry.catalogue,
                             past_sunset=lambda v: registry.version_status(v)["past_sunset"])
    console.print(f"wrote {len(written)} pages to {out}/ (open {out / 'index.html'})")
