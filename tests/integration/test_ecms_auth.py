"""Every operation of the e-CMS node refuses callers without valid credentials, audited;
a department never reaches another department's queue, and learns nothing of it."""
from __future__ import annotations

import pytest
from lxml import etree

from hub.config import default_standards_dir
from hub.security.wiring import security_of
from tests.integration.test_ecms_node import (  # noqa: F401  (node is a fixture)
    basic, envelope, error_code, node, outbound, raw_letter,
)
from tests.support.ecms import post_soap
from tests.support.waiting import wait_for

WSDL = default_standards_dir() / "th.ecms.service" / "1.0.0" / "service.wsdl"
NS = {"wsdl": "http://schemas.xmlsoap.org/wsdl/"}


def request_elements() -> list[str]:
    """The request root of every operation the published WSDL declares."""
    wsdl = etree.parse(str(WSDL))
    parts = {m.get("name"): m.find("wsdl:part", NS).get("element").split(":")[-1]
             for m in wsdl.iterfind("wsdl:message", NS)}
    operations = wsdl.iterfind("wsdl:portType/wsdl:operation", NS)
    return [parts[op.find("wsdl:input", NS).get("message").split(":")[-1]] for op in operations]


def test_the_wsdl_declares_the_whole_message_set():
    assert len(request_elements()) >= 12


def refusals(hub) -> int:
    return len(security_of(hub).audit.entries(kind="auth.refused"))


@pytest.mark.parametrize("element", request_elements())
def test_every_operation_refuses_a_caller_without_credentials(node, element):  # noqa: F811
    url, hub = node
    before = refusals(hub)
    response = post_soap(url, envelope(f"<{element}/>"))
    assert response.status_code == 200 and error_code(response) == "E009"
    wrong = post_soap(url, envelope(f"<{element}/>"), Authorization="Basic MDQwMTp3cm9uZw==")  # 0401:wrong
    assert error_code(wrong) == "E009"
    # the named refusal is audited each time; anonymous ones once per source per interval
    # (issue 12: tests/integration/test_audit_truth.py)
    assert refusals(hub) >= before + 1


def test_another_departments_queue_item_answers_like_a_missing_one(node):  # noqa: F811
    """0402 has a real item waiting; 0401's attempts to read or delete it get the same answer
    as for a ProcessID that does not exist, and the item stays in 0402's queue."""
    url, hub = node
    sent = post_soap(url, outbound(raw_letter(id="กค 0401/auth-leak")), **basic("0401"))
    assert sent.status_code == 200, sent.text
    poll = wait_for(
        lambda: (r := post_soap(url, envelope("<CorrespondenceLetterInboundRequest/>"), **basic("0402")))
        .text.count("ProcessID") and r, timeout=20, what="the letter in 0402's queue")
    process_id = etree.fromstring(poll.content).find(".//ProcessID").text

    def as_0401(operation: str, pid: str):
        return post_soap(url, envelope(f"<{operation}><ProcessID>{pid}</ProcessID></{operation}>"), **basic("0401"))

    for operation in ("CorrespondenceLetterDeleteRequest", "CorrespondenceLetterInboundSpecialRequest"):
        theirs, missing = as_0401(operation, process_id), as_0401(operation, "no-such-process-id")
        assert error_code(theirs) == error_code(missing) == "E010"
        assert theirs.status_code == missing.status_code
    still_there = post_soap(url, envelope(f"<CorrespondenceLetterInboundSpecialRequest><ProcessID>{process_id}"
                                          "</ProcessID></CorrespondenceLetterInboundSpecialRequest>"), **basic("0402"))
    assert still_there.status_code == 200 and process_id in still_there.text
