"""Hub settings: one pydantic-settings class, environment prefix ``HUB_``.

Connection strings:
    HUB_DATABASE_URL  default ``sqlite:///<data_dir>/hub.sqlite3``; ``postgresql+psycopg://...``
    HUB_BROKER_URL    default ``sqla+sqlite:///<data_dir>/broker.sqlite3`` (kombu's SQLAlchemy
                      transport: durable and shared between processes, no server);
                      ``amqp://guest:guest@127.0.0.1:5672//`` for RabbitMQ; ``memory://`` for
                      a single process.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    data_dir: Path = Field(Path("hub-data"), description="Where the embedded database and broker live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default is a SQLite file in data_dir.")
    broker_url: str | None = Field(None, description="kombu URL; default is an embedded broker in data_dir.")
    queue_name: str = Field("hub.deliver", description="Broker queue the delivery workers consume.")
    max_payload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest accepted payload, in bytes.")
    requeue_after_seconds: float = Field(
        30.0, gt=0, description="A queued or in-flight message not finished by then is handed out again."
    )
    delivery_timeout_seconds: float = Field(30.0, gt=0, description="Timeout of one delivery attempt.")
    worker_concurrency: int = Field(32, ge=1, le=256, description="Deliveries in flight per worker process.")
    relay_interval_seconds: float = Field(0.2, gt=0, description="How often the relay looks for due messages.")
    relay_batch_size: int = Field(500, ge=1, description="Messages the relay hands to the broker per round.")
    sqlite_synchronous: str = Field(
        "FULL", pattern="^(FULL|NORMAL|EXTRA)$", description="SQLite fsync level; FULL survives power loss."
    )
    standards_dir: Path | None = Field(
        None, description="Published data standards (standards/); default: the folder next to the hub package."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    log_level: str = "INFO"

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'hub.sqlite3'}"

    @cached_property
    def effective_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir.resolve() / 'broker.sqlite3'}"

    @cached_property
    def effective_standards_dir(self) -> Path:
        from hub.standards.model import default_standards_dir

        return self.standards_dir or default_standards_dir()

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
