"""A zeep client of an e-CMS node, shared by the ``ecms`` adapter, the reference e-Saraban
simulator and ``hub bench``.

Features:
    - loads the node's WSDL (``<url>?wsdl``) and calls every operation by name;
    - credentials as WS-Security UsernameToken (default), HTTP Basic, or both; a client
      certificate (mutual TLS) and a CA bundle for the node's certificate;
    - calls go to ``url`` whatever address the WSDL publishes (a node behind a proxy or
      DGA's node may publish an internal address);
    - WS-Addressing headers (``wsa:MessageID``, ``wsa:To``) on every request;
    - answers are read raw (no namespace, as deployed clients read them): an ``ErrorDetail``
      becomes :class:`EcmsClientError` with its ``code``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault, TransportError
from zeep.wsa import WsAddressingPlugin
from zeep.wsdl.utils import etree_to_string
from zeep.wsse.username import UsernameToken

from hub.adapters.ecms.codec.letter import NOTIFIER_KINDS, kid, localname, text
from hub.standards.safexml import XmlError, parse_xml

MAX_ANSWER_BYTES = 512 * 1024 * 1024  # a queue item's letter with its base64 attachments
ITEM_NAMES = {"GovernmentDocument", *NOTIFIER_KINDS}


class EcmsClientError(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


@dataclass
class QueueItem:
    process_id: str
    process_time: str | None
    element: etree._Element  # rsm:GovernmentDocument or a notifier, base64 inline


class Answer:
    """An answer element read by child name (``answer.ProcessID``; ``answer.get("Th-Name")``)."""

    def __init__(self, element: etree._Element) -> None:
        self.element = element

    def get(self, name: str) -> str | None:
        found = next((c for c in self.element if isinstance(c.tag, str) and localname(c.tag) == name), None)
        return None if found is None else (found.text or "").strip()

    def __getattr__(self, name: str) -> str | None:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)

    def rows(self, name: str) -> list[Answer]:
        return [Answer(e) for e in self.element.iter() if isinstance(e.tag, str) and localname(e.tag) == name]


def _error(answer: etree._Element) -> EcmsClientError | None:
    """``ErrorDetail`` in a 200 answer, or a SOAP Fault (the node's answer to non-SOAP input)."""
    detail = next((e for e in answer.iter() if isinstance(e.tag, str) and localname(e.tag) == "ErrorDetail"), None)
    if detail is not None:
        return EcmsClientError(text(detail, "ErrorCode") or "E099", text(detail, "ErrorDescription") or "")
    if localname(answer.tag) == "Fault":
        return EcmsClientError("E099", text(answer, "faultstring") or "SOAP Fault")
    return None


def read_answer(content: bytes, status_code: int) -> Answer:
    """The answer element of a node's SOAP response; raises :class:`EcmsClientError` for an
    ``ErrorDetail``, a SOAP Fault, a non-XML answer or an HTTP status other than 200."""
    try:
        root = parse_xml(content, max_bytes=MAX_ANSWER_BYTES)
    except XmlError as exc:
        raise EcmsClientError("E001", f"the node's answer is not XML (HTTP {status_code}): {exc}") from None
    body = kid(root, "Body")
    answer = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    if answer is None:
        raise EcmsClientError("E001", "the node's answer has no body")
    error = _error(answer)
    if error is not None:
        raise error
    if status_code != 200:
        raise EcmsClientError("E099", f"HTTP {status_code}")
    return Answer(answer)


class EcmsSoapClient:
    def __init__(self, url: str, username: str | None = None, password: str | None = None, *,
                 basic_auth: bool = False, username_token: bool | None = None,
                 cert: str | tuple[str, str] | None = None, verify: bool | str = True,
                 wsdl: str | None = None, timeout: float = 60.0) -> None:
        self.url = url
        session = requests.Session()
        session.verify = verify
        if cert is not None:
            session.cert = cert
        if basic_auth and username:
            session.auth = (username, password or "")
        if username_token is None:
            username_token = not basic_auth
        transport = zeep.Transport(session=session, timeout=timeout, operation_timeout=timeout)
        wsse = UsernameToken(username, password) if username and username_token else None
        self._client = zeep.Client(wsdl or f"{url}?wsdl", transport=transport, wsse=wsse,
                                   plugins=[WsAddressingPlugin()],
                                   settings=zeep.Settings(strict=False, xml_huge_tree=True))
        binding = next(iter(self._client.wsdl.bindings))
        self.service = self._client.create_service(binding, url)

    def call(self, operation: str, **kwargs: Any) -> Answer:
        """Call ``operation`` (zeep builds the request from the WSDL) and read its answer element
        raw: the node answers in no namespace, as deployed clients read it."""
        try:
            with self._client.settings(raw_response=True):
                response = getattr(self.service, operation)(**kwargs)
        except TransportError as exc:
            raise EcmsClientError("E099", f"HTTP {exc.status_code}: {exc.content[:300]!r}") from None
        except Fault as fault:
            raise EcmsClientError("E099", str(fault.message)) from None
        return read_answer(response.content, response.status_code)

    def request(self, operation: str, **kwargs: Any) -> tuple[bytes, dict[str, str]]:
        """The bytes and HTTP headers ``call(operation, **kwargs)`` would post (WS-Addressing and
        the UsernameToken included), for a client that posts them itself (``hub.bench.ecms_raw``)."""
        # zeep's own steps for a call: Client.create_message builds the envelope the same way
        # but drops the headers (SOAPAction) and addresses the WSDL's service, not ``url``.
        envelope, headers = self.service._binding._create(  # noqa: SLF001
            operation, (), kwargs, client=self._client, options=self.service._binding_options)  # noqa: SLF001
        return etree_to_string(envelope), dict(headers)

    # -------------------------------------------------------------- the message set

    def send(self, item: etree._Element) -> Answer:
        """Send a letter (rsm:GovernmentDocument) or a notifier; returns the outbound answer."""
        return self.call("CorrespondenceLetterOutbound", _value_1=item)

    def _raw_item(self, operation: str, **kwargs: Any) -> QueueItem | None:
        """Queue answers keep the element with its canonical prefixes (the relayed document)."""
        answer = self.call(operation, **kwargs)
        process_id = answer.ProcessID
        if not process_id:
            return None
        items = [c for c in answer.element if isinstance(c.tag, str)
                 and localname(c.tag) in ITEM_NAMES]
        if not items:
            raise EcmsClientError("E001", f"the node's {operation} answer holds no letter or notifier")
        return QueueItem(process_id, answer.ProcessTime, items[0])

    def poll(self) -> QueueItem | None:
        return self._raw_item("CorrespondenceLetterInbound")

    def special(self, process_id: str) -> QueueItem | None:
        element = etree.Element("ProcessID")
        element.text = process_id
        return self._raw_item("CorrespondenceLetterInboundSpecial", _value_1=element)

    def delete(self, process_id: str) -> Answer:
        return self.call("CorrespondenceLetterDelete", ProcessID=process_id)

    def withdraw(self, letter_id: str, correspondence_date: str, sender_code: str, receiver_code: str) -> Answer:
        return self.call("CorrespondenceDeleteGovernmentDocument", LetterID=letter_id,
                         CorrespondenceDate=correspondence_date, SenderDepartment={"Code": sender_code},
                         AcceptDepartment={"Code": receiver_code})

    def status(self, process_id: str) -> Answer:
        """The ``Outbound`` row of one item (``ProcessID``, ``LetterID``, ``ProcessStatus``...)."""
        rows = self.call("OutboundStatus", ProcessID=process_id).rows("Outbound")
        if not rows:
            raise EcmsClientError("E010", f"no Outbound row for {process_id}")
        return rows[0]

    def ministries(self) -> list[Answer]:
        """Rows with ``MinistryID``, ``Th-Name``, ``En-Name``."""
        return self.call("GetMinistryOrganizationList").rows("MinistryOrganizationList")

    def organizations(self, ministry_id: str | None = None) -> list[Answer]:
        """Rows with ``OrganizationID``, ``Th-Name``, ``En-Name``, ``ECMS-URL``, ``MinistryID``."""
        return self.call("GetOrganizationList", MinistryID=ministry_id).rows("OrganizationList")

    def codes(self, which: str) -> dict[str, str]:
        """``which`` is Secret, Speed (code -> name) or Mime (MIME type -> file extension)."""
        rows = self.call(f"Get{which}Codes").rows("Code")
        if which == "Mime":
            return {r.get("Content-type") or "": r.get("File-Extension") or "" for r in rows}
        return {r.Value or "": r.Description or "" for r in rows}

    def time(self) -> str:
        return self.call("TimeCheck").ECMSTime or ""

    def close(self) -> None:
        self._client.transport.session.close()
