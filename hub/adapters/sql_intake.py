"""What the GSMS and e-Office adapters share: they hand a message to a reference system that
keeps it in its own SQL database (``url``), applying each hub message once.

The system owns its tables (``hub sim gsms`` / ``hub sim eoffice`` create them); the adapter
writes the message and its hub id in one transaction, so a second delivery of the same
message (at-least-once) finds the id and changes nothing.
"""
from __future__ import annotations

import threading
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, MetaData, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from hub.adapters.base import PUSH, SEND, Adapter, Health, OutboundMessage
from hub.errors import DeliveryError


class SqlIntakeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, description="SQLAlchemy URL of the system's database, e.g. sqlite:///gsms.sqlite3")


class SqlIntakeAdapter(Adapter):
    """A subclass names its ``metadata``, the ``counted`` table and what ``send`` writes."""

    capabilities = frozenset({SEND, PUSH})
    Settings = SqlIntakeSettings
    metadata: MetaData
    counted: Any  # the table whose rows ``check`` counts
    system = ""

    def __init__(self, settings: SqlIntakeSettings) -> None:
        super().__init__(settings)
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        from hub.db import make_engine

        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.settings.url, pool_size=2)
            return self._engine

    def payload(self, message: OutboundMessage) -> dict[str, Any]:
        try:
            data = orjson.loads(message.payload)
        except orjson.JSONDecodeError as exc:
            raise DeliveryError(f"payload is not JSON: {exc}", permanent=True) from exc
        if not isinstance(data, dict):
            raise DeliveryError("payload is not a JSON object", permanent=True)
        return data

    def write(self, write) -> Any:  # noqa: ANN001 - write(connection) inside one transaction
        try:
            with self.engine.begin() as conn:
                return write(conn)
        except SQLAlchemyError as exc:  # the system down or its tables missing: tried again later
            raise DeliveryError(f"{self.system} database not usable: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0][:200]}") from exc

    def check(self) -> Health:
        try:
            with self.engine.connect() as conn:
                missing = [t for t in self.metadata.sorted_tables if not inspect(conn).has_table(t.name)]
                if missing:
                    return Health(False, f"{self.system} database lacks {', '.join(t.name for t in missing)} "
                                         f"(create it with `hub sim {self.scheme}`)")
                rows = conn.execute(select(func.count()).select_from(self.counted)).scalar_one()
        except SQLAlchemyError as exc:
            return Health(False, f"{self.system} database not usable: {type(exc).__name__}")
        return Health(True, f"{self.system} database: {rows} {self.counted.name} rows")

    def close(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()
