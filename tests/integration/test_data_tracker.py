"""An e-service's token reads the unified record only within the citizen's consent (the same
403 for every refusal, known citizen or not), and the data tracker lists exactly the reads
made of that citizen's data, from the signed audit trail, and nothing else (issue 15); on
SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from hub.integration.tracker import CSV_COLUMNS
from tests.support.auth import bearer
from tests.support.citizen_flow import (CITIZEN_ID, OTHER_CITIZEN, PASSWORD, PORTAL, PURPOSE, add_citizen, browser,
                                        consent_token, register_portal, sign_in)


def record(api: TestClient, token: str, citizen: str = CITIZEN_ID, fields: str = "person,position",
           purpose: str = PURPOSE):  # noqa: ANN201
    return api.get(f"/v1/citizens/{citizen}/record", params={"fields": fields, "purpose": purpose},
                   headers=bearer(token))


def test_a_token_reads_within_its_consent_only_and_every_refusal_is_the_same_403(hub, client) -> None:
    keys = register_portal(hub)
    add_citizen(hub)
    web = browser(client.app)
    sign_in(web)
    api = TestClient(client.app, base_url="https://testserver")
    token = consent_token(web, api, keys, scope="person position")
    read = record(api, token)
    assert read.status_code == 200, read.text
    assert read.json()["basis"]["kind"] == "citizen_consent"

    refusals = [record(api, token, citizen=OTHER_CITIZEN),  # another citizen (not known to the hub)
                record(api, token, fields="person,letters"),  # beyond the consent
                record(api, token, purpose="something else")]  # another purpose
    consent_id = hub.integration.citizens.eservices.consents_of(CITIZEN_ID)[0].id
    hub.integration.citizens.eservices.revoke(CITIZEN_ID, consent_id)
    refusals.append(record(api, token))  # revoked: the next read
    assert {r.status_code for r in refusals} == {403}
    assert len({(r.json()["code"], r.json()["message"]) for r in refusals}) == 1
    audited = hub.security.audit.entries(kind="citizen.record.read")
    assert [e["decision"] for e in audited] == ["granted", "refused", "refused", "refused", "refused"]


def test_the_tracker_lists_exactly_the_reads_made_and_nothing_else(hub, client) -> None:
    keys = register_portal(hub)
    add_citizen(hub)
    add_citizen(hub, OTHER_CITIZEN)
    web = browser(client.app)
    sign_in(web)
    api = TestClient(client.app, base_url="https://testserver")
    token = consent_token(web, api, keys, scope="person position")
    assert record(api, token).status_code == 200
    assert record(api, token, fields="position").status_code == 200
    assert record(api, token, purpose="marketing").status_code == 403  # refused: not a read
    # a hub admin reads this citizen (the legal basis "admin") and another citizen
    assert client.get(f"/v1/citizens/{CITIZEN_ID}/record", params={"fields": "telework", "purpose": "audit"}
                      ).status_code == 200
    assert client.get(f"/v1/citizens/{OTHER_CITIZEN}/record", params={"fields": "person", "purpose": "audit"}
                      ).status_code == 200

    session = api.post("/v1/auth/login", json={"username": CITIZEN_ID, "password": PASSWORD}).json()["session_token"]
    reads = api.get("/v1/citizens/me/reads", headers=bearer(session)).json()["reads"]
    assert [(r["reader"], r["reader_kind"], r["groups"], r["purpose"], r["basis"]) for r in reads] == [
        (PORTAL, "eservice", ["person", "position"], PURPOSE, "citizen_consent"),
        (PORTAL, "eservice", ["position"], PURPOSE, "citizen_consent"),
        ("client:test-admin", "admin", ["telework"], "audit", "admin"),
    ]
    assert reads[0]["reader_name_th"] == "พอร์ทัลบริการประชาชน" and reads[0]["basis_id"]
    seqs = [r["seq"] for r in reads]
    assert seqs == sorted(seqs) and all(len(r["entry_hash"]) == 64 for r in reads)

    other = api.post("/v1/auth/login", json={"username": OTHER_CITIZEN, "password": PASSWORD}).json()["session_token"]
    assert [r["groups"] for r in api.get("/v1/citizens/me/reads", headers=bearer(other)).json()["reads"]] == [["person"]]

    exported = api.get("/v1/citizens/me/reads", params={"format": "csv"}, headers=bearer(session))
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert tuple(rows[0]) == CSV_COLUMNS and [r["seq"] for r in rows] == [str(s) for s in seqs]
    page = web.get("/citizen/reads")
    assert page.status_code == 200 and page.text.count('class="read"') == 3
    assert web.get("/citizen/reads.json").json()["reads"] == reads
    # no one (an admin included) can delete a read: no such route, and the chain still verifies
    assert client.delete("/v1/citizens/me/reads").status_code == 405
    assert hub.security.audit.verify().ok
    # staff are not citizens: the tracker is the citizen's own
    assert client.get("/v1/citizens/me/reads").status_code == 403
