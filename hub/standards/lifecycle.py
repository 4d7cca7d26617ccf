"""When a published version stops being usable: deprecation with a sunset.

A deprecated version is still accepted until its sunset; from the sunset on, messages
declaring it are refused at the edge (:mod:`hub.standards.edge`), and "the latest version"
of a standard skips it (:mod:`hub.standards.store`, :mod:`hub.standards.listing`).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dtime

from hub.clock import as_utc
from hub.standards.model import DEPRECATED, StandardVersion

# Thailand has no daylight saving: a fixed +07:00 needs no tz database on the host.
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")


def sunset_moment(value: date | datetime) -> datetime:
    """A date means the start of that day in Bangkok; a naive datetime is taken as UTC."""
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.combine(value, dtime(0), BANGKOK).astimezone(UTC)


def past_sunset(version: StandardVersion, now: datetime) -> bool:
    return version.status == DEPRECATED and version.sunset_at is not None and now >= version.sunset_at


def newest_usable(versions: list[StandardVersion], now: datetime) -> StandardVersion:
    """The newest of ``versions`` (oldest first) not past its sunset; the newest one if all are."""
    usable = [v for v in versions if not past_sunset(v, now)]
    return (usable or versions)[-1]
