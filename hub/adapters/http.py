"""Plain HTTP delivery: POST the envelope as JSON to a URL; any 2xx is the receipt.

Features:
    - Headers a receiver sees: ``Idempotency-Key`` and ``Hub-Delivery-Id`` (the delivery's id:
      the same on every retry, so a receiver applies a delivery once; new when a hub admin
      replays the message, so a deliberate replay is not dropped as a duplicate);
      ``Hub-Message-Key`` (the hub's key of the message, the same across replays and unique
      across senders); ``X-Hub-Message-Id`` and ``X-Hub-Sender`` (the sender's own id, unique
      per sender only, and the sender); ``X-Hub-Service``; ``Hub-Signature``, the hub's detached
      JWS over the body (``hub.security.delivery_signing``; keys at ``/.well-known/jwks.json``).
    - Keep-alive connections are reused (one per delivery thread), over ``http.client`` unless
      the environment names a proxy for the URL (then httpx, which honours it).
    - 408, 425, 429 and 5xx and connection failures are retried; other 4xx are permanent.
    - ``query``: POST the query's JSON body to the URL and take a 2xx JSON object back as the
      answer (its ``observed_at`` member, when present, dates it). The answer is read as a
      stream and cut off at the service's ``max_answer_bytes``; a non-2xx, a body that is not
      a JSON object, or one too large is a ``QueryAnswerError``; no answer within the
      service's timeout is ``QueryTimedOut``.

Connection string (route settings):
    {"url": "https://agency.example/inbox", "timeout_seconds": 10, "headers": {"X-Api-Key": "..."}}
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import orjson
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from hub.adapters.base import (
    PUSH, QUERY, SEND, SIGNER, Adapter, Health, OutboundMessage, QueryAnswer, QueryAnswerError, QueryRequest,
    QueryTimedOut, Receipt,
)
from hub.adapters.httpclients import Answer, ThreadClients, ThreadPosts, post_limited
from hub.errors import DeliveryError

RETRYABLE_STATUS = {408, 425, 429}
RECEIPT_LIMIT = 2000
# A document up to this size is joined into one buffer: signed over it and sent as one body
# write (its three pieces were three writes, each a system call and a GIL hand-over among the
# delivery threads). Larger ones stay in pieces, so a large delivery holds no second copy.
JOINED_BODY_BYTES = 64 * 1024


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
    capabilities = frozenset({SEND, PUSH, QUERY})
    resources = frozenset({SIGNER})
    Settings = HttpSettings
    streams_payload = True
    summary = "POST the envelope as JSON to a URL; 2xx is the receipt. Queries: POST the request, a JSON answer back."

    def __init__(self, settings: HttpSettings) -> None:
        super().__init__(settings)
        self._clients = ThreadClients(lambda: httpx.Client(
            timeout=self.settings.timeout_seconds, headers=self.settings.headers,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4)))
        # Deliveries POST over http.client (hub/adapters/httpclients.py: a quarter of the CPU),
        # unless the environment sends this URL through a proxy.
        url = str(self.settings.url)
        self._posts = ThreadPosts(url, timeout=self.settings.timeout_seconds, headers=self.settings.headers) \
            if ThreadPosts.usable(url) else None
        self._query_client: httpx.Client | None = None
        self._query_lock = threading.Lock()

    @property
    def _client(self) -> httpx.Client:
        return self._clients.get()

    def send(self, message: OutboundMessage) -> Receipt:
        length, document = message.document_stream()
        body = b"".join(document()) if message.stream is None and length <= JOINED_BODY_BYTES else None
        if body is not None:
            document = lambda: iter((body,))  # noqa: E731
        headers = self._signed(message, length, document)
        try:
            response = self._post(
                document() if body is None else body,
                {
                    **headers,
                    "Content-Length": str(length),
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

    def _post(self, content: bytes | Iterator[bytes], headers: dict[str, str]) -> Answer:
        if self._posts is not None:
            return self._posts.post(content, headers)
        return post_limited(self._client, str(self.settings.url), content=content, headers=headers)

    def _queries(self) -> httpx.Client:
        # One pooled client for every thread that asks: queries come from the hub's fan-out
        # pool, and a client (and its connection) per pool thread would make each new thread's
        # first query pay for a client and a handshake.
        with self._query_lock:
            if self._query_client is None:
                self._query_client = httpx.Client(headers=self.settings.headers, limits=httpx.Limits(
                    max_connections=32, max_keepalive_connections=32))
            return self._query_client

    def query(self, request: QueryRequest) -> QueryAnswer:
        url = str(self.settings.url)
        deadline = time.monotonic() + request.timeout_seconds
        body = bytearray()
        try:
            with self._queries().stream("POST", url, content=orjson.dumps(request.body), timeout=request.timeout_seconds,
                                     headers={"Content-Type": "application/json", "X-Hub-Service": request.service,
                                              "X-Hub-Consumer": request.consumer}) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > request.max_answer_bytes:
                    raise QueryAnswerError(f"{url} announced an answer of {declared} bytes; the service allows at "
                                           f"most {request.max_answer_bytes}")
                # A slow drip of bytes resets httpx's read timeout on every chunk: the
                # deadline bounds the whole answer.
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > request.max_answer_bytes:
                        raise QueryAnswerError(f"{url} answered more than the service's limit of "
                                               f"{request.max_answer_bytes} bytes; the answer was cut off")
                    if time.monotonic() > deadline:
                        raise QueryTimedOut(f"{url} did not finish its answer within {request.timeout_seconds} s")
                status = response.status_code
        except httpx.TimeoutException as exc:
            raise QueryTimedOut(f"{url} did not answer within {request.timeout_seconds} s") from exc
        except httpx.HTTPError as exc:
            raise QueryAnswerError(f"query to {url} failed: {type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise QueryAnswerError(f"{url} answered HTTP {status}: {bytes(body[:300]).decode('utf-8', 'replace')}",
                                   status_code=status)
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise QueryAnswerError(f"{url} answered something that is not JSON: {exc}") from exc
        if not isinstance(answer, dict):
            raise QueryAnswerError(f"{url} answered a JSON {type(answer).__name__}, not an object")
        observed = answer.get("observed_at")
        return QueryAnswer(answer, observed if isinstance(observed, str) else None)

    def _signed(self, message: OutboundMessage, length: int, document: Callable[[], Iterator[bytes]]) -> dict[str, str]:
        """``Hub-Signature`` over the body, when this process has the hub's signer (which holds
        one copy of a streamed payload while it signs: ``DeliverySigner.sign_pieces``)."""
        signer = self.resource(SIGNER)
        if signer is None:
            return {}
        meta = message.meta
        return {"Hub-Signature": signer.sign_pieces(document(), length, delivery_id=message.delivery,
                                                    message_key=message.key, message_id=message.id,
                                                    sender=meta.sender, receiver=meta.receiver, service=meta.service)}

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
        if self._posts is not None:
            self._posts.close()
        with self._query_lock:
            if self._query_client is not None:
                self._query_client.close()
                self._query_client = None
