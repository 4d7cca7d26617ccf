"""Process-wide logging for the ``hub`` command, and the structured "story" lines.

The story of a message is told by one structured line per step — ``message.accepted``,
``delivery.attempt_failed`` (with the error), ``delivery.dead_lettered``,
``message.replayed``, ``request.refused`` / ``access.refused`` — each with the message id and
route, and ``http.request`` with its duration. They are written through structlog onto the
standard library's loggers (so any handler, pytest's ``caplog`` included, receives them;
``record.msg`` is the event dict) and rendered as ``key=value`` or JSON lines by
:func:`configure`.

What may not reach a log: secrets (keys named like a password, secret, token or
authorization are dropped) and citizen IDs (any 13-digit number is masked, wherever it
appears: an adapter's error message, a URL).
"""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys never written, whatever their value.
SECRET_KEYS = re.compile(r"pass(word)?|secret|token|authorization|cookie|api[_-]?key|citizen_id|user_id", re.I)
# A Thai citizen ID (13 digits) not inside a longer number.
CITIZEN_ID = re.compile(r"(?<!\d)\d{13}(?!\d)")
MASK = "[citizen-id]"


@functools.lru_cache(maxsize=4096)
def _secret(key: str) -> bool:
    """Whether a key is never written. Lines reuse a few dozen keys: the answer is remembered
    rather than searched for again on every line (bounded, for keys out of logged dicts)."""
    return SECRET_KEYS.search(key) is not None


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        # A string shorter than a citizen ID cannot hold one: most values (methods, paths,
        # ids, statuses) skip the regex.
        return CITIZEN_ID.sub(MASK, value) if len(value) >= 13 else value
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if not _secret(str(k))}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: drop secret keys, mask citizen IDs in every value."""
    for key in [k for k in event if _secret(k)]:
        del event[key]
    for key, value in event.items():
        event[key] = _scrub(value)
    return event


def story(name: str) -> Any:
    """A structlog logger writing onto the standard logger ``name`` (no global structlog state
    is needed, so tests and library users see the same records as ``hub serve``)."""
    return structlog.wrap_logger(
        logging.getLogger(name),
        processors=[structlog.contextvars.merge_contextvars, redact,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.stdlib.BoundLogger,
        # Everything is given here, so nothing configured later could change the bound logger;
        # uncached, every ``log.info`` or ``isEnabledFor`` built a new one (a few µs per request).
        cache_logger_on_first_use=True,
    )


def event_of(record: logging.LogRecord) -> dict[str, Any] | None:
    """The event dict of a story line (None for a plain log line): for tests and handlers."""
    return record.msg if isinstance(record.msg, dict) and "event" in record.msg else None


def configure(level: str = "INFO", *, json: bool = False, force: bool = False) -> None:
    """Every line, story or plain (uvicorn, kombu), rendered the same way on stderr:
    ``timestamp level logger event key=value...`` or one JSON object per line.

    Like ``logging.basicConfig``, it leaves alone a process whose logging someone else set up
    (root already has handlers: an embedding application, pytest) unless ``force``.
    """
    root = logging.getLogger()
    if root.handlers and not force:
        return
    pre_chain = [structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                 structlog.processors.TimeStamper(fmt="iso", utc=True)]
    renderer = (structlog.processors.JSONRenderer(ensure_ascii=False) if json
                else structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "logger", "event"],
                                                           drop_missing=True))
    # A story line was redacted when it was logged (``story``); a plain line (uvicorn, kombu)
    # is redacted here, once: redacting every line again in ``processors`` was a quarter of
    # the cost of each story line, of which ``hub serve`` at INFO writes one per request.
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[*pre_chain, structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
        foreign_pre_chain=[*pre_chain, redact],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Per-request access lines drown everything else under load; ``http.request`` (with its
    # duration) replaces them.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
