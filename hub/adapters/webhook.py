"""Webhook delivery signed per the Standard Webhooks specification (https://www.standardwebhooks.com).

Features:
    - The body is ``{"type", "timestamp", "data"}``: the event type (the message's service),
      when the hub accepted it, and the event document.
    - Headers ``webhook-id`` (the hub message id: the same on every retry, so the subscriber
      applies each event once), ``webhook-timestamp`` (this attempt, Unix seconds) and
      ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` with each live secret of the
      subscription, space-separated, so a rotated secret keeps verifying during its overlap).
      Signing is done by the ``standardwebhooks`` library itself. ``Hub-Signature`` (with
      ``Hub-Delivery-Id``) is the hub's own signature, verifiable with its published keys
      (``hub.security.delivery_signing``), as on HTTP deliveries.
    - The destination is checked again for every new connection (DNS may have changed since
      the subscription was made): https only, and no private, link-local, multicast, reserved
      or unspecified address; loopback over http only where the hub allows it (tests, demo).
      The connection goes to an address that check approved, not to a second resolution of the
      name, so a DNS answer that changes between check and connect (DNS rebinding) cannot turn
      the hub onto an internal address; TLS still verifies the certificate for the URL's host
      name (SNI) and the Host header names it. A keep-alive connection to an approved address
      is reused without resolving again. Where the environment routes the URL through a proxy
      the proxy connects, so the name is checked before each attempt and the proxy resolves it.
    - Each delivery thread POSTs over its own keep-alive ``http.client`` connection, with one
      TLS context per route (``hub.adapters.httpclients.ThreadPosts``): an httpx client per
      thread and route built its own TLS context, ~20 ms of CPU each, even for http URLs.
    - 410 Gone suspends the subscription and dead-letters the message (the subscriber asked
      to stop); 408, 425, 429, 5xx and connection failures are retried; other 4xx are permanent.

Connection string (route settings; the secrets stay with the subscription, never in the route):
    {"url": "https://agency.example/hooks/hr", "subscription_id": "...", "timeout_seconds": 10}
"""
from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from standardwebhooks import Webhook

from hub.adapters.base import PUSH, SEND, SIGNER, SUBSCRIPTIONS, Adapter, Health, OutboundMessage, Receipt
from hub.adapters.httpclients import Answer, ThreadClients, ThreadPosts, post_limited
from hub.errors import DeliveryError

RETRYABLE_STATUS = {408, 425, 429}
GONE = 410
RECEIPT_LIMIT = 2000


class UnsafeDestination(ValueError):
    """A webhook URL the hub must not call; ``rule`` names why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def check_destination(url: str, *, allow_loopback: bool, resolve: Any = None) -> list[str]:
    """Refuse a URL that is not https or whose host resolves to an address the hub must not
    call (SSRF: the hub sits inside government networks). Returns the resolved addresses, the
    only ones the hub may connect to for this URL."""
    resolve = resolve or socket.getaddrinfo  # looked up per call, so tests can stand in for DNS
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeDestination("https", f"{url!r} is not an http(s) URL with a host")
    if parts.scheme == "http" and not (allow_loopback and _names_loopback(parts.hostname)):
        raise UnsafeDestination("https", f"{url!r} must use https (plain http only to loopback in tests)")
    try:
        infos = resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                        type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeDestination("resolvable", f"host {parts.hostname!r} does not resolve: {exc}") from exc
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise UnsafeDestination("resolvable", f"host {parts.hostname!r} has no address")
    loopback_only = True
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        if address.is_loopback:
            if not allow_loopback:
                raise UnsafeDestination("forbidden_address", f"{parts.hostname} resolves to loopback {text}")
            continue
        loopback_only = False
        if (address.is_private or address.is_link_local or address.is_multicast or address.is_reserved
                or address.is_unspecified or not address.is_global):
            raise UnsafeDestination("forbidden_address",
                                    f"{parts.hostname} resolves to {text}, a non-public address")
    if parts.scheme != "https" and not loopback_only:
        raise UnsafeDestination("https", f"{url!r} must use https (plain http only to loopback in tests)")
    return addresses


def _names_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(description="Where events are POSTed.")
    subscription_id: str = Field(min_length=1, max_length=64, description="Subscription whose secrets sign.")
    timeout_seconds: float = Field(10.0, gt=0, le=600, description="Timeout of one POST.")
    allow_loopback: bool = Field(False, description="Allow a loopback destination over http (tests, demo).")


def webhook_body(message: OutboundMessage) -> bytes:
    data = orjson.loads(message.payload) if message.meta.content_type == "application/json" \
        else message.payload.decode("utf-8")
    return orjson.dumps({"type": message.meta.service, "timestamp": message.meta.received_at.isoformat(),
                         "data": data})


def sign(secrets: list[str], message_id: str, timestamp: datetime, body: bytes) -> str:
    """The ``webhook-signature`` header: one ``v1,...`` per live secret."""
    text = body.decode("utf-8")
    return " ".join(Webhook(secret).sign(message_id, timestamp, text) for secret in secrets)


class WebhookAdapter(Adapter):
    scheme = "webhook"
    capabilities = frozenset({SEND, PUSH})
    Settings = WebhookSettings
    resources = frozenset({SUBSCRIPTIONS, SIGNER})
    summary = "POST an event to a subscriber's URL, signed per Standard Webhooks; 410 suspends the subscription."

    def __init__(self, settings: WebhookSettings) -> None:
        super().__init__(settings)
        # No redirects (neither client follows them): a 3xx to another host would bypass the
        # destination check.
        url = str(self.settings.url)
        self._posts = ThreadPosts(url, timeout=self.settings.timeout_seconds, addresses=self._approved) \
            if ThreadPosts.usable(url) else None
        # Behind a proxy: httpx clients sharing one TLS context (each would build its own).
        self._ssl = httpx.create_ssl_context() if self._posts is None else None
        self._clients = ThreadClients(lambda: httpx.Client(timeout=self.settings.timeout_seconds,
                                                           follow_redirects=False, verify=self._ssl))

    def _approved(self) -> list[str]:
        return check_destination(str(self.settings.url), allow_loopback=self.settings.allow_loopback)

    def _subscriptions(self) -> Any:
        service = self.resource(SUBSCRIPTIONS)
        if service is None:
            raise DeliveryError("this process has no subscription store to sign webhooks with")
        return service

    def send(self, message: OutboundMessage) -> Receipt:
        url = str(self.settings.url)
        subscriptions = self._subscriptions()
        secrets = subscriptions.signing_secrets(self.settings.subscription_id)
        if not secrets:
            raise DeliveryError(f"subscription {self.settings.subscription_id} has no live secret", permanent=True)
        body = webhook_body(message)
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": sign(secrets, message.id, now, body),
        }
        if (signer := self.resource(SIGNER)) is not None:  # the hub's own signature too (issue 12)
            meta = message.meta
            headers["Hub-Delivery-Id"] = message.delivery
            headers["Hub-Signature"] = signer.sign(body, delivery_id=message.delivery, message_key=message.key,
                                                   message_id=message.id, sender=meta.sender,
                                                   receiver=meta.receiver, service=meta.service)
        try:
            response = self._post(url, body, headers)
        except UnsafeDestination as exc:
            raise DeliveryError(f"webhook destination refused: {exc}", permanent=exc.rule != "resolvable") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook POST to {url} failed: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return Receipt(response.text[:RECEIPT_LIMIT], {"status_code": response.status_code})
        if response.status_code == GONE:
            reason = f"subscriber answered 410 Gone at {url}"
            subscriptions.suspend(self.settings.subscription_id, reason)
            raise DeliveryError(f"{reason}; subscription suspended", permanent=True, status_code=GONE)
        permanent = response.status_code < 500 and response.status_code not in RETRYABLE_STATUS
        raise DeliveryError(f"subscriber answered HTTP {response.status_code}: {response.text[:300]}",
                            permanent=permanent, status_code=response.status_code)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        if self._posts is not None:
            return self._posts.post(body, headers)  # checks the destination on each new connection
        self._approved()
        return post_limited(self._clients.get(), url, content=body, headers=headers)

    def check(self) -> Health:
        try:
            addresses = check_destination(str(self.settings.url), allow_loopback=self.settings.allow_loopback)
        except UnsafeDestination as exc:
            return Health(False, str(exc))
        return Health(True, f"{self.settings.url.host} resolves to {', '.join(addresses)}")

    def close(self) -> None:
        self._clients.close()
        if self._posts is not None:
            self._posts.close()
