"""Validation at the edge: a message that declares a standard is checked before it is stored.

:meth:`EdgeValidator.validate_envelope` is registered with ``MessageService.add_validator``
(``hub/bootstrap.py``), so it runs on the hot path of every accepted message. Compiled
validators (:mod:`hub.standards.validation`) are cached per ``id@version``: a version's
content is immutable, so a compiled validator never goes stale. Its deprecation status can
change, in another process too (``hub standards deprecate``), so it is never answered from
once ``STATUS_TTL_SECONDS`` old: a deprecation takes effect without a restart. While messages
use a standard its status is re-read in the background before that (``hub.refresh_ahead``),
by a read that takes no lock (``hub.db.reading``): the status read used to run on the accept
path's event loop every two seconds, and on SQLite it queued behind the group commit for the
write lock, holding every request in the process meanwhile.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.clock import utcnow
from hub.errors import FieldError, NotFound, ValidationFailed
from hub.refresh_ahead import RefreshAhead
from hub.schemas.envelope import XML_TYPES, Envelope
from hub.standards.lifecycle import past_sunset
from hub.standards.model import StandardVersion, split_ref
from hub.standards.safexml import XmlError, UnsafeXmlError, XmlSyntaxError, parse_xml
from hub.standards.store import StandardsStore
from hub.standards.validation import Issue, JsonDocumentValidator, XmlDocumentValidator, compile_validator, field_errors

STATUS_TTL_SECONDS = 2.0


def check_undeclared_xml(env: Envelope) -> None:
    """XML that declares no standard is still parsed with the hub's safe parser before it is
    stored: a DOCTYPE, an entity declaration or malformed XML would otherwise be kept and
    forwarded to the receiver as it came (issue 12, finding 9)."""
    payload = env.payload if isinstance(env.payload, str) else ""
    try:
        parse_xml(payload, max_bytes=max(len(payload) * 4, 1), max_depth=200, max_attributes=1024)
    except XmlSyntaxError as exc:
        where = f" (line {exc.line}, column {exc.column})" if exc.line else ""
        raise ValidationFailed(f"the XML payload is not well-formed{where}: {exc}",
                               errors=[FieldError("/payload", "xml_well_formed", f"well-formed XML; {exc}")]) from exc
    except UnsafeXmlError as exc:
        raise ValidationFailed(f"the XML payload is refused: {exc}",
                               errors=[FieldError("/payload", f"xml_{exc.reason}", str(exc))]) from exc
    except XmlError as exc:
        raise ValidationFailed(f"the XML payload is refused: {exc}",
                               errors=[FieldError("/payload", "xml", str(exc))]) from exc


@dataclass(frozen=True)
class _Compiled:
    version: StandardVersion
    validator: JsonDocumentValidator | XmlDocumentValidator


# Standards a process validates against at once; more only costs a re-read.
STATUS_CACHE_SIZE = 1024


class EdgeValidator:
    def __init__(self, store: StandardsStore, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        # Compiled validators, kept for good (a version's content never changes) ...
        self._validators: dict[str, _Compiled] = {}
        # ... and each version's current status with its validator, re-read while in use.
        self._compiled: RefreshAhead[str, _Compiled] = RefreshAhead(
            self._load, ttl=STATUS_TTL_SECONDS, maxsize=STATUS_CACHE_SIZE)

    def remember(self, stored: StandardVersion, validator: JsonDocumentValidator | XmlDocumentValidator) -> None:
        """Cache the validator compiled while publishing, so the first message need not compile it again."""
        with self._lock:
            self._validators[stored.ref] = _Compiled(stored, validator)

    def forget(self, ref: str) -> None:
        """Drop cached statuses at once (after a deprecation in this process), not after the TTL."""
        self._compiled.clear()

    def _load(self, ref: str) -> _Compiled:
        with self._lock:
            known = self._validators.get(ref)
        if known is not None:
            # Content is immutable; only the deprecation columns can have changed elsewhere.
            return _Compiled(self._store.status_of(known.version), known.validator)
        stored = self._store.get(*split_ref(ref))
        compiled = _Compiled(stored, compile_validator(stored))
        with self._lock:
            self._validators[ref] = compiled
        return compiled

    def _compiled_for(self, standard_id: str, version: str) -> _Compiled:
        ref = f"{standard_id}@{version}"
        return self._compiled.get(ref) or self._compiled.load_now(ref)

    def validate(self, standard_id: str, version: str | None, document: Any) -> tuple[StandardVersion, list[Issue]]:
        """Check a document; the answer lists every violation (empty when valid)."""
        if version is None:
            version = self._store.get(standard_id).version
        entry = self._compiled_for(standard_id, version)
        return entry.version, entry.validator.validate(document)

    def validate_envelope(self, env: Envelope) -> None:
        """The edge check ``MessageService.accept`` runs before storing a message.

        Cheap on the hot path: one dict lookup for the cached validator, a status re-read at
        most every STATUS_TTL_SECONDS per standard, then the validation itself.
        """
        if env.standard is None:
            if env.content_type in XML_TYPES:
                check_undeclared_xml(env)
            return
        standard_id, version = split_ref(env.standard)
        if version is None:  # the envelope's pattern requires id@X.Y.Z; kept for direct callers
            raise ValidationFailed(f"standard {env.standard!r} must name a version (id@X.Y.Z)",
                                   errors=[FieldError("/standard", "pattern", "id@MAJOR.MINOR.PATCH")])
        try:
            entry = self._compiled_for(standard_id, version)
        except NotFound as exc:
            raise ValidationFailed(
                f"the message declares standard {env.standard}, which is not published in this hub",
                errors=[FieldError("/standard", "unknown_standard",
                                   f"{env.standard} is not published; see GET /v1/standards")],
            ) from exc
        stored = entry.version
        if past_sunset(stored, self._clock()):
            hint = f"; use {stored.id}@{stored.replaced_by}" if stored.replaced_by else ""
            raise ValidationFailed(
                f"standard {env.standard} was deprecated and its sunset ({stored.sunset_at.isoformat()}) has "
                f"passed{hint}",
                errors=[FieldError("/standard", "sunset", f"{env.standard} is past its sunset{hint}")],
            )
        declared_xml = env.content_type in XML_TYPES
        if declared_xml == stored.is_json:
            raise ValidationFailed(
                f"standard {env.standard} is {stored.content_type}, the message says {env.content_type}",
                errors=[FieldError("/content_type", "standard_content_type", f"expected {stored.content_type}")],
            )
        issues = entry.validator.validate(env.payload)
        if issues:
            errors = field_errors(issues, "/payload")
            raise ValidationFailed(
                f"the payload does not conform to {env.standard}: {len(issues)} violation(s)",
                errors=errors, standard=env.standard,
            )
