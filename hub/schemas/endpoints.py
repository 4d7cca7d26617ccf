"""Delivery errors as a sender may see them: without the receiver's internal addresses.

A failed delivery's error names where the hub tried to deliver (``HTTP delivery to
http://10.1.2.3:8080/inbox failed``, a connection error with the peer's address). That is the
receiver's internal network, for the hub's operators, not for the sender reading its
message's status (issue 12, finding 9). ``hide_endpoints`` replaces every URL and IP address
in such a text; hub admins see the text as recorded.
"""
from __future__ import annotations

import re
from typing import Any

HIDDEN = "<receiver endpoint>"
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>),]+")
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\d.])")
_IPV6 = re.compile(r"\[[0-9a-fA-F:]{2,}\](?::\d{1,5})?")
# ``host:port`` as socket errors write it (``Connection refused: inbox.internal:8443``).
_HOST_PORT = re.compile(r"\b(?:[a-zA-Z0-9-]+\.)+[a-zA-Z][a-zA-Z0-9-]*:\d{1,5}\b")


def hide_endpoints(text: str | None) -> str | None:
    if not text:
        return text
    for pattern in (_URL, _IPV6, _IPV4, _HOST_PORT):
        text = pattern.sub(HIDDEN, text)
    return text


def hide_in_detail(detail: Any) -> Any:
    """A history event's detail with endpoints hidden in every text (an error, a dead letter's reason)."""
    if not isinstance(detail, dict):
        return detail
    return {k: hide_endpoints(v) if isinstance(v, str) else v for k, v in detail.items()}
