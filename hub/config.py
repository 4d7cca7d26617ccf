"""Hub settings: one tree, environment prefix ``HUB_``.

``Settings`` holds the core options and two sub-trees, ``security`` (layer 3) and ``ecms``
(the e-CMS node). Every option can be set in code (``build_hub(Settings(security=...))``)
or from the environment, under the variable names the README's configuration table lists:

* core options: ``HUB_<NAME>`` (``HUB_DATA_DIR``, ``HUB_DATABASE_URL``, ...);
* ``security``: ``HUB_<NAME>`` as well (``HUB_TOKEN_TTL_SECONDS``, ``HUB_TRUSTED_PROXIES``, ...),
  the names they had before the tree existed;
* ``ecms``: ``HUB_ECMS_<NAME>`` (``HUB_ECMS_MAX_REQUEST_BYTES``, ``HUB_ECMS_ALLOWLIST``, ...).

List and dict options are JSON (``HUB_TRUSTED_PROXIES='["10.0.0.5"]'``). A sub-tree passed
in code as a model is taken whole (the environment does not touch it); passed as a dict, it
is merged over what the environment says.

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
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import (
    BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError,
)

from hub.errors import ConfigError, FieldError

ENV_PREFIX = "HUB_"


def default_standards_dir() -> Path:
    """The repository's ``standards/`` folder, next to the ``hub`` package.

    The one place that locates it: everything else gets ``Settings.standards_dir`` passed
    down. A source checkout or an editable install finds it here; a deployment that installs
    the package elsewhere sets ``HUB_STANDARDS_DIR``.
    """
    return Path(__file__).resolve().parent.parent / "standards"


class SecuritySettings(BaseModel):
    """Layer 3: tokens, sessions, secrets, client certificates, audit, shared registries."""

    signing_key_file: Path | None = Field(
        None, description="Ed25519 private key (PEM) that signs tokens and audit seals; "
                          "default <data_dir>/keys/hub-ed25519.pem, generated on first start.")
    token_ttl_seconds: int = Field(600, ge=30, le=86400, description="Lifetime of an access token (JWT).")
    session_ttl_seconds: int = Field(8 * 3600, ge=60, description="Lifetime of a person's login session.")
    secret_overlap_seconds: int = Field(
        7 * 86400, ge=0, description="After a secret rotation the old secret keeps working this long.")
    token_issuer: str = Field("backoffice-hub", description="JWT iss and aud claim.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Peer addresses of TLS-terminating proxies whose client-certificate header is trusted.")
    client_cert_header: str = Field(
        "x-ssl-client-cert", description="Header carrying the URL-encoded client certificate PEM "
                                         "(nginx: proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert).")
    audit_unsealed_grace_seconds: float = Field(
        60.0, gt=0, description="`hub audit verify` fails on an entry after the last seal older than this (every "
                                "committed batch is sealed, so only a transaction in flight may be unsealed).")
    seed_catalogue: bool = Field(True, description="Seed the agency registry from the catalogue on first start.")
    shared_data_party: str = Field(
        "TH/GOV/HUB/shared", description="The party the shared registries answer as: HR subsystems need the right "
                                         "hr.person.changed/v1 toward it to report person fields, and a route "
                                         "(receiver this party, adapter person-registry) applies DPIS change capture.")
    person_stale_after_days: float = Field(180, gt=0, description="A person field older than this is marked stale.")
    juristic_stale_after_days: float = Field(365, gt=0, description="A juristic-person record older than this is stale.")
    audit_feed_batch: int = Field(500, ge=1, le=10000, description="Transport events copied into the audit chain "
                                                                    "per transaction.")
    audit_feed_interval_seconds: float = Field(1.0, gt=0, description="How often the audit feed looks for new "
                                                                       "transport events.")
    audit_feed_gap_seconds: float = Field(
        30.0, gt=0, description="How long the feed waits for a missing event id (a transaction still committing) "
                                "before it records the gap in the audit trail and moves past it.")
    audit_feed_idle_max_seconds: float = Field(
        5.0, gt=0, le=300, description="Longest the audit feed sleeps while it finds no new transport events "
                                       "(its lag behind the transport when traffic resumes after a quiet spell).")

    # Secret checks (argon2) cost memory and CPU before the caller is known: bounded here.
    auth_concurrency: int = Field(4, ge=1, le=64, description="Secret checks (argon2) running at once; more wait.")
    auth_wait_seconds: float = Field(5.0, gt=0, description="How long a secret check waits for a free slot before "
                                                            "answering 429 with Retry-After.")
    auth_failures_per_client: int = Field(10, ge=1, description="Failed secret checks per client id or username "
                                                                "within the window before 429.")
    auth_failures_per_address: int = Field(30, ge=1, description="Failed secret checks per source address within "
                                                                 "the window before 429.")
    auth_failure_window_seconds: float = Field(60.0, gt=0, description="The window of those failure limits.")
    audit_anonymous_interval_seconds: float = Field(
        60.0, gt=0, description="Anonymous authentication failures are audited once per source address per this "
                                "interval, with the count of those left out.")

    def key_file(self, data_dir: Path) -> Path:
        return self.signing_key_file or data_dir / "keys" / "hub-ed25519.pem"


class EcmsSettings(BaseModel):
    """The e-CMS node: request limits, federation polling, the address allow-list listener."""

    max_request_bytes: int = Field(64 * 1024 * 1024, gt=0, description="Largest SOAP request (with base64).")
    poll_interval_seconds: float = Field(5.0, gt=0, description="How often federated nodes are polled.")
    # The weaker, address-authenticated listener (hub.api.allowlist): off unless a port is set.
    allowlist_port: int | None = Field(None, ge=1, le=65535, description=(
        "Port of a separate listener serving only /ecms/service2, where a department is authenticated "
        "by its source address alone (weaker; off when unset)."))
    allowlist_host: str | None = Field(None, description="Listen address of that listener (default: HUB_HOST).")
    allowlist: dict[str, str] = Field(default_factory=dict, description=(
        'Source address or CIDR network -> department code, JSON, e.g. {"10.1.2.3/32": "0401"}.'))
    public_url: str | None = Field(None, description=(
        "The node URL deployed clients post to, listed as ECMS-URL in GetOrganizationList, e.g. "
        "http://hub.example.go.th/ecms-ws01/service2 (default: the address the caller used)."))
    signing_key: str | None = Field(None, description=(
        "PEM private key the node signs relayed letters with for clients that require a "
        "ds:Signature (BOI-DMS); default: a key and self-signed certificate made in the data folder."))
    signing_cert: str | None = Field(None, description="PEM certificate of that key.")


# Sub-tree -> (its name in messages, the environment prefix of its options).
SECTIONS: dict[str, tuple[str, str]] = {
    "security": ("security", ENV_PREFIX),
    "ecms": ("e-CMS", f"{ENV_PREFIX}ECMS_"),
}


class _SectionError(SettingsError):
    """A sub-tree's environment value that cannot be decoded (e.g. JSON that is not JSON)."""

    def __init__(self, section: str, cause: SettingsError) -> None:
        super().__init__(f"the {SECTIONS[section][0]} settings are invalid: {cause}")
        self.section = section


class _SectionEnv(PydanticBaseSettingsSource):
    """Reads one sub-tree from flat environment variables (``HUB_ECMS_MAX_REQUEST_BYTES``),
    not pydantic-settings' nested form (``HUB_ECMS__MAX_REQUEST_BYTES``), so the variable
    names stay what deployments already set."""

    def __init__(self, settings_cls: type[BaseSettings], section: str) -> None:
        super().__init__(settings_cls)
        self.section = section
        model = settings_cls.model_fields[section].annotation
        self._env = EnvSettingsSource(model, env_prefix=SECTIONS[section][1], case_sensitive=False)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads the whole sub-tree at once

    def __call__(self) -> dict[str, Any]:
        try:
            values = self._env()
        except SettingsError as exc:
            raise _SectionError(self.section, exc) from exc
        return {self.section: values} if values else {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Field(Path("hub-data"), description="Where the embedded database and broker live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default is a SQLite file in data_dir.")
    broker_url: str | None = Field(None, description="kombu URL; default is an embedded broker in data_dir.")
    queue_name: str = Field("hub.deliver", description="Broker queue the delivery workers consume.")
    max_payload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest accepted payload, in bytes.")
    spool_threshold_bytes: int = Field(
        1024 * 1024, ge=0, description="A message body larger than this is spooled to a file under data_dir while "
                                       "it arrives and its payload stored in pieces, never whole in memory.")
    requeue_after_seconds: float = Field(
        30.0, gt=0, description="A queued or in-flight message not finished by then is handed out again."
    )
    delivery_timeout_seconds: float = Field(30.0, gt=0, description="Timeout of one delivery attempt.")
    worker_concurrency: int = Field(32, ge=1, le=256, description="Deliveries in flight per worker process.")
    relay_interval_seconds: float = Field(0.2, gt=0, description="How often the relay looks for due messages.")
    relay_batch_size: int = Field(500, ge=1, description="Messages the relay hands to the broker per round.")
    idle_max_seconds: float = Field(
        1.0, gt=0, le=60, description="Longest a background loop (relay, delivery worker, inbound scheduler) sleeps "
                                      "while it finds no work; work in the same process wakes it at once.")
    sqlite_synchronous: str = Field(
        "FULL", pattern="^(FULL|NORMAL|EXTRA)$", description="SQLite fsync level; FULL survives power loss."
    )
    standards_dir: Path = Field(
        default_factory=default_standards_dir,
        description="Published data standards (standards/); default: the folder next to the hub package.")
    events_party: str = Field(
        "TH/GOV/HUB/events", description="The party events are published to (Tell Us Once); the hub fans each "
                                         "event out to the subscriptions of its type.")
    webhook_allow_loopback: bool = Field(
        False, description="Allow webhook subscriptions to loopback addresses over plain http (tests, demo).")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    log_level: str = "INFO"
    log_format: str = Field("text", pattern="^(text|json)$",
                            description="Log lines as key=value text or one JSON object per line.")
    # Slow clients hold a connection and its buffers; ``hub serve`` cuts them (hub.api.body_limits).
    header_timeout_seconds: float = Field(10.0, gt=0, description="A request's headers must arrive within this.")
    body_timeout_seconds: float = Field(30.0, gt=0, description="A request body must arrive within this, plus one "
                                                                 "second per 100 KiB it declares or may send.")
    keep_alive_timeout_seconds: int = Field(5, ge=1, description="An idle keep-alive connection is closed after this.")
    accept_concurrency: int = Field(64, ge=1, description="Accepts (POST /v1/messages) in flight per API process.")
    accept_wait_seconds: float = Field(1.0, gt=0, description="How long an accept waits for a slot before 503 with "
                                                              "Retry-After.")
    security: SecuritySettings = Field(default_factory=SecuritySettings, description="Layer 3 (HUB_<NAME>).")
    ecms: EcmsSettings = Field(default_factory=EcmsSettings, description="The e-CMS node (HUB_ECMS_<NAME>).")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sections = tuple(_SectionEnv(settings_cls, section) for section in SECTIONS)
        return init_settings, env_settings, *sections, dotenv_settings, file_secret_settings

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'hub.sqlite3'}"

    @cached_property
    def effective_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir.resolve() / 'broker.sqlite3'}"

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)


def env_name(location: tuple[Any, ...]) -> str:
    """The environment variable of a setting: ``("ecms", "allowlist_port")`` -> ``HUB_ECMS_ALLOWLIST_PORT``."""
    names = [str(part) for part in location if isinstance(part, str)]
    if names and names[0] in SECTIONS and len(names) > 1:
        return SECTIONS[names[0]][1] + names[1].upper()
    return ENV_PREFIX + (names[0].upper() if names else "")


def load_settings(**values: Any) -> Settings:
    """``Settings(**values)`` with the environment, or ``ConfigError`` naming each variable
    that is wrong (for entry points that report a bad configuration instead of a traceback)."""
    try:
        return Settings(**values)
    except _SectionError as exc:
        raise ConfigError(str(exc)) from exc
    except SettingsError as exc:
        raise ConfigError(f"the settings are invalid: {exc}") from exc
    except ValidationError as exc:
        sections = {err["loc"][0] for err in exc.errors() if err["loc"]}
        title = SECTIONS[next(iter(sections))][0] + " " if len(sections) == 1 and sections <= SECTIONS.keys() else ""
        errors = [FieldError(env_name(err["loc"]), err["type"], err["msg"]) for err in exc.errors()]
        raise ConfigError(f"the {title}settings are invalid", errors=errors) from exc
