"""The one settings tree: every variable of the README's configuration table lands where it
belongs, with the names deployments already use, and bad values are named."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hub.config import EcmsSettings, SecuritySettings, Settings, default_standards_dir, load_settings
from hub.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"

# variable -> (value in the environment, where it lands in the tree, the value there)
ENVIRONMENT: dict[str, tuple[str, tuple[str, ...], Any]] = {
    "HUB_DATA_DIR": ("/srv/hub", ("data_dir",), Path("/srv/hub")),
    "HUB_DATABASE_URL": ("postgresql+psycopg://hub@db/hub", ("database_url",), "postgresql+psycopg://hub@db/hub"),
    "HUB_BROKER_URL": ("amqp://guest:guest@mq:5672//", ("broker_url",), "amqp://guest:guest@mq:5672//"),
    "HUB_QUEUE_NAME": ("hub.other", ("queue_name",), "hub.other"),
    "HUB_MAX_PAYLOAD_BYTES": ("2048", ("max_payload_bytes",), 2048),
    "HUB_SPOOL_THRESHOLD_BYTES": ("4096", ("spool_threshold_bytes",), 4096),
    "HUB_REQUEUE_AFTER_SECONDS": ("12.5", ("requeue_after_seconds",), 12.5),
    "HUB_DELIVERY_TIMEOUT_SECONDS": ("7", ("delivery_timeout_seconds",), 7.0),
    "HUB_WORKER_CONCURRENCY": ("4", ("worker_concurrency",), 4),
    "HUB_RELAY_INTERVAL_SECONDS": ("0.5", ("relay_interval_seconds",), 0.5),
    "HUB_SQLITE_SYNCHRONOUS": ("NORMAL", ("sqlite_synchronous",), "NORMAL"),
    "HUB_HOST": ("0.0.0.0", ("host",), "0.0.0.0"),  # noqa: S104
    "HUB_PORT": ("9000", ("port",), 9000),
    "HUB_LOG_LEVEL": ("DEBUG", ("log_level",), "DEBUG"),
    "HUB_LOG_FORMAT": ("json", ("log_format",), "json"),
    "HUB_HEADER_TIMEOUT_SECONDS": ("4", ("header_timeout_seconds",), 4.0),
    "HUB_BODY_TIMEOUT_SECONDS": ("12", ("body_timeout_seconds",), 12.0),
    "HUB_KEEP_ALIVE_TIMEOUT_SECONDS": ("3", ("keep_alive_timeout_seconds",), 3),
    "HUB_ACCEPT_CONCURRENCY": ("9", ("accept_concurrency",), 9),
    "HUB_ACCEPT_WAIT_SECONDS": ("0.5", ("accept_wait_seconds",), 0.5),
    "HUB_STANDARDS_DIR": ("/opt/standards", ("standards_dir",), Path("/opt/standards")),
    "HUB_RELAY_BATCH_SIZE": ("50", ("relay_batch_size",), 50),
    "HUB_IDLE_MAX_SECONDS": ("3", ("idle_max_seconds",), 3.0),
    "HUB_SIGNING_KEY_FILE": ("/run/keys/hub.pem", ("security", "signing_key_file"), Path("/run/keys/hub.pem")),
    "HUB_TOKEN_TTL_SECONDS": ("120", ("security", "token_ttl_seconds"), 120),
    "HUB_SESSION_TTL_SECONDS": ("3600", ("security", "session_ttl_seconds"), 3600),
    "HUB_SECRET_OVERLAP_SECONDS": ("60", ("security", "secret_overlap_seconds"), 60),
    "HUB_TOKEN_ISSUER": ("other-hub", ("security", "token_issuer"), "other-hub"),
    "HUB_TRUSTED_PROXIES": ('["10.0.0.5", "10.0.0.6"]', ("security", "trusted_proxies"), ["10.0.0.5", "10.0.0.6"]),
    "HUB_CLIENT_CERT_HEADER": ("x-client-cert", ("security", "client_cert_header"), "x-client-cert"),
    "HUB_AUDIT_UNSEALED_GRACE_SECONDS": ("7", ("security", "audit_unsealed_grace_seconds"), 7.0),
    "HUB_SEED_CATALOGUE": ("false", ("security", "seed_catalogue"), False),
    "HUB_SHARED_DATA_PARTY": ("TH/GOV/X/shared", ("security", "shared_data_party"), "TH/GOV/X/shared"),
    "HUB_PERSON_STALE_AFTER_DAYS": ("30", ("security", "person_stale_after_days"), 30.0),
    "HUB_JURISTIC_STALE_AFTER_DAYS": ("40", ("security", "juristic_stale_after_days"), 40.0),
    "HUB_AUDIT_FEED_BATCH": ("9", ("security", "audit_feed_batch"), 9),
    "HUB_AUDIT_FEED_INTERVAL_SECONDS": ("2.5", ("security", "audit_feed_interval_seconds"), 2.5),
    "HUB_AUDIT_FEED_GAP_SECONDS": ("11", ("security", "audit_feed_gap_seconds"), 11.0),
    "HUB_AUDIT_FEED_IDLE_MAX_SECONDS": ("20", ("security", "audit_feed_idle_max_seconds"), 20.0),
    "HUB_AUTH_CONCURRENCY": ("3", ("security", "auth_concurrency"), 3),
    "HUB_AUTH_WAIT_SECONDS": ("2.5", ("security", "auth_wait_seconds"), 2.5),
    "HUB_AUTH_FAILURES_PER_CLIENT": ("7", ("security", "auth_failures_per_client"), 7),
    "HUB_AUTH_FAILURES_PER_ADDRESS": ("21", ("security", "auth_failures_per_address"), 21),
    "HUB_AUTH_FAILURE_WINDOW_SECONDS": ("90", ("security", "auth_failure_window_seconds"), 90.0),
    "HUB_AUDIT_ANONYMOUS_INTERVAL_SECONDS": ("30", ("security", "audit_anonymous_interval_seconds"), 30.0),
    "HUB_ECMS_MAX_REQUEST_BYTES": ("4096", ("ecms", "max_request_bytes"), 4096),
    "HUB_ECMS_POLL_INTERVAL_SECONDS": ("0.5", ("ecms", "poll_interval_seconds"), 0.5),
    "HUB_ECMS_ALLOWLIST_PORT": ("8001", ("ecms", "allowlist_port"), 8001),
    "HUB_ECMS_ALLOWLIST_HOST": ("10.1.0.1", ("ecms", "allowlist_host"), "10.1.0.1"),
    "HUB_ECMS_ALLOWLIST": ('{"10.1.2.3/32": "0401"}', ("ecms", "allowlist"), {"10.1.2.3/32": "0401"}),
    "HUB_EVENTS_PARTY": ("TH/GOV/HUB/tell-us-once", ("events_party",), "TH/GOV/HUB/tell-us-once"),
    "HUB_WEBHOOK_ALLOW_LOOPBACK": ("true", ("webhook_allow_loopback",), True),
    "HUB_ECMS_PUBLIC_URL": ("http://hub.example.go.th/ecms-ws01/service2", ("ecms", "public_url"),
                            "http://hub.example.go.th/ecms-ws01/service2"),
    "HUB_ECMS_SIGNING_KEY": ("/etc/hub/ecms-key.pem", ("ecms", "signing_key"), "/etc/hub/ecms-key.pem"),
    "HUB_ECMS_SIGNING_CERT": ("/etc/hub/ecms-cert.pem", ("ecms", "signing_cert"), "/etc/hub/ecms-cert.pem"),
}


def readme_variables() -> set[str]:
    """The ``HUB_*`` names in the first column of the README's configuration table."""
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `HUB_")]
    return {name for row in rows for name in re.findall(r"`(HUB_[A-Z_]+)`", row.split("|")[1])}


def tree_variables() -> set[str]:
    """The variable name of every option in the tree (sub-trees are not options themselves)."""
    core = {f"HUB_{name.upper()}" for name in Settings.model_fields if name not in ("security", "ecms")}
    return (core | {f"HUB_{name.upper()}" for name in SecuritySettings.model_fields}
            | {f"HUB_ECMS_{name.upper()}" for name in EcmsSettings.model_fields})


def lookup(settings: Settings, path: tuple[str, ...]) -> Any:
    value: Any = settings
    for name in path:
        value = getattr(value, name)
    return value


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in tree_variables():
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_readme_table_documents_every_option_of_the_tree() -> None:
    assert readme_variables() == tree_variables() == set(ENVIRONMENT)


def test_every_variable_of_the_readme_lands_in_the_tree(clean_env: pytest.MonkeyPatch) -> None:
    for name, (raw, _, _) in ENVIRONMENT.items():
        clean_env.setenv(name, raw)
    settings = Settings()
    for name, (_, path, expected) in ENVIRONMENT.items():
        assert lookup(settings, path) == expected, name


def test_without_environment_every_option_has_its_default(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.security == SecuritySettings() and settings.ecms == EcmsSettings()
    assert settings.standards_dir == default_standards_dir()
    assert (settings.standards_dir / "th.hub.envelope").is_dir()


def test_a_sub_tree_given_in_code_is_taken_whole(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HUB_TOKEN_TTL_SECONDS", "900")
    clean_env.setenv("HUB_TOKEN_ISSUER", "from-env")
    clean_env.setenv("HUB_ECMS_MAX_REQUEST_BYTES", "1000000")
    settings = Settings(security=SecuritySettings(token_ttl_seconds=120), ecms=EcmsSettings(max_request_bytes=2048))
    assert settings.security.token_ttl_seconds == 120 and settings.security.token_issuer == "backoffice-hub"
    assert settings.ecms.max_request_bytes == 2048
    # As a dict, it is merged over what the environment says.
    merged = Settings(security={"token_ttl_seconds": 120})
    assert merged.security.token_ttl_seconds == 120 and merged.security.token_issuer == "from-env"


def test_a_bad_variable_is_named(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HUB_ECMS_ALLOWLIST_PORT", "not-a-port")
    with pytest.raises(ConfigError, match="the e-CMS settings are invalid") as caught:
        load_settings()
    assert [e.field for e in caught.value.errors] == ["HUB_ECMS_ALLOWLIST_PORT"]
    clean_env.setenv("HUB_ECMS_ALLOWLIST_PORT", "8001")
    clean_env.setenv("HUB_ECMS_ALLOWLIST", "{not json")
    with pytest.raises(ConfigError, match="the e-CMS settings are invalid"):
        load_settings()
    clean_env.delenv("HUB_ECMS_ALLOWLIST")
    clean_env.setenv("HUB_TOKEN_TTL_SECONDS", "5")
    clean_env.setenv("HUB_PORT", "70000")
    with pytest.raises(ConfigError, match="^the settings are invalid$") as caught:
        load_settings()
    assert {e.field for e in caught.value.errors} == {"HUB_TOKEN_TTL_SECONDS", "HUB_PORT"}
