"""Finding 6: audit entries are true and bounded (issue 12)."""
from __future__ import annotations

import base64

from hub.security.sampling import RefusalSampler
from hub.security.wiring import security_of
from tests.integration.test_ecms_node import basic, envelope, node  # noqa: F401  (fixture)
from tests.support.auth import bearer
from tests.support.ecms import post_soap


def entries(hub, kind: str) -> list[dict]:  # noqa: ANN001
    return security_of(hub).audit.entries(kind=kind)


def test_garbage_bearer_tokens_are_sampled_per_source_with_a_count(embedded_hub, anonymous_client):
    before = len(entries(embedded_hub, "auth.refused"))
    for i in range(50):
        assert anonymous_client.get("/v1/messages", headers=bearer(f"garbage-{i}")).status_code == 401
    added = entries(embedded_hub, "auth.refused")[before:]
    assert len(added) == 1, f"{len(added)} entries for one anonymous source"
    assert '"suppressed":0' in added[0]["detail"] and '"source":"testclient"' in added[0]["detail"]


def test_the_sampler_reports_what_it_left_out():
    sampler = RefusalSampler(interval_seconds=10)
    assert sampler.admit("10.0.0.1", now=0) == 0
    assert [sampler.admit("10.0.0.1", now=t) for t in (1, 2, 3)] == [None, None, None]
    assert sampler.admit("10.0.0.2", now=3) == 0  # another source has its own interval
    assert sampler.admit("10.0.0.1", now=11) == 3  # the next entry carries the count


def test_a_department_secret_login_adds_no_false_refusal(node):  # noqa: F811
    url, hub = node
    before = len(entries(hub, "auth.refused")) + len(entries(hub, "auth.failed"))
    answer = post_soap(url, envelope("<TimeCheckRequest/>"), **basic("0401"))
    assert answer.status_code == 200, answer.text
    assert len(entries(hub, "auth.refused")) + len(entries(hub, "auth.failed")) == before
    # a wrong department secret is still a refusal, recorded under the name it gave
    named = len([e for e in entries(hub, "auth.refused") if e["actor"] == "0401"])
    wrong = {"Authorization": "Basic " + base64.b64encode(b"0401:wrong").decode()}
    post_soap(url, envelope("<TimeCheckRequest/>"), **wrong)
    assert len([e for e in entries(hub, "auth.refused") if e["actor"] == "0401"]) == named + 1


def test_a_refused_replay_is_recorded_as_refused(embedded_hub, embedded_as_agency, embedded_client):
    sender = embedded_as_agency("TH/GOV/OCSC/hr", rights=[("hr.leave/v1", "TH/GOV/NESDC/plan")])
    embedded_as_agency("TH/GOV/NESDC/plan")
    embedded_client.post("/v1/routes", json={"receiver": "TH/GOV/NESDC/plan", "service": "*", "adapter": "memory",
                                             "settings": {"mailbox": "plan"}}).raise_for_status()
    sent = sender.post("/v1/messages", json={"sender": "TH/GOV/OCSC/hr", "receiver": "TH/GOV/NESDC/plan",
                                             "service": "hr.leave/v1", "payload": {"x": 1}})
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["id"]
    refused = sender.post(f"/v1/messages/{message_id}/replay")
    assert refused.status_code == 403
    trail = [e for e in entries(embedded_hub, "access.replay") if e["target"] == message_id]
    assert [e["decision"] for e in trail] == ["refused"], trail


def test_an_agency_is_not_offered_a_replay_link_it_may_not_use(embedded_as_agency, embedded_client):
    """Finding 9: links.replay only for hub admins."""
    sender = embedded_as_agency("TH/GOV/OCSC/hr", rights=[("hr.leave/v1", "TH/GOV/NESDC/plan")])
    embedded_as_agency("TH/GOV/NESDC/plan")
    embedded_client.post("/v1/routes", json={"receiver": "TH/GOV/NESDC/plan", "service": "*", "adapter": "memory",
                                             "settings": {"mailbox": "plan"}}).raise_for_status()
    sent = sender.post("/v1/messages", json={"sender": "TH/GOV/OCSC/hr", "receiver": "TH/GOV/NESDC/plan",
                                             "service": "hr.leave/v1", "payload": {"x": 1}})
    assert sent.json()["links"].get("replay") is None
    assert sender.get(sent.json()["links"]["self"]).json()["links"].get("replay") is None
    assert embedded_client.get(sent.json()["links"]["self"]).json()["links"]["replay"].endswith("/replay")
