"""The overview's charts over time, drawn as our own SVG (no script library, no CDN).

From the message events of the window: per time bucket, messages accepted (throughput),
failed attempts (retries) and dead letters; and the backlog at the end of each bucket,
walked back from today's backlog (each later acceptance or replay was not yet waiting then,
each later delivery or dead letter was still waiting). Optionally for some receivers only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, or_, select

from hub.clock import as_utc, utcnow
from hub.transport.messages import UNFINISHED
from hub.transport.tables import message_events, messages

BUCKETS = 24
WIDTH, HEIGHT, LEFT, BOTTOM = 600, 140, 44, 22
# Events that end a message's wait; "replayed" starts one again (a receiver's later outcome
# arrives for a message already delivered, so it does not change the backlog).
ENDS_WAIT = ("delivered", "dead_lettered")


@dataclass(frozen=True)
class Chart:
    key: str  # the i18n key of its title
    values: list[int]
    starts: list[datetime]
    kind: str  # "bars" per bucket, or "line" for a level

    def svg(self) -> dict[str, Any]:
        """Coordinates for the template: bars or a polyline, the top value and three time marks."""
        top = max(self.values, default=0) or 1
        plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM
        step = plot_w / max(len(self.values), 1)
        bars, points = [], []
        for i, value in enumerate(self.values):
            h = plot_h * value / top
            bars.append({"x": round(LEFT + i * step + 1, 1), "y": round(plot_h - h, 1), "w": round(step - 2, 1),
                         "h": round(h, 1), "value": value, "at": self.starts[i]})
            points.append(f"{LEFT + (i + .5) * step:.1f},{plot_h - h:.1f}")
        marks = [(LEFT + i * step, self.starts[i]) for i in (0, len(self.starts) // 2) if self.starts] + (
            [(WIDTH, self.starts[-1] + (self.starts[1] - self.starts[0]))] if len(self.starts) > 1 else [])
        return {"bars": bars, "points": " ".join(points), "top": max(self.values, default=0), "width": WIDTH,
                "height": HEIGHT, "left": LEFT, "plot_h": plot_h, "marks": marks, "total": sum(self.values)}


def over_time(engine: Engine, *, receivers: list[str] | None = None, member: str | None = None, hours: int = 24,
              now: datetime | None = None) -> list[Chart]:
    """Throughput, backlog, retries and dead letters over the last ``hours`` (all receivers, or
    only ``receivers``, an empty list meaning none; or only messages a ``member``'s subsystems
    sent or received, what an agency operator may see)."""
    now = now or utcnow()
    start = now - timedelta(hours=hours)
    size = timedelta(hours=hours) / BUCKETS
    starts = [start + i * size for i in range(BUCKETS)]
    counts = {kind: [0] * BUCKETS for kind in ("accepted", "attempt_failed", "dead_lettered")}
    delta = [0] * BUCKETS  # change of the backlog within each bucket
    if receivers == []:
        return _charts(counts, [0] * BUCKETS, starts)
    query = (select(message_events.c.at, message_events.c.kind)
             .select_from(message_events.join(messages, messages.c.id == message_events.c.message_id))
             .where(message_events.c.at >= start))
    waiting = select(func.count()).select_from(messages).where(messages.c.status.in_(UNFINISHED))
    if receivers is not None:
        query = query.where(messages.c.receiver.in_(receivers))
        waiting = waiting.where(messages.c.receiver.in_(receivers))
    if member is not None:
        own = or_(*(column.startswith(f"{member}/", autoescape=True) for column in (messages.c.sender,
                                                                                   messages.c.receiver)))
        query, waiting = query.where(own), waiting.where(own)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        backlog_now = conn.execute(waiting).scalar_one()
    for at, kind in rows:
        index = min(int((as_utc(at) - start) / size), BUCKETS - 1)
        if kind in counts:
            counts[kind][index] += 1
        if kind in ("accepted", "replayed"):
            delta[index] += 1
        elif kind in ENDS_WAIT:
            delta[index] -= 1
    # The level at the end of bucket i is today's level less every change after bucket i.
    backlog, level = [0] * BUCKETS, backlog_now
    for i in range(BUCKETS - 1, -1, -1):
        backlog[i] = max(level, 0)
        level -= delta[i]
    return _charts(counts, backlog, starts)


def _charts(counts: dict[str, list[int]], backlog: list[int], starts: list[datetime]) -> list[Chart]:
    return [Chart("throughput", counts["accepted"], starts, "bars"), Chart("backlog", backlog, starts, "line"),
            Chart("retries", counts["attempt_failed"], starts, "bars"),
            Chart("dead", counts["dead_lettered"], starts, "bars")]
