"""``hub bench``: start servers on loopback, drive them from a separate process, report ratios."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer

from hub.cli.common import wide_console

BACKENDS = ("embedded", "postgres+rabbitmq")


def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Short runs (about a minute in all).")] = False,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the results as JSON here.")] = None,
    duration: Annotated[Optional[float], typer.Option(help="Seconds per load run.")] = None,
    concurrency: Annotated[int, typer.Option(help="Connections of the load generator.")] = 32,
    payload_bytes: Annotated[int, typer.Option(help="Payload size of ingest and end-to-end.")] = 2048,
    large_mib: Annotated[int, typer.Option(help="Size of the large-payload scenario.")] = 50,
    workers: Annotated[int, typer.Option(help="Delivery processes for end-to-end (serve + N-1 workers).")] = 2,
    backend: Annotated[Optional[list[str]], typer.Option(help=f"Backends to run: {', '.join(BACKENDS)}.")] = None,
    scenario: Annotated[Optional[list[str]], typer.Option(
        help="Scenarios to run (repeatable): ingest, end-to-end, drain, fan-out, large, e-cms, idle, record, auth-flood, scale-out; "
             "default all (scale-out only with --api-processes above 1).")] = None,
    api_processes: Annotated[int, typer.Option(
        min=1, help="Scale-out: end-to-end with 1..N `hub serve --workers k` API processes and --workers "
                    "worker processes each.")] = 1,
) -> None:
    """Throughput and latency of the hub, each next to its own stack's baseline."""
    try:
        import aiohttp  # noqa: F401
    except ImportError as exc:
        raise typer.BadParameter("hub bench needs its extra: pip install 'backoffice-hub[bench]'") from exc
    from hub.bench.report import as_json, table
    from hub.bench.runner import SCENARIOS, Options, Runner

    chosen = tuple(backend or BACKENDS)
    unknown = [b for b in chosen if b not in BACKENDS]
    if unknown:
        raise typer.BadParameter(f"unknown backend(s) {unknown}; choose from {list(BACKENDS)}")
    wrong = [s for s in scenario or () if s not in SCENARIOS]
    if wrong:
        raise typer.BadParameter(f"unknown scenario(s) {wrong}; choose from {list(SCENARIOS)}")
    # A quick run keeps end-to-end loads long enough (8 s) for delivery to reach its steady state.
    options = Options(duration=duration or (2.0 if quick else 10.0), concurrency=concurrency,
                      payload_bytes=payload_bytes, large_mib=large_mib, workers=workers, backends=chosen,
                      scenarios=tuple(scenario or ()), api_processes=api_processes,
                      steady_seconds=0.0 if duration else 8.0)
    console = wide_console(200)  # the results table has many columns
    with console.status("benchmarking") as status:
        results = Runner(options, progress=lambda text: status.update(f"benchmarking: {text}")).run()
    console.print(table(results))
    for name, reason in results.skipped.items():
        console.print(f"[yellow]skipped {name}: {reason}[/yellow]")
    if json_path:
        json_path.write_bytes(orjson.dumps(as_json(results), option=orjson.OPT_INDENT_2))
        console.print(f"results written to {json_path}")
