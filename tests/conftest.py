"""Fixtures: hub settings on each backend, a running hub, and an API client."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.adapters.memory import reset_mailboxes
from hub.bootstrap import Hub, build_hub
from hub.config import Settings
from tests.support import services
from tests.support.auth import admin_token, agency_token, bearer
from tests.support.errors import check_error_answer

BACKENDS = ["embedded", pytest.param("postgres+rabbitmq", marks=pytest.mark.services)]

# Tests that restart the shared PostgreSQL / RabbitMQ must run alone: every other test's
# connections drop with them. scripts/test runs the rest in parallel workers
# (HUB_TEST_PHASE=without-restarts), then these on their own (HUB_TEST_PHASE=restarts).
RESTART_MARKERS = ("broker_restart", "postgres_restart")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    phase = os.environ.get("HUB_TEST_PHASE", "")
    if phase not in ("", "without-restarts", "restarts"):
        raise pytest.UsageError(f"HUB_TEST_PHASE must be without-restarts or restarts, not {phase!r}")
    in_parallel_worker = hasattr(config, "workerinput")  # pytest-xdist: other tests run beside this one
    keep, drop = [], []
    for item in items:
        restarts = any(item.get_closest_marker(m) for m in RESTART_MARKERS)
        wanted = restarts if phase == "restarts" else not (restarts and (phase or in_parallel_worker))
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def every_error_answer_has_the_error_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every error a test client receives is checked (tests/support/errors.py), not only those a
    test looks at: one shape, and each field a JSON Pointer."""
    send = TestClient.send

    def checked_send(self: TestClient, request, **kwargs):  # noqa: ANN001, ANN202
        response = send(self, request, **kwargs)
        if not kwargs.get("stream"):
            check_error_answer(response)
        return response

    monkeypatch.setattr(TestClient, "send", checked_send)


def fast_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings that make retries and lease recovery quick enough for tests."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "requeue_after_seconds": 3.0,
        "relay_interval_seconds": 0.05,
        "delivery_timeout_seconds": 5.0,
        "sqlite_synchronous": "NORMAL",
    }
    values.update(overrides)
    return Settings(**values)


def backend_settings(backend: str, data_dir: Path, stack: ExitStack, **overrides: object) -> Settings:
    if backend == "embedded":
        return fast_settings(data_dir, **overrides)
    services.need("postgresql", "rabbitmq")
    database_url = stack.enter_context(services.postgres_database(migrated=True))
    queue = stack.enter_context(services.rabbitmq_queue())
    return fast_settings(data_dir, database_url=database_url, broker_url=services.AMQP_URL, queue_name=queue,
                         **overrides)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    with ExitStack() as stack:
        yield backend_settings(backend, tmp_path / "data", stack)


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path / "data")


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    reset_mailboxes()
    instance = build_hub(settings)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    """The hub's API with its embedded worker running, called as a hub admin (a real token)."""
    from hub.api.app import create_app

    with TestClient(create_app(hub), headers=bearer(admin_token(hub))) as test_client:
        yield test_client


def _agency_factory(hub: Hub, app_client: TestClient):  # noqa: ANN202
    def as_agency(subsystem_id: str, *, clearance: str = "001", rights=()) -> TestClient:  # noqa: ANN001
        token = agency_token(hub, subsystem_id, clearance=clearance, rights=rights)
        # Same app, no second lifespan: the admin client's embedded worker serves both.
        return TestClient(app_client.app, headers=bearer(token))
    return as_agency


@pytest.fixture
def as_agency(hub: Hub, client: TestClient):  # noqa: ANN201
    """``as_agency("TH/GOV/OCSC/hr", clearance="001", rights=[(service, provider)])`` -> a client
    authenticated as that subsystem (registered and approved on the fly)."""
    return _agency_factory(hub, client)


@pytest.fixture
def embedded_as_agency(embedded_hub: Hub, embedded_client: TestClient):  # noqa: ANN201
    """``as_agency`` on the embedded backend only."""
    return _agency_factory(embedded_hub, embedded_client)


@pytest.fixture
def anonymous_client(embedded_client: TestClient) -> TestClient:
    """The embedded app with no credentials at all."""
    return TestClient(embedded_client.app)


@pytest.fixture
def embedded_hub(embedded_settings: Settings) -> Iterator[Hub]:
    reset_mailboxes()
    instance = build_hub(embedded_settings)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def embedded_client(embedded_hub: Hub) -> Iterator[TestClient]:
    """The API on the embedded default only: for input handling that does not depend on the backend."""
    from hub.api.app import create_app

    with TestClient(create_app(embedded_hub), headers=bearer(admin_token(embedded_hub))) as test_client:
        yield test_client
