"""The accept path's cached look-ups are re-read in the background while in use: a change
another process made (written to the database behind this process's back) is picked up with
no request waiting for the read, and a client disabled elsewhere is refused once its entry
has been re-read, within the same bound as before."""
import pytest
from sqlalchemy import insert, update

from hub.clock import utcnow
from hub.errors import Unauthorized
from hub.refresh_ahead import REFRESH_TO
from hub.security.authn import CACHE_SECONDS
from hub.security.tables import clients
from hub.security.wiring import security_of
from hub.transport.tables import routes
from tests.unit.test_refresh_ahead import Clock, settled

RECEIVER = "TH/GOV/TEST/cached"


def _route_elsewhere(hub, service: str) -> None:
    """Insert a route as another process would: this hub's router is not told."""
    with hub.engine.begin() as conn:
        conn.execute(insert(routes).values(receiver=RECEIVER, service=service, adapter="memory",
                                           settings={"mailbox": "cached"}, max_attempts=3, max_age_seconds=3600.0,
                                           backoff_base_seconds=1.0, backoff_max_seconds=60.0, created_at=utcnow()))


def test_routes_added_elsewhere_are_picked_up_in_the_background(embedded_hub):
    router = embedded_hub.router
    _route_elsewhere(embedded_hub, "test.cached-a/v1")
    router.invalidate()
    assert router.find(RECEIVER, "test.cached-a/v1") is not None  # read now: there was no view
    _route_elsewhere(embedded_hub, "test.cached-b/v1")
    assert router.find(RECEIVER, "test.cached-b/v1") is None  # the young view is not re-read
    router._refresh_after = 0.0  # as if used past its refresh point (still within its bound)
    assert router.is_fresh()  # answered from memory; the re-read runs behind it
    settled()
    assert router.find(RECEIVER, "test.cached-b/v1") is not None


def test_a_client_disabled_elsewhere_is_refused_once_reread(embedded_hub):
    security = security_of(embedded_hub)
    authn = security.authenticator
    clock = Clock()
    authn._cache._clock = clock  # the principal cache's time, moved by hand
    security.credentials.create("cached-client", actor="tests", roles=("monitor",), clearance="001",
                                 with_secret=False)
    token = security.client_token("cached-client")
    headers = {"authorization": f"Bearer {token}"}
    assert authn.from_token(token).client_id == "cached-client"
    assert authn.remembered(headers) is not None
    with embedded_hub.engine.begin() as conn:  # disabled by another process: this one is not told
        conn.execute(update(clients).where(clients.c.id == "cached-client").values(disabled=True))
    assert authn.remembered(headers) is not None  # within the bound, as before
    clock.now += CACHE_SECONDS * REFRESH_TO + 0.01  # past the refresh point, within the bound
    assert authn.remembered(headers) is not None  # still answered; the re-read finds it disabled
    settled()
    assert authn.remembered(headers) is None  # the entry is gone: the next request reads and is refused
    with pytest.raises(Unauthorized, match="disabled"):
        authn.from_token(token)
