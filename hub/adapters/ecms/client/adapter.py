"""The ``ecms`` adapter: a zeep client of another e-CMS node (DGA's, or another hub).

Features:
    - ``send`` forwards a letter or notifier (a hub message of service ``ecms.letter/v1``)
      with ``CorrespondenceLetterOutbound``; the attachments are read from this hub's
      content-addressed store (``<data_dir>/ecms-blobs``, referenced by SHA-256 in the
      payload) and sent as base64; the remote ``ProcessID`` is the receipt;
    - the remote ``ErrorDetail`` decides retry: a refusal of the letter itself (E001-E008,
      E011-E015) is permanent, anything the remote or the network may get over (E009
      credentials, E010, E016 route, E099, connection errors, timeouts, HTTP 5xx) is
      transient, so the transport retries with backoff;
    - ``poll(sink)`` reads our department's queue on the remote node one item at a time
      (``CorrespondenceLetterInbound``), accepts each item through this hub's e-CMS node
      into the sink, and only then deletes it there by ``ProcessID``; a letter this hub
      refuses is answered ``InvalidLetterNotifier`` (``hub.adapters.ecms.node.federation``).
      The transport's scheduler polls every ``poll_interval_seconds`` unless ``poll`` is
      off; ``hub adapters poll ROUTE`` polls on demand;
    - credentials: WS-Security UsernameToken, HTTP Basic, or both; a client certificate
      (mutual TLS) and a CA bundle; one zeep client per thread (delivery runs many).

Connection string (route settings)::

    {"url": "https://ecms.example.go.th/ecms-ws01/service2", "department": "0401",
     "username": "0401", "password": "...", "auth": "username-token",
     "poll": true, "poll_interval_seconds": 5}

``department`` is our department's code *at the remote node*: the identity the hub sends
as and whose queue it polls there. A route with this adapter is usually created by
``EcmsService.register_department(code, ..., adapter="ecms", adapter_settings={...})`` for
a department that lives on the remote node.
"""
from __future__ import annotations

import threading
from typing import Any, Literal

import requests
import zeep.exceptions
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.adapters.base import (
    ECMS_NODE, PUSH, RECEIVE, SEND, Adapter, Health, InboundSink, OutboundMessage, PollReport, Receipt,
)
from hub.adapters.ecms.client.soapclient import EcmsClientError, EcmsSoapClient, QueueItem
from hub.adapters.ecms.codec.codes import EcmsFault, PeerError
from hub.adapters.ecms.codec.letter import Letter, Notifier, inline_base64, notifier_element, parse_payload, read_item
from hub.adapters.ecms.node import federation
from hub.errors import AdapterError, DeliveryError
from hub.standards.safexml import XmlError

_CODE = r"^[0-9A-Za-z.\-]{1,20}$"


class EcmsClientSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
                     description="The remote node's SOAP endpoint, e.g. https://host/ecms-ws01/service2.")
    wsdl: str | None = Field(None, description="Where to load the WSDL from (default: <url>?wsdl).")
    department: str = Field(pattern=_CODE, description="Our department code at the remote node.")
    username: str | None = Field(None, max_length=200, description="Login at the remote node.")
    password: str | None = Field(None, max_length=500)
    auth: Literal["username-token", "basic", "both", "none"] = Field(
        "username-token", description="How username/password are presented.")
    client_cert: str | None = Field(None, description="PEM client certificate (mutual TLS).")
    client_key: str | None = Field(None, description="PEM key of client_cert, if not in the same file.")
    ca_bundle: str | None = Field(None, description="PEM CA bundle for the node's certificate.")
    poll: bool = Field(True, description="Poll the remote queue on a schedule (hub workers).")
    poll_interval_seconds: float | None = Field(
        None, gt=0, le=3600, description="Between polls; default HUB_ECMS_POLL_INTERVAL_SECONDS.")
    max_items_per_poll: int = Field(100, ge=1, le=10_000, description="Items read per poll before pausing.")
    timeout_seconds: float = Field(60.0, gt=0, le=3600, description="One SOAP call.")

    @model_validator(mode="after")
    def _credentials(self) -> EcmsClientSettings:
        if self.auth != "none" and not self.username:
            raise ValueError(f"auth {self.auth!r} needs a username (or set auth to 'none')")
        if self.username and self.password is None and self.auth != "none":
            raise ValueError("password is required with username")
        if self.client_key and not self.client_cert:
            raise ValueError("client_key needs client_cert")
        return self


class EcmsClientAdapter(Adapter):
    scheme = "ecms"
    capabilities = frozenset({SEND, RECEIVE, PUSH})
    Settings = EcmsClientSettings
    summary = "Forward letters to another e-CMS node (DGA's, another hub) and poll our queue there."
    # This hub's node: its blob store holds the attachments, and polled items enter through it.
    resources = frozenset({ECMS_NODE})

    def __init__(self, settings: EcmsClientSettings) -> None:
        super().__init__(settings)
        self._local = threading.local()
        self._clients: list[EcmsSoapClient] = []
        self._lock = threading.Lock()

    # -------------------------------------------------------------- the remote node

    def _new_client(self) -> EcmsSoapClient:
        s = self.settings
        cert = (s.client_cert, s.client_key) if s.client_cert and s.client_key else s.client_cert
        return EcmsSoapClient(
            s.url, s.username if s.auth != "none" else None, s.password,
            basic_auth=s.auth in ("basic", "both"), username_token=s.auth in ("username-token", "both"),
            cert=cert, verify=s.ca_bundle or True, wsdl=s.wsdl, timeout=s.timeout_seconds,
        )

    def _client(self) -> EcmsSoapClient:
        # zeep clients share a requests session that is not meant for concurrent use, and
        # delivery calls send() from many threads: one client per thread.
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._new_client()
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def _drop_client(self) -> None:
        """Forget this thread's client after a transport failure: the next call reloads the
        WSDL and reconnects (the node may have restarted or moved)."""
        client = getattr(self._local, "client", None)
        if client is not None:
            self._local.client = None
            with self._lock:
                if client in self._clients:
                    self._clients.remove(client)
            client.close()

    def call(self, what: str, fn: Any) -> Any:
        """``fn(client)`` against the remote node; every failure becomes :class:`PeerError`."""
        url = self.settings.url
        try:
            return fn(self._client())
        except EcmsClientError as exc:
            if exc.code == "E099":
                self._drop_client()
            raise PeerError(f"e-CMS node {url} refused {what}: {exc.code} {exc.description}",
                            ecms_code=exc.code) from exc
        except (requests.RequestException, zeep.exceptions.Error, etree.XMLSyntaxError, OSError) as exc:
            # Unreachable, timed out, TLS failure, a non-SOAP answer (a proxy's HTML page):
            # all things a later attempt may get past.
            self._drop_client()
            raise PeerError(f"e-CMS node {url} unreachable for {what}: {type(exc).__name__}: {exc}",
                            ecms_code="E099") from exc

    def _node_service(self) -> Any:
        """This hub's ``EcmsService``."""
        service = self.resource(ECMS_NODE)
        if service is None:
            raise AdapterError("this process runs no e-CMS node (hub.bootstrap did not bind one), so there "
                               "is no attachment store to read from or write to")
        return service

    def _blobs(self) -> Any:
        return self._node_service().blobs

    # -------------------------------------------------------------- send

    def send(self, message: OutboundMessage) -> Receipt:
        try:
            item = parse_payload(message.payload)
        except (EcmsFault, XmlError) as exc:
            raise DeliveryError(f"payload is not an e-CMS letter or notifier: {exc}", permanent=True) from exc
        if isinstance(item, Letter):
            try:
                blobs = self._blobs()
            except AdapterError as exc:
                raise DeliveryError(exc.message) from exc
            missing = [b.sha256 for b in item.binaries if not blobs.exists(b.sha256)]
            if missing:
                raise DeliveryError(f"attachments {missing} are not in this hub's blob store", permanent=True)
            element = inline_base64(item, blobs)
            letter_id = item.id
        else:
            element = notifier_element(item)
            letter_id = item.letter_id
        try:
            answer = self.call(item.kind, lambda client: client.send(element))
        except PeerError as exc:
            raise DeliveryError(exc.message, permanent=exc.permanent, ecms_code=exc.ecms_code) from exc
        process_id = getattr(answer, "ProcessID", None)
        if not process_id:
            raise DeliveryError(f"e-CMS node {self.settings.url} answered without a ProcessID")
        return Receipt(str(process_id), {"ecms_process_id": str(process_id), "node": self.settings.url,
                                         "letter_id": letter_id, "kind": item.kind})

    # -------------------------------------------------------------- receive

    def poll_item(self) -> QueueItem | None:
        """The head of our queue on the remote node (it stays there until deleted)."""
        return self.call("CorrespondenceLetterInbound", lambda client: client.poll())

    def decode(self, queued: QueueItem) -> Letter | Notifier:
        """The polled item as a Letter or Notifier, its attachments stored in this hub's blob
        store. Raises ``EcmsFault`` for an item this hub cannot read."""
        return read_item(queued.element, self._blobs())

    def delete(self, process_id: str) -> bool:
        """Delete a read item on the remote node; False if it was gone already (deleted by an
        earlier run that crashed before noting it, or withdrawn)."""
        try:
            self.call("CorrespondenceLetterDelete", lambda client: client.delete(process_id))
        except PeerError as exc:
            if exc.ecms_code == "E010":
                return False
            raise
        return True

    def notify(self, element: etree._Element) -> str:
        """Send a notifier (e.g. InvalidLetterNotifier for a letter this hub refused)."""
        answer = self.call(etree.QName(element).localname, lambda client: client.send(element))
        return str(getattr(answer, "ProcessID", ""))

    def poll(self, sink: InboundSink) -> PollReport:
        """Take in our queue on the remote node through this hub's e-CMS node, into ``sink``.

        The remote node may send as every department this hub reaches through it (the
        receivers of all ``ecms`` routes to the same URL), not only this route's.
        """
        service = self._node_service()
        url = self.settings.url
        peer = federation.peer_principal(url, service.parties_behind(self.scheme, url))
        return federation.take_in(service.node, self, peer, sink.accept, url=url,
                                  max_items=self.settings.max_items_per_poll)

    def poll_interval(self) -> float | None:
        if not self.settings.poll:
            return None
        service = self.resource(ECMS_NODE)
        if service is None:
            return None  # this process runs no node to take the items in through
        return self.settings.poll_interval_seconds or service.settings.poll_interval_seconds

    # -------------------------------------------------------------- contract

    def check(self) -> Health:
        department = self.settings.department
        try:
            server_time = self.call("TimeCheck", lambda client: client.time())
            known = {str(o.OrganizationID) for o in self.call("GetOrganizationList", lambda client: client.organizations())}
        except PeerError as exc:
            return Health(False, exc.message)
        if department not in known:
            return Health(False, f"e-CMS node {self.settings.url} answers, but department {department} "
                                 "is not in its organisation list")
        return Health(True, f"e-CMS node {self.settings.url} answers (server time {server_time}); "
                            f"department {department} is registered there")

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        self._local = threading.local()
