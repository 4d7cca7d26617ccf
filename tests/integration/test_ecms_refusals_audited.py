"""Issue 12, finding 6: e-CMS refusals (E008, E010, E017) are in the audit trail, bounded.

They went only to a logger. Now each is an ``ecms.refused`` entry, one per caller and code
per interval (``HUB_AUDIT_ANONYMOUS_INTERVAL_SECONDS``) carrying how many were left out, so a
department repeating a refused call cannot flood the trail.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.config import SecuritySettings
from hub.security.sampling import SampledRefusals
from hub.security.wiring import security_of
from tests.conftest import fast_settings
from tests.integration.test_ecms_node import basic, envelope, error_code, outbound, raw_letter
from tests.support.ecms import node_serving, post_soap

INTERVAL = 600.0  # no second entry within a test


@pytest.fixture
def node(tmp_path: Path):
    with node_serving(fast_settings(tmp_path / "data", security=SecuritySettings(
            auth_failures_per_client=1000, audit_anonymous_interval_seconds=INTERVAL))) as found:
        yield found


def refusals(hub) -> list[dict]:
    return [{**e, "detail": json.loads(e["detail"])} for e in security_of(hub).audit.entries(kind="ecms.refused")]


def delete(process_id: str) -> str:
    return envelope(f"<CorrespondenceLetterDeleteRequest><ProcessID>{process_id}</ProcessID>"
                    "</CorrespondenceLetterDeleteRequest>")


def test_a_spoofed_sender_is_in_the_trail(node):
    url, hub = node
    refused = post_soap(url, outbound(raw_letter()), **basic("0402"))  # 0402 claims to be 0401
    assert error_code(refused) == "E008"
    [entry] = refusals(hub)
    assert entry["actor"] == "ecms:0402" and entry["decision"] == "refused"
    assert entry["detail"]["code"] == "E008" and "0401" in entry["detail"]["reason"]


def test_repeated_refusals_are_counted_not_each_recorded(node):
    url, hub = node
    for n in range(5):
        assert error_code(post_soap(url, delete(f"none-{n}"), **basic("0402"))) == "E010"
    entries = refusals(hub)
    assert len(entries) == 1, entries
    assert entries[0]["detail"]["code"] == "E010" and entries[0]["detail"]["suppressed"] == 0
    # another caller is sampled on its own
    assert error_code(post_soap(url, delete("none-6"), **basic("0401"))) == "E010"
    assert len(refusals(hub)) == 2


def test_the_next_entry_carries_the_count_left_out():
    recorded, now = [], [0.0]
    sampled = SampledRefusals(lambda kind, **fields: recorded.append((kind, fields)), "ecms.refused", 60.0,
                              clock=lambda: now[0])
    assert sampled("ecms:0402", "CorrespondenceLetterDeleteRequest", "E010", code="E010")
    assert not any(sampled("ecms:0402", "CorrespondenceLetterDeleteRequest", "E010") for _ in range(4))
    assert sampled("ecms:0402", "CorrespondenceLetterDeleteRequest", "E008")  # another code: its own
    now[0] = 61.0
    assert sampled("ecms:0402", "CorrespondenceLetterDeleteRequest", "E010")
    assert [f["suppressed"] for _, f in recorded] == [0, 0, 4]
    assert all(k == "ecms.refused" and f["decision"] == "refused" for k, f in recorded)
