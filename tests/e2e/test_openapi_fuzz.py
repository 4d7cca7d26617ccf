"""schemathesis over every operation of the hub's OpenAPI: no request, however odd, gets a 5xx.

The hub is served on a real port by uvicorn (so an unhandled exception shows as the answer a
client would get), with the telework pilot's systems connected. Each operation is called three
times over: with a hub admin's token, so the generated input reaches the routes behind
authentication; as an ordinary agency, for the access checks' paths; and with no credentials
at all, so the authentication layer itself is fuzzed. Positive and negative cases, bounded by
``HUB_FUZZ_EXAMPLES`` examples per operation (default 6: about 30 s on two cores); raise it
locally to search harder.

A 503 with ``Retry-After`` is back-pressure the hub chose (admission control), not a server error.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from hub.adapters.memory import reset_mailboxes  # noqa: E402
from hub.bootstrap import build_hub  # noqa: E402
from tests.conftest import fast_settings  # noqa: E402
from tests.support.auth import admin_token, agency_token, bearer  # noqa: E402
from tests.support.ecms import serving  # noqa: E402

EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "6"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))
AGENCY = "TH/GOV/0401/saraban"  # an ordinary agency subsystem: the access checks' paths, not an admin's
SOAP_CLIENT_FAULT = b"<faultcode>soap:Client</faultcode>"


class LiveHub:
    def __init__(self, url: str, admin: dict[str, str], agency: dict[str, str], log: str) -> None:
        self.url, self.admin, self.agency, self.log = url, admin, agency, log


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """The hub served on a real port, with the telework pilot's systems connected (so the
    telework routes are fuzzed past "not configured") and a hub admin's token."""
    from hub.apps.telework import pilot
    from hub.apps.telework.wiring import connect_pilot

    reset_mailboxes()
    hub = build_hub(fast_settings(tmp_path_factory.mktemp("fuzz") / "data"))
    try:
        with serving(hub) as node_url:
            systems = connect_pilot(hub, node_url=node_url)
            hub.telework.use(systems.app)
            systems.app.service.register_agency(
                pilot.policy(), name="กรมบัญชีกลาง", hr_agency=pilot.MOF, finance_agency=pilot.MOF,
                strategy_agency=pilot.OPDC, copy_to=[pilot.OPDC])
            try:
                agency = bearer(agency_token(hub, AGENCY, clearance="002", rights=[("hr.leave/v1", "TH/GOV/OCSC/hr")]))
                yield LiveHub(node_url.removesuffix("/ecms/service2"), bearer(admin_token(hub)), agency,
                              "the test's captured log (uvicorn runs in this process)")
            finally:
                systems.close()
    finally:
        hub.close()


@pytest.fixture(scope="module")
def operations(live_hub: LiveHub) -> list:
    schema = schemathesis.openapi.from_url(f"{live_hub.url}/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) > 100, f"only {len(found)} operations in the OpenAPI"
    return found


def server_errors(operations: list, live_hub: LiveHub, headers: dict[str, str]) -> list[str]:
    """Each operation fuzzed with valid and invalid input; the 5xx answers found, one per operation."""
    found: list[str] = []
    for operation in operations:
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        @FUZZ
        @given(case=cases)
        def call(case) -> None:  # noqa: ANN001
            response = case.call(base_url=live_hub.url, headers=headers, timeout=30)
            if response.status_code == 503 and response.headers.get("retry-after"):
                return  # back-pressure the hub chose (admission control), not a server error
            if response.status_code == 500 and SOAP_CLIENT_FAULT in response.content:
                return  # SOAP 1.1's HTTP binding: a fault in the caller's request is a 500 with soap:Client
            assert response.status_code < 500, (
                f"{operation.label}: {response.request.method} {response.request.url} -> "
                f"{response.status_code}: {response.text[:300]!r} (body {str(response.request.body)[:300]!r})")

        try:
            call()
        except AssertionError as error:
            found.append(str(error).splitlines()[0])
    return found


def test_no_operation_answers_a_server_error_to_an_admin(operations, live_hub: LiveHub) -> None:  # noqa: ANN001
    errors = server_errors(operations, live_hub, live_hub.admin)
    assert not errors, "\n".join(errors) + f"\nserver log: {live_hub.log}"


def test_no_operation_answers_a_server_error_to_an_agency(operations, live_hub: LiveHub) -> None:  # noqa: ANN001
    errors = server_errors(operations, live_hub, live_hub.agency)
    assert not errors, "\n".join(errors) + f"\nserver log: {live_hub.log}"


def test_no_operation_answers_a_server_error_to_an_anonymous_caller(operations, live_hub: LiveHub) -> None:  # noqa: ANN001
    errors = server_errors(operations, live_hub, {})
    assert not errors, "\n".join(errors) + f"\nserver log: {live_hub.log}"
