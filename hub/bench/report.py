"""The bench's table (rich) and JSON."""
from __future__ import annotations

from typing import Any

from rich.table import Table

from hub.bench.runner import Results


def _num(value: Any, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def table(results: Results) -> Table:
    t = Table(title="hub bench (every figure next to a baseline measured in the same run)")
    for name, justify in (("scenario", "left"), ("backend", "left"), ("msg/s", "right"), ("p50 ms", "right"),
                          ("p95 ms", "right"), ("p99 ms", "right"), ("CPU %", "right"),
                          ("CPU ms/msg", "right"), ("peak RSS MiB", "right"),
                          ("baseline", "left"), ("baseline msg/s", "right"), ("ratio", "right"),
                          ("target", "left")):
        t.add_column(name, justify=justify)
    for row in results.rows:
        latency = row.get("latency") or {}
        extra = ""
        if "rss_growth_x_payload" in row:
            extra = f"accept {row['accept_seconds']} s, delivered {row['delivered_seconds']} s, " \
                    f"RSS +{row['rss_growth_x_payload']}× payload"
        if "refused" in row:
            extra = f"sent {row['sent']:,}, refused 503+Retry-After {row['refused']:,} " \
                    f"(p99 {_num(row['refused_latency'].get('p99'), 1)} ms)"
        t.add_row(
            row["scenario"], row["backend"], _num(row.get("per_second")), _num(latency.get("p50"), 1),
            _num(latency.get("p95"), 1), _num(latency.get("p99"), 1), _num(row.get("cpu_percent")),
            _num(row.get("cpu_ms_per_message"), 2),
            _num(row.get("rss_peak_mib")), row.get("baseline") or extra, _num(row.get("baseline_per_second")),
            _num(row.get("ratio"), 2), row.get("target") or "",
        )
    return t


def as_json(results: Results) -> dict[str, Any]:
    return {"machine": results.machine, "options": results.options, "skipped": results.skipped,
            "results": results.rows}
