"""The weaker e-CMS option: a separate listener where the source address is the credential.

Many deployed e-Saraban clients send no credentials at all and cannot be changed. For them
an operator may, knowingly, turn on a second listener (``HUB_ECMS_ALLOWLIST_PORT``; unset =
off, the default) that serves only ``/ecms/service2`` (SOAP POST and its WSDL / XSDs). There
a department is authenticated by the TCP peer address alone, looked up in
``HUB_ECMS_ALLOWLIST`` (address or CIDR network -> exactly one department code). Credentials
sent on this listener are ignored: the address is its only proof, so one listener never
mixes two trust models. The normal listener never authenticates by address.

The rules (which address is which department, and when a list is refused) are the node's:
``hub.adapters.ecms.node.allowlist.AddressAllowList``; this module is the listener that
applies them. Everything after authentication is the node's too: an allowed address acts as its department
only (its own queue; a letter or notifier claiming another sender department is E008).
An address that is not listed gets E009 and an ``auth.refused`` audit entry.

Risks (README "e-Saraban / e-CMS"): anyone who can send packets from a listed address is that
department (a compromised or shared host, NAT that puts several machines behind one address,
address spoofing on the path); without TLS the traffic can be read and altered. Use it only
on a network segment the agency controls, with the listener's port firewalled to the listed
addresses.
"""
from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response

from hub.adapters.ecms.codec.codes import EcmsFault
from hub.adapters.ecms.codec.soap import SoapRequest
from hub.adapters.ecms.node.allowlist import AddressAllowList
from hub.errors import ConfigError
from hub.schemas.principal import CLIENT, Principal

if TYPE_CHECKING:
    from hub.bootstrap import Hub
    from hub.config import Settings

log = logging.getLogger(__name__)

PATH = "/ecms/service2"
PUBLIC_PATH = "/ecms-ws01/service2"  # what deployed clients post to (DGA's node path)
CHANNEL = "ecms allow-list listener"


def peer_address(request: Request) -> str | None:
    """The TCP peer, as the server's socket reported it.

    Never X-Forwarded-For (or Forwarded, X-Real-IP): on this listener the address IS the
    credential, and any client can write those headers, so trusting them would let anyone
    who can reach the port claim a listed address. The server is started with uvicorn's
    ``proxy_headers=False`` (``AllowListListener``) because uvicorn otherwise rewrites this
    very value from X-Forwarded-For when the peer is a "trusted" proxy (127.0.0.1 by default).
    A reverse proxy in front of this listener would make every caller the proxy's address:
    don't put one there.
    """
    client = request.scope.get("client")
    return client[0] if client else None


def address_authenticator(request: Request, hub: Hub, allowlist: AddressAllowList) -> Callable[[SoapRequest], Principal]:
    """Like ``hub.adapters.ecms.node.auth.soap_authenticator``, but the proof is the peer address only."""
    from hub.security.wiring import security_of

    peer = peer_address(request)

    def refuse(reason: str) -> EcmsFault:
        security_of(hub).audit.record("auth.refused", actor=f"address:{peer or '(unknown)'}", decision="refused",
                                      target=PATH, channel=CHANNEL, reason=reason)
        return EcmsFault("E009", reason)

    def authenticate(soap_request: SoapRequest) -> Principal:
        code = allowlist.department_code(peer)
        if code is None:
            raise refuse(f"the source address {peer} is not on this listener's allow-list")
        # Read the department per request, so a changed subsystem or clearance applies at once.
        department = hub.ecms.store.department(code)
        if department is None or department.party is None:
            raise refuse(f"department {code} of the allow-list is no longer registered with a subsystem")
        return Principal(subject=f"ecms:{department.code}@{peer}", roles=frozenset({CLIENT}),
                         subsystems=frozenset({department.party}), clearance=department.clearance,
                         method="source_address")

    return authenticate


def create_allowlist_app(hub: Hub, allowlist: AddressAllowList) -> FastAPI:
    """An app with the e-CMS endpoint only: no REST API, no docs, no health routes, so the
    address-trusting port exposes nothing else. The hub's workers run in the main app."""
    from hub.api import errors
    from hub.api.routes.ecms import XML, describe, handle_soap

    app = FastAPI(title="e-CMS node (source-address allow-list)", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.hub = hub
    errors.install(app)

    async def call(request: Request) -> Response:
        return await handle_soap(request, hub.ecms, address_authenticator(request, hub, allowlist))

    app.add_api_route(PATH, describe, methods=["GET"], response_class=Response)
    app.add_api_route(PUBLIC_PATH, describe, methods=["GET"], response_class=Response)
    app.add_api_route(PUBLIC_PATH, call, methods=["POST"], response_class=Response)
    app.add_api_route(PATH, call, methods=["POST"], response_class=Response,
                      responses={200: {"content": {XML: {}}}})
    return app


def _bind(host: str, port: int) -> socket.socket:
    """Bind in the caller's thread, so a taken port or bad address fails ``hub serve`` at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"the e-CMS allow-list listener cannot listen on {host}:{port}: {exc}") from exc
    return sock


class AllowListListener:
    """The second uvicorn server, in a thread of the serving process (so it shares the Hub)."""

    def __init__(self, hub: Hub, allowlist: AddressAllowList, *, host: str, port: int,
                 log_level: str = "info") -> None:
        import uvicorn

        from hub.api.serving import uvicorn_options

        self.allowlist = allowlist
        self._socket = _bind(host, port)
        self.host, self.port = host, self._socket.getsockname()[1]
        # proxy_headers=False: see ``peer_address``. lifespan off: the main app owns the hub's workers.
        config = uvicorn.Config(create_allowlist_app(hub, allowlist), proxy_headers=False, lifespan="off",
                                log_level=log_level.lower(), access_log=False,
                                **uvicorn_options(hub.settings))  # header deadline, keep-alive (hub.api.serving)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="ecms-allowlist", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{PATH}"

    def start(self, timeout: float = 20.0) -> AllowListListener:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise ConfigError(f"the e-CMS allow-list listener on {self.host}:{self.port} did not start")
            time.sleep(0.02)
        log.warning("WEAKER e-CMS authentication is ON: %s serves /ecms/service2 to callers authenticated by "
                    "their source address alone, without credentials (HUB_ECMS_ALLOWLIST_PORT); allow-list: %s",
                    self.url, self.allowlist.describe())
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def start_listener(hub: Hub, *, host: str, main_port: int | None = None,
                   log_level: str = "warning") -> AllowListListener | None:
    """Start the listener if ``HUB_ECMS_ALLOWLIST_PORT`` is set; ``None`` when it is off."""
    settings = hub.ecms.settings
    if settings.allowlist_port is None:
        if settings.allowlist:
            log.info("HUB_ECMS_ALLOWLIST is set but HUB_ECMS_ALLOWLIST_PORT is not: the allow-list listener is off")
        return None
    if settings.allowlist_port == main_port:
        raise ConfigError(f"HUB_ECMS_ALLOWLIST_PORT ({main_port}) must differ from the API's port: the "
                          "address-authenticated listener is separate by design")
    allowlist = AddressAllowList.build(settings.allowlist, hub.ecms.store)
    return AllowListListener(hub, allowlist, host=settings.allowlist_host or host, port=settings.allowlist_port,
                             log_level=log_level).start()


@contextmanager
def serving_hub(settings: Settings, *, host: str, main_port: int) -> Iterator[Hub | None]:
    """For ``hub serve``: with the allow-list listener on, build the hub here (so a bad allow-list
    refuses the start before any port is open), run the listener, and close both on exit.
    Yields ``None`` when the listener is off: the app then builds and owns its hub as before."""
    from hub.bootstrap import build_hub

    if settings.ecms.allowlist_port is None:
        yield None
        return
    hub = build_hub(settings)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # uvicorn re-raises the SIGTERM it handled once the API has shut down; with the default
        # action that kills the process before this context exits, and the listener and the hub
        # (which this context owns, unlike the API's own) would never be closed. As SystemExit
        # it unwinds through the finally blocks; 143 is what a shell reports for SIGTERM.
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        listener = start_listener(hub, host=host, main_port=main_port, log_level=settings.log_level)
        try:
            yield hub
        finally:
            if listener is not None:
                listener.stop()
    finally:
        hub.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
