"""Plain HTTP delivery: POST the envelope as JSON to a URL; any 2xx is the receipt.

Features:
    - Headers a receiver sees: ``Idempotency-Key`` and ``Hub-Delivery-Id`` (the delivery's id:
      the same on every retry, so a receiver applies a delivery once; new when a hub admin
      replays the message, so a deliberate replay is not dropped as a duplicate);
      ``Hub-Message-Key`` (the hub's key of the message, the same across replays and unique
      across senders); ``X-Hub-Message-Id`` and ``X-Hub-Sender`` (the sender's own id, unique
      per sender only, and the sender); ``X-Hub-Service``; ``Hub-Signature``, the hub's detached
      JWS over the body (``hub.security.delivery_signing``; keys at ``/.well-known/jwks.json``).
    - Keep-alive connections are reused (one client per delivery thread).
    - 408, 425, 429 and 5xx and connection failures are retried; other 4xx are permanent.

Connection string (route settings):
    {"url": "https://agency.example/inbox", "timeout_seconds": 10, "headers": {"X-Api-Key": "..."}}
"""
from __future__ import annotations

import socket

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from hub.adapters.base import PUSH, SEND, SIGNER, Adapter, Health, OutboundMessage, Receipt
from hub.adapters.httpclients import ThreadClients
from hub.errors import DeliveryError

RETRYABLE_STATUS = {408, 425, 429}
RECEIPT_LIMIT = 2000


class HttpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    timeout_seconds: float = Field(10.0, gt=0, le=600)
    headers: dict[str, str] = Field(default_factory=dict)
    health_url: AnyHttpUrl | None = Field(
        None, description="GET this for `hub adapters check` (2xx/3xx is healthy); without it the check "
                          "only opens a TCP connection to the url's host and port.")


class HttpAdapter(Adapter):
    scheme = "http"
    capabilities = frozenset({SEND, PUSH})
    resources = frozenset({SIGNER})
    Settings = HttpSettings
    summary = "POST the envelope as JSON to a URL; 2xx is the receipt."

    def __init__(self, settings: HttpSettings) -> None:
        super().__init__(settings)
        self._clients = ThreadClients(lambda: httpx.Client(
            timeout=self.settings.timeout_seconds, headers=self.settings.headers,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4)))

    @property
    def _client(self) -> httpx.Client:
        return self._clients.get()

    def send(self, message: OutboundMessage) -> Receipt:
        parts = message.document_parts()
        headers = self._signed(message, parts)
        try:
            response = self._client.post(
                str(self.settings.url),
                content=iter(parts),
                headers={
                    **headers,
                    "Content-Length": str(sum(len(p) for p in parts)),
                    "Content-Type": "application/json",
                    # A retry repeats the delivery id; a deliberate replay gets a new one.
                    "Idempotency-Key": message.delivery,
                    "Hub-Delivery-Id": message.delivery,
                    "Hub-Message-Key": message.key,
                    "X-Hub-Message-Id": message.id,
                    "X-Hub-Sender": message.meta.sender,
                    "X-Hub-Service": message.meta.service,
                },
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"HTTP delivery to {self.settings.url} failed: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return Receipt(response.text[:RECEIPT_LIMIT], {"status_code": response.status_code})
        permanent = response.status_code < 500 and response.status_code not in RETRYABLE_STATUS
        raise DeliveryError(
            f"receiver answered HTTP {response.status_code}: {response.text[:300]}",
            permanent=permanent,
            status_code=response.status_code,
        )

    def _signed(self, message: OutboundMessage, parts: tuple[bytes, ...]) -> dict[str, str]:
        """``Hub-Signature`` over the body, when this process has the hub's signer."""
        signer = self.resource(SIGNER)
        if signer is None:
            return {}
        meta = message.meta
        return {"Hub-Signature": signer.sign(b"".join(parts), delivery_id=message.delivery, message_key=message.key,
                                             message_id=message.id, sender=meta.sender, receiver=meta.receiver,
                                             service=meta.service)}

    def check(self) -> Health:
        """Ask in a way every receiver answers: most inboxes take only POST (a HEAD or GET may
        be 405 or 501 from a healthy one), and a POST would deliver something. So: GET the
        receiver's own ``health_url`` when it has one, else see that it accepts connections."""
        if self.settings.health_url is not None:
            url = str(self.settings.health_url)
            try:
                response = self._client.get(url)
            except httpx.HTTPError as exc:
                return Health(False, f"{url} unreachable: {exc}")
            return Health(response.status_code < 400, f"{url} answered HTTP {response.status_code}")
        url = self.settings.url
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            with socket.create_connection((url.host or "", port), timeout=min(self.settings.timeout_seconds, 5.0)):
                pass
        except OSError as exc:
            return Health(False, f"{url.host}:{port} does not accept connections: {exc}")
        return Health(True, f"{url.host}:{port} accepts connections (a TCP check: set health_url for an HTTP one)")

    def close(self) -> None:
        self._clients.close()
