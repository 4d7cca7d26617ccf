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
    - ``receive`` reads the head of our department's queue on the remote node
      (``CorrespondenceLetterInbound``, one item at a time); ``acknowledge`` deletes it by
      ``ProcessID``. The scheduled, lossless poll (accept, *then* delete) is
      ``hub.adapters.ecms.federation.FederationPoller``, started with the hub's workers;
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
import uuid
from typing import Any, Literal

import requests
import zeep.exceptions
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.adapters.base import PUSH, RECEIVE, SEND, Adapter, Health, OutboundMessage, Receipt
from hub.adapters.ecms.soapclient import EcmsClientError, EcmsSoapClient, QueueItem
from hub.errors import AdapterError, DeliveryError

# Refusals of the item itself: sending it again cannot succeed (hub/ecms/codes.py).
PERMANENT_CODES = frozenset({"E001", "E002", "E003", "E004", "E005", "E006", "E007", "E008",
                             "E011", "E012", "E013", "E014", "E015"})
# receive(): envelope ids of polled items, derived from the node and its ProcessID.
RECEIVE_NAMESPACE = uuid.UUID("3c0b7a5e-1f44-5d0e-9a57-6b1f2f7e0c11")
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


class PeerError(AdapterError):
    """A call to the remote node failed; ``code`` is its ErrorCode (E099 for transport)."""

    code = "ecms_peer"

    def __init__(self, message: str, *, ecms_code: str) -> None:
        super().__init__(message)
        self.ecms_code = ecms_code

    @property
    def permanent(self) -> bool:
        return self.ecms_code in PERMANENT_CODES


class EcmsClientAdapter(Adapter):
    scheme = "ecms"
    capabilities = frozenset({SEND, RECEIVE, PUSH})
    Settings = EcmsClientSettings
    summary = "Forward letters to another e-CMS node (DGA's, another hub) and poll our queue there."

    def __init__(self, settings: EcmsClientSettings) -> None:
        super().__init__(settings)
        self._local = threading.local()
        self._clients: list[EcmsSoapClient] = []
        self._lock = threading.Lock()
        self._service: Any = None  # hub.ecms.service.EcmsService, bound by the registry
        self._polled: dict[str, str] = {}  # receive(): envelope id -> remote ProcessID

    def bind_resources(self, resources: dict[str, Any]) -> None:
        self._service = resources.get("ecms")

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

    def _blobs(self) -> Any:
        if self._service is None:
            raise AdapterError("this process runs no e-CMS node (hub.bootstrap did not bind one), so there "
                               "is no attachment store to read from or write to")
        return self._service.blobs

    # -------------------------------------------------------------- send

    def send(self, message: OutboundMessage) -> Receipt:
        from hub.ecms.codes import EcmsFault
        from hub.ecms.letter import Letter, inline_base64, notifier_element, parse_payload
        from hub.standards.safexml import XmlError

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

    def decode(self, queued: QueueItem) -> Any:
        """The polled item as a Letter or Notifier, its attachments stored in this hub's blob
        store. Raises ``EcmsFault`` for an item this hub cannot read."""
        from hub.ecms.letter import read_item

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

    def receive(self, limit: int = 100) -> list[dict[str, Any]]:
        """The head of our remote queue as (at most) one envelope.

        e-CMS shows one item at a time and the next only after this one is deleted, so a
        caller accepts the envelope and then calls :meth:`acknowledge` with its id. The
        hub's own scheduled poll goes through its e-CMS node instead (``federation``), which
        also keeps the letter register that notifiers are checked against.
        """
        from hub.ecms.letter import Letter, to_payload
        from hub.ecms.node import SERVICE

        if limit < 1:
            return []
        queued = self.poll_item()
        if queued is None:
            return []
        item = self.decode(queued)
        store = self._service.store
        if isinstance(item, Letter):
            codes, secret = (item.sender.department_id, item.receiver.department_id), item.secret_code
        else:
            # A notifier is about a letter in this hub's register: we sent it (we are its
            # sender), or, for InvalidAcceptIDNotifier, we received it.
            we_received = item.kind == "InvalidAcceptIDNotifier"
            letter = store.letter_for_notifier([self.settings.department], item.letter_id,
                                               item.correspondence_date, as_receiver=we_received)
            if letter is None:
                raise AdapterError(f"{item.kind} for {item.letter_id!r} of {item.correspondence_date}: "
                                   f"no such letter of department {self.settings.department} on this hub")
            codes = ((letter.sender_code, letter.receiver_code) if we_received
                     else (letter.receiver_code, letter.sender_code))
            secret = letter.secret_code
        departments = [store.department(code) for code in codes]
        parties = [d.party if d is not None else None for d in departments]
        if None in parties:
            raise AdapterError(f"departments {codes} must both have a subsystem on this hub")
        envelope_id = str(uuid.uuid5(RECEIVE_NAMESPACE, f"{self.settings.url}|{queued.process_id}"))
        self._polled[envelope_id] = queued.process_id
        return [{
            "id": envelope_id, "sender": parties[0], "receiver": parties[1], "service": SERVICE,
            "classification": secret,
            "speed": item.speed_code if isinstance(item, Letter) else "001",
            "content_type": "application/xml", "payload": to_payload(item).decode("utf-8"),
        }]

    def acknowledge(self, envelope_id: str) -> bool:
        """Delete the item ``receive`` returned as ``envelope_id`` (after the hub accepted it)."""
        process_id = self._polled.pop(envelope_id, None)
        if process_id is None:
            raise AdapterError(f"{envelope_id} is not an item this adapter received")
        return self.delete(process_id)

    # -------------------------------------------------------------- contract

    def check(self) -> Health:
        department = self.settings.department
        try:
            server_time = self.call("TimeCheck", lambda client: client.time())
            known = {str(o.ID) for o in self.call("GetOrganizationList", lambda client: client.organizations())}
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
