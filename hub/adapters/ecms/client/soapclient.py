"""A zeep client of an e-CMS node, shared by the ``ecms`` adapter, the reference e-Saraban
simulator and ``hub bench``.

Features:
    - loads the node's WSDL (``<url>?wsdl``) and calls every operation by name;
    - credentials as WS-Security UsernameToken (default), HTTP Basic, or both; a client
      certificate (mutual TLS) and a CA bundle for the node's certificate;
    - calls go to ``url`` whatever address the WSDL publishes (a node behind a proxy or
      DGA's node may publish an internal address);
    - WS-Addressing headers (``wsa:MessageID``, ``wsa:To``) on every request;
    - a fault's ``ErrorDetail`` becomes :class:`EcmsClientError` with its ``code``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault, TransportError
from zeep.wsa import WsAddressingPlugin
from zeep.wsse.username import UsernameToken

from hub.adapters.ecms.codec.letter import kid, localname, text
from hub.standards.safexml import XmlError, parse_xml

MAX_ANSWER_BYTES = 512 * 1024 * 1024  # a queue item's letter with its base64 attachments


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


def _fault_error(fault: Fault) -> EcmsClientError:
    detail = fault.detail
    code = description = None
    if detail is not None:
        for element in detail.iter():
            if not isinstance(element.tag, str):
                continue
            if localname(element.tag) == "ErrorCode":
                code = (element.text or "").strip()
            elif localname(element.tag) == "ErrorDescription":
                description = element.text or ""
    return EcmsClientError(code or "E099", description or str(fault.message))


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

    def call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.service, operation)(**kwargs)
        except Fault as fault:
            raise _fault_error(fault) from None
        except TransportError as exc:
            raise EcmsClientError("E099", f"HTTP {exc.status_code}: {exc.content[:300]!r}") from None

    # -------------------------------------------------------------- the message set

    def send(self, item: etree._Element) -> Any:
        """Send a letter (rsm:GovernmentDocument) or a notifier; returns the outbound answer."""
        return self.call("CorrespondenceLetterOutbound", _value_1=item)

    def _raw_item(self, operation: str, **kwargs: Any) -> QueueItem | None:
        """Queue answers are read from the raw XML: zeep would turn the letter into typed
        objects, while callers want the element with its canonical prefixes."""
        try:
            with self._client.settings(raw_response=True):
                response = getattr(self.service, operation)(**kwargs)
        except TransportError as exc:
            raise EcmsClientError("E099", f"HTTP {exc.status_code}: {exc.content[:300]!r}") from None
        try:
            root = parse_xml(response.content, max_bytes=MAX_ANSWER_BYTES)
        except XmlError as exc:
            raise EcmsClientError("E001", f"the node's answer is not XML (HTTP {response.status_code}): {exc}") from None
        body = kid(root, "Body")
        answer = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
        if answer is None:
            raise EcmsClientError("E001", "the node's answer has no body")
        if localname(answer.tag) == "Fault":
            raise EcmsClientError(text(answer, "detail", "ErrorDetail", "ErrorCode") or "E099",
                                  text(answer, "detail", "ErrorDetail", "ErrorDescription") or text(answer, "faultstring") or "")
        process_id = text(answer, "ProcessID")
        if process_id is None:
            return None
        items = [c for c in answer if isinstance(c.tag, str) and localname(c.tag) not in ("ProcessID", "ProcessTime")]
        return QueueItem(process_id, text(answer, "ProcessTime"), items[0])

    def poll(self) -> QueueItem | None:
        return self._raw_item("CorrespondenceLetterInbound")

    def special(self, process_id: str) -> QueueItem | None:
        return self._raw_item("CorrespondenceLetterInboundSpecial", ProcessID=process_id)

    def delete(self, process_id: str) -> Any:
        return self.call("CorrespondenceLetterDelete", ProcessID=process_id)

    def withdraw(self, letter_id: str, correspondence_date: str, sender_code: str, receiver_code: str) -> Any:
        return self.call("CorrespondenceDeleteGovernmentDocument", LetterID=letter_id,
                         CorrespondenceDate=correspondence_date, SenderDepartment={"Code": sender_code},
                         AcceptDepartment={"Code": receiver_code})

    def status(self, process_id: str) -> Any:
        return self.call("OutboundStatus", ProcessID=process_id)

    def ministries(self) -> list[Any]:
        return list(self.call("GetMinistryOrganizationList") or [])

    def organizations(self, ministry_id: str | None = None) -> list[Any]:
        return list(self.call("GetOrganizationList", MinistryID=ministry_id) or [])

    def codes(self, which: str) -> dict[str, str]:
        """``which`` is Secret, Speed or Mime."""
        return {c.ID: c.Name for c in (self.call(f"Get{which}Codes") or [])}

    def time(self) -> str:
        answer = self.call("TimeCheck")
        # zeep unwraps a response with one child element into that child's value
        return answer if isinstance(answer, str) else answer.ServerTime

    def close(self) -> None:
        self._client.transport.session.close()
