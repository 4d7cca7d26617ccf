"""Query services: one agency asks another a question and gets the answer synchronously.

A provider subsystem publishes a query service (X-Road's synchronous service call between
members): its name (a service id, ``hr.person.get/v1``), what answers it (an adapter with the
``query`` capability, ``http`` or ``dpis``, built from its settings; or one of the hub's own
answerers: ``person-registry``, ``telework-cases``, ``ecms-letters``), the standards of its
request and answer, its timeout, cache time, answer size limit and classification.

A consumer calls ``POST /v1/query/{provider}/{service}`` with the same deny-by-default rules
as a message: the caller acts for the consumer subsystem, the consumer holds the access right
(service = the query service's name, provider = the provider subsystem), and both the caller
and the consumer are cleared for the service's classification. Every call, granted or not,
is audited as ``query.call`` with the SHA-256 of the request and the answer, the duration and
the outcome. The distinct answers:

* ``403 query_refused``       no right, not acting for the consumer, or not cleared;
* ``404 not_found``           no such query service;
* ``422 validation_failed``   the request does not meet the service's request standard;
* ``502 query_source_error``  the provider refused (its 401/403; audited ``provider_refused``),
                              answered an error, garbage, a body larger than the
                              service's ``max_answer_bytes`` (cut off there), or an answer
                              that does not meet the answer standard;
* ``504 query_timeout``       no answer within the service's timeout.

A query never changes state: the answer is cached only when the service allows
(``cache_seconds``), per request body.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cachetools import TTLCache
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from hub.adapters.base import QUERY, Adapter, QueryAnswer, QueryAnswerError, QueryRequest, QueryTimedOut
from hub.adapters.registry import AdapterRegistry
from hub.clock import as_utc, utcnow
from hub.errors import (
    AdapterError, Conflict, FieldError, Forbidden, HubError, InputError, NotFound, ValidationFailed,
)
from hub.integration.tables import query_services
from hub.registry.agencies import AgencyRegistry
from hub.schemas.envelope import PARTY_PATTERN, SERVICE_PATTERN
from hub.schemas.principal import CLEARANCE_LEVELS, Principal
from hub.security.audit import AuditLog
from hub.security.authz import AccessControl, higher
from hub.standards.registry import StandardsRegistry
from hub.standards.validation import field_errors

log = logging.getLogger(__name__)

LocalAnswerer = Callable[[QueryRequest], QueryAnswer]
MAX_ANSWER_BYTES = 16 * 1024 * 1024
CATALOGUE_SECONDS = 2.0


class QueryRefused(Forbidden):
    code = "query_refused"


class QueryTimeout(HubError):
    status_code = 504
    code = "query_timeout"


class QuerySourceError(HubError):
    status_code = 502
    code = "query_source_error"


class QueryServiceIn(BaseModel):
    """A query service as its provider publishes it."""

    model_config = ConfigDict(extra="forbid")
    provider: str = Field(pattern=PARTY_PATTERN, description="The providing subsystem")
    name: str = Field(pattern=SERVICE_PATTERN, max_length=100, description="The service id, e.g. hr.person.get/v1")
    system: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$",
                        description="The kind of source system (dpis, telework, e-cms, person-registry, ...)")
    adapter: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$",
                         description="An adapter with the query capability, or a hub answerer")
    settings: dict[str, Any] = Field(default_factory=dict, description="The adapter's settings (as a route's)")
    request_standard: str | None = Field(None, pattern=r"^[a-z0-9.-]+(@[0-9.]+)?$", description="id[@version]")
    answer_standard: str | None = Field(None, pattern=r"^[a-z0-9.-]+(@[0-9.]+)?$", description="id[@version]")
    classification: str = Field("001", pattern=r"^00[1-4]$")
    timeout_seconds: float = Field(5.0, gt=0, le=120)
    cache_seconds: int = Field(0, ge=0, le=86400)
    max_answer_bytes: int = Field(1024 * 1024, ge=64, le=MAX_ANSWER_BYTES)


@dataclass(frozen=True)
class QueryService:
    provider: str
    name: str
    system: str
    adapter: str
    settings: dict[str, Any]
    request_standard: str | None
    answer_standard: str | None
    classification: str
    timeout_seconds: float
    cache_seconds: int
    max_answer_bytes: int
    published_by: str
    published_at: datetime

    def as_dict(self) -> dict[str, Any]:
        # Settings may hold an adapter's credentials (headers, database URL): never listed.
        return {"provider": self.provider, "name": self.name, "system": self.system, "adapter": self.adapter,
                "request_standard": self.request_standard, "answer_standard": self.answer_standard,
                "classification": self.classification, "timeout_seconds": self.timeout_seconds,
                "cache_seconds": self.cache_seconds, "max_answer_bytes": self.max_answer_bytes,
                "published_by": self.published_by, "published_at": self.published_at.isoformat()}


def _service(row: Any) -> QueryService:
    return QueryService(row.provider, row.name, row.system, row.adapter, dict(row.settings or {}),
                        row.request_standard, row.answer_standard, row.classification, row.timeout_ms / 1000,
                        row.cache_seconds, row.max_answer_bytes, row.published_by, as_utc(row.published_at))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What one call of a service gave: an answer, or why not (``timeout``, ``refused``, ``error``)."""

    service: QueryService
    outcome: str  # ok | timeout | refused (the provider said 401/403) | error
    answer: QueryAnswer | None
    duration_ms: int
    reason: str | None = None
    answer_sha256: str | None = None


class QueryServices:
    def __init__(self, engine: Engine, adapters: AdapterRegistry, access: AccessControl, registry: AgencyRegistry,
                 audit: AuditLog, standards: StandardsRegistry, *, workers: int = 32) -> None:
        self._engine = engine
        self._adapters = adapters
        self._access = access
        self._registry = registry
        self._audit = audit
        self._standards = standards
        self._local: dict[str, LocalAnswerer] = {}
        self._built: dict[tuple[str, str], tuple[datetime, Adapter]] = {}
        self._caches: dict[tuple[str, str], TTLCache[str, QueryAnswer]] = {}
        # The catalogue is read on every call and every record read; another process's
        # publish is seen within CATALOGUE_SECONDS (as routes are), this process's at once.
        self._catalogue: TTLCache[tuple[str | None, str | None], list[QueryService]] = TTLCache(
            maxsize=1024, ttl=CATALOGUE_SECONDS)
        self._lock = threading.Lock()
        # Answers are awaited with a timeout; a provider that never answers keeps its thread
        # until its own (adapter) timeout, so the pool is larger than the expected fan-out.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="query")

    def add_local(self, name: str, answerer: LocalAnswerer) -> None:
        """One of the hub's own answerers, named in a service's ``adapter``."""
        self._local[name] = answerer

    def local_names(self) -> list[str]:
        return sorted(self._local)

    # -- the catalogue ------------------------------------------------------------------
    def publish(self, principal: Principal, body: QueryServiceIn) -> QueryService:
        """The provider's operator (or a hub admin) publishes or replaces a query service."""
        if not principal.acts_for(body.provider):
            self._audit.record("query.publish", actor=principal.subject, decision="refused", target=body.provider,
                               service=body.name, reason=f"you do not act for {body.provider}")
            raise QueryRefused(f"you do not act for {body.provider}")
        if self._registry.subsystem(body.provider, missing_ok=True) is None:
            raise InputError(f"provider {body.provider} is not a registered subsystem",
                             errors=[FieldError("/provider", "exists", "a registered subsystem id")])
        if body.adapter not in self._local:
            try:
                cls = self._adapters.get(body.adapter)
            except AdapterError as exc:
                raise InputError(str(exc), errors=[FieldError("/adapter", "exists", "an adapter or a hub answerer: "
                                                              + ", ".join(self.local_names()))]) from exc
            if QUERY not in cls.capabilities:
                raise InputError(f"adapter {body.adapter} answers no queries",
                                 errors=[FieldError("/adapter", "query_capability", "an adapter that answers queries")])
            self._adapters.validate_settings(cls, body.settings)
        for member in ("request_standard", "answer_standard"):
            ref = getattr(body, member)
            if ref is not None:
                standard_id, _, version = ref.partition("@")
                try:
                    self._standards.get(standard_id, version or None)
                except NotFound as exc:
                    raise InputError(str(exc), errors=[FieldError(f"/{member}", "published", "a published standard")]
                                     ) from exc
        values = body.model_dump(exclude={"timeout_seconds"})
        values.update(timeout_ms=int(body.timeout_seconds * 1000), published_by=principal.subject,
                      published_at=utcnow())
        with self._engine.begin() as conn:
            conn.execute(delete(query_services).where(query_services.c.provider == body.provider,
                                                      query_services.c.name == body.name))
            try:
                conn.execute(insert(query_services).values(**values))
            except IntegrityError as exc:  # two publishers raced
                raise Conflict(f"{body.provider} {body.name} was published at the same time by another") from exc
        self._forget(body.provider, body.name)
        self._audit.record("query.published", actor=principal.subject, target=body.provider, service=body.name,
                           adapter=body.adapter, system=body.system, classification=body.classification)
        return self.get(body.provider, body.name)

    def unpublish(self, principal: Principal, provider: str, name: str) -> None:
        if not principal.acts_for(provider):
            raise QueryRefused(f"you do not act for {provider}")
        with self._engine.begin() as conn:
            gone = conn.execute(delete(query_services).where(query_services.c.provider == provider,
                                                             query_services.c.name == name)).rowcount
        if not gone:
            raise NotFound(f"no query service {name} at {provider}")
        self._forget(provider, name)
        self._audit.record("query.unpublished", actor=principal.subject, target=provider, service=name)

    def list(self, *, name: str | None = None, provider: str | None = None) -> list[QueryService]:
        with self._lock:
            found = self._catalogue.get((name, provider))
        if found is None:
            found = self._list_uncached(name, provider)
            with self._lock:
                self._catalogue[(name, provider)] = found
        return list(found)

    def _list_uncached(self, name: str | None, provider: str | None) -> list[QueryService]:
        query = select(query_services).order_by(query_services.c.provider, query_services.c.name)
        if name is not None:
            query = query.where(query_services.c.name == name)
        if provider is not None:
            query = query.where(query_services.c.provider == provider)
        with self._engine.connect() as conn:
            return [_service(r) for r in conn.execute(query).all()]

    def visible(self, principal: Principal, *, name: str | None = None,
                provider: str | None = None) -> list[QueryService]:
        """The services ``principal`` provides or may call (admins: all); settings never leave here."""
        found = self.list(name=name, provider=provider)
        if principal.is_admin:
            return found
        clients = sorted(principal.subsystems)
        return [s for s in found if principal.acts_for(s.provider)
                or any(self._access.holds_right(c, s.name, s.provider) for c in clients)]

    def get(self, provider: str, name: str) -> QueryService:
        found = self.list(name=name, provider=provider)
        if not found:
            raise NotFound(f"no query service {name} at {provider}")
        return found[0]

    def _forget(self, provider: str, name: str) -> None:
        with self._lock:
            self._catalogue.clear()
            built = self._built.pop((provider, name), None)
            self._caches.pop((provider, name), None)
        if built is not None:
            built[1].close()

    # -- answering ----------------------------------------------------------------------
    def _answerer(self, service: QueryService) -> LocalAnswerer:
        local = self._local.get(service.adapter)
        if local is not None:
            return local
        key = (service.provider, service.name)
        with self._lock:
            built = self._built.get(key)
            if built is None or built[0] != service.published_at:
                if built is not None:
                    built[1].close()
                built = (service.published_at, self._adapters.build(service.adapter, service.settings))
                self._built[key] = built
        return built[1].query

    def start(self, service: QueryService, request: QueryRequest) -> Future[QueryAnswer]:
        """Ask ``service`` in the background (for a fan-out); ``finish`` waits for it."""
        try:
            answerer = self._answerer(service)
        except HubError as exc:  # e.g. its adapter's plug-in is gone: a source error, not a failed read
            failed: Future[QueryAnswer] = Future()
            failed.set_exception(QueryAnswerError(f"cannot ask {service.provider} {service.name}: {exc}"))
            return failed
        return self._pool.submit(answerer, request)

    def finish(self, service: QueryService, future: Future[QueryAnswer], started: float) -> Outcome:
        """Wait for ``future`` until ``started`` + the service's timeout; never raises."""
        remaining = max(0.0, started + service.timeout_seconds - time.perf_counter())
        try:
            answer = future.result(timeout=remaining)
        except (FutureTimeout, QueryTimedOut) as exc:
            future.cancel()
            reason = str(exc) if isinstance(exc, QueryTimedOut) else \
                f"no answer within the service's timeout of {service.timeout_seconds} s"
            return Outcome(service, "timeout", None, _ms(started), reason)
        except (QueryAnswerError, HubError) as exc:
            # A provider that says no (401/403) refused: the caller hears so, not "it broke".
            refused = exc.extra.get("status_code") in (401, 403)
            return Outcome(service, "refused" if refused else "error", None, _ms(started), str(exc))
        except Exception as exc:  # noqa: BLE001 - a provider's failure is reported, never raised through
            log.warning("query %s at %s failed", service.name, service.provider, exc_info=True)
            return Outcome(service, "error", None, _ms(started), f"{type(exc).__name__}: {exc}")
        encoded = orjson.dumps(answer.body)
        if len(encoded) > service.max_answer_bytes:
            return Outcome(service, "error", None, _ms(started),
                           f"the answer of {len(encoded)} bytes exceeds the service's limit of "
                           f"{service.max_answer_bytes} bytes")
        return Outcome(service, "ok", answer, _ms(started), answer_sha256=sha256(encoded))

    def ask(self, service: QueryService, request: QueryRequest) -> Outcome:
        started = time.perf_counter()
        return self.finish(service, self.start(service, request), started)

    # -- a consumer's call ----------------------------------------------------------------
    def call(self, principal: Principal, provider: str, name: str, body: dict[str, Any], *,
             client: str | None = None) -> dict[str, Any]:
        """Answer ``body`` from ``name`` at ``provider`` for ``client`` (see the module docstring)."""
        started = time.perf_counter()
        raw = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        request_sha = sha256(raw)
        client = client or _own_subsystem(principal) or (principal.subject if principal.is_admin else None)
        detail: dict[str, Any] = {"client": client, "service": name, "request_sha256": request_sha}
        service = self.list(name=name, provider=provider)
        reason = None
        if client is None:
            reason = "name the consumer subsystem you call as (client)"
        elif not principal.acts_for(client):
            reason = f"you do not act for {client}"
        elif not service:
            self._audit.record("query.call", actor=principal.subject, decision="refused", target=provider,
                               outcome="unknown_service", duration_ms=_ms(started), **detail)
            raise NotFound(f"no query service {name} at {provider}")
        elif not principal.is_admin and not self._access.holds_right(client, name, provider):
            reason = f"{client} holds no access right to {name} at {provider}"
        elif higher(service[0].classification, principal.clearance):
            reason = f"the service is classified {service[0].classification}; you are cleared up to {principal.clearance}"
        elif not principal.is_admin and higher(service[0].classification, self._registry.clearance_of(client)):
            reason = (f"the service is classified {service[0].classification}; {client} is cleared up to "
                      f"{self._registry.clearance_of(client)}")
        if reason is not None:
            self._audit.record("query.call", actor=principal.subject, decision="refused", target=provider,
                               outcome="refused", reason=reason, duration_ms=_ms(started), **detail)
            raise QueryRefused(reason)
        svc = service[0]
        self._check_standard(svc.request_standard, body, "")
        cache = self._cache(svc)
        answer = cache.get(request_sha) if cache is not None else None
        cached = answer is not None
        if answer is None:
            clearance = principal.clearance if principal.is_admin else min(
                principal.clearance, self._registry.clearance_of(client), key=CLEARANCE_LEVELS.index)
            outcome = self.ask(svc, QueryRequest(name, client, body, svc.timeout_seconds, svc.max_answer_bytes,
                                                 clearance))
            if outcome.answer is None:
                kind = {"timeout": "timeout", "refused": "provider_refused"}.get(outcome.outcome, "provider_error")
                self._audit.record("query.call", actor=principal.subject, decision="granted", target=provider,
                                   outcome=kind, reason=outcome.reason, duration_ms=outcome.duration_ms, **detail)
                error = QueryTimeout if kind == "timeout" else QuerySourceError
                raise error(f"{provider} {name}: {outcome.reason}", provider=provider, service=name)
            answer = outcome.answer
            try:
                self._check_standard(svc.answer_standard, answer.body, "/answer")
            except ValidationFailed as exc:
                self._audit.record("query.call", actor=principal.subject, decision="granted", target=provider,
                                   outcome="provider_error", reason="answer breaks its standard",
                                   duration_ms=outcome.duration_ms, **detail)
                raise QuerySourceError(f"{provider} {name} answered a document that breaks {svc.answer_standard}",
                                       errors=exc.errors, provider=provider, service=name) from exc
            if cache is not None:
                cache[request_sha] = answer
        answer_sha = sha256(orjson.dumps(answer.body))
        duration = _ms(started)
        self._audit.record("query.call", actor=principal.subject, decision="granted", target=provider,
                           outcome="ok", answer_sha256=answer_sha, duration_ms=duration, cached=cached, **detail)
        return {"provider": provider, "service": name, "client": client, "answer": answer.body,
                "observed_at": answer.observed_at, "cached": cached, "duration_ms": duration,
                "request_sha256": request_sha, "answer_sha256": answer_sha}

    def _cache(self, service: QueryService) -> TTLCache[str, QueryAnswer] | None:
        if service.cache_seconds <= 0:
            return None
        key = (service.provider, service.name)
        with self._lock:
            cache = self._caches.get(key)
            if cache is None:
                cache = self._caches[key] = TTLCache(maxsize=4096, ttl=service.cache_seconds)
            return cache

    def _check_standard(self, ref: str | None, document: Any, at: str) -> None:
        if ref is None:
            return
        standard_id, _, version = ref.partition("@")
        standard, issues = self._standards.validate(standard_id, version or None, document)
        if issues:
            raise ValidationFailed(f"the document does not meet {standard.ref}",
                                   errors=field_errors(issues, at))

    def close(self) -> None:
        with self._lock:
            built, self._built = list(self._built.values()), {}
        for _, adapter in built:
            adapter.close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _own_subsystem(principal: Principal) -> str | None:
    return next(iter(principal.subsystems)) if len(principal.subsystems) == 1 else None
