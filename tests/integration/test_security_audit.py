"""The audit trail is tamper-evident; mTLS with real certificates; secrets never leak."""
from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.security import mtls
from hub.security.audit import verify_bundle
from hub.config import SecuritySettings
from hub.security.keys import load_public_key
from hub.security.tables import audit_log
from hub.security.wiring import security_of
from tests.support.auth import bearer


@pytest.fixture
def trail(embedded_hub):
    audit = security_of(embedded_hub).audit
    for i in range(12):
        audit.record("test.event", actor="tester", target=f"t{i}", n=i)
    return audit


def cli_verify(data_dir):
    return CliRunner().invoke(cli, ["audit", "verify", "--data-dir", str(data_dir)])


def test_untouched_log_verifies(embedded_hub, trail):
    report = trail.verify()
    assert report.ok, report.problem
    result = cli_verify(embedded_hub.settings.data_dir)
    assert result.exit_code == 0, result.output
    assert "audit trail OK" in result.output


def _seq_of(trail, target):
    return next(e["seq"] for e in trail.entries() if e["target"] == target)


def test_a_changed_entry_is_named(embedded_hub, trail):
    bad = _seq_of(trail, "t5")
    with embedded_hub.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == bad).values(actor="someone else"))
    result = cli_verify(embedded_hub.settings.data_dir)
    assert result.exit_code == 1
    assert f"BROKEN at entry {bad}" in result.output and "changed" in result.output


def test_a_removed_entry_is_named(embedded_hub, trail):
    bad = _seq_of(trail, "t7")
    with embedded_hub.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == bad))
    result = cli_verify(embedded_hub.settings.data_dir)
    assert result.exit_code == 1
    assert f"BROKEN at entry {bad}" in result.output and "removed" in result.output


def test_the_last_entry_removed_is_named(embedded_hub, trail):
    last = trail.entries()[-1]["seq"]
    with embedded_hub.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == last))
    report = trail.verify()
    assert not report.ok and report.first_bad_seq == last and "removed" in report.problem


def test_reordered_entries_are_named(embedded_hub, trail):
    a, b = _seq_of(trail, "t3"), _seq_of(trail, "t4")
    with embedded_hub.engine.begin() as conn:  # swap the two rows' positions
        conn.execute(update(audit_log).where(audit_log.c.seq == a).values(seq=-1))
        conn.execute(update(audit_log).where(audit_log.c.seq == b).values(seq=a))
        conn.execute(update(audit_log).where(audit_log.c.seq == -1).values(seq=b))
    result = cli_verify(embedded_hub.settings.data_dir)
    assert result.exit_code == 1
    assert f"BROKEN at entry {a}" in result.output and "moved" in result.output


def test_a_rewritten_chain_is_caught_by_the_signed_seal(embedded_hub, trail):
    """Someone with the database but not the key recomputes every hash after a change."""
    from hub.security.audit import GENESIS, entry_hash

    trail.seal()
    rows = trail.entries()
    rows[2]["actor"] = "forged"
    prev = GENESIS
    with embedded_hub.engine.begin() as conn:
        for row in rows:
            row["prev_hash"] = prev
            row["entry_hash"] = entry_hash(prev, row)
            conn.execute(update(audit_log).where(audit_log.c.seq == row["seq"])
                         .values(actor=row["actor"], prev_hash=row["prev_hash"], entry_hash=row["entry_hash"]))
            prev = row["entry_hash"]
        from hub.security.tables import audit_head
        conn.execute(update(audit_head).values(last_hash=prev))
    report = trail.verify()
    assert not report.ok and "signed" in report.problem


def test_export_bundle_verifies_offline_and_detects_changes(embedded_hub, trail, tmp_path):
    data_dir = embedded_hub.settings.data_dir
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(cli, ["audit", "export", "--out", str(out), "--data-dir", str(data_dir),
                                      "--since", "2000-01-01T00:00:00"])
    assert result.exit_code == 0, result.output
    pub = SecuritySettings().key_file(data_dir).with_name("hub-ed25519.pub.pem")
    ok = CliRunner().invoke(cli, ["audit", "verify", "--bundle", str(out), "--public-key", str(pub)])
    assert ok.exit_code == 0, ok.output
    bundle = json.loads(out.read_text())
    bundle["entries"][4]["actor"] = "edited"
    report = verify_bundle(bundle, load_public_key(pub))
    assert not report.ok and report.first_bad_seq == bundle["entries"][4]["seq"]
    # a bundle is only as good as the key it is checked with
    other = tmp_path / "other"
    from hub.security.keys import load_or_create, public_pem
    other_key = load_or_create(other / "k.pem")
    (other / "k.pub.pem").write_bytes(public_pem(other_key.public))
    bad = CliRunner().invoke(cli, ["audit", "verify", "--bundle", str(out), "--public-key", str(other / "k.pub.pem")])
    assert bad.exit_code == 1


def test_mutual_tls_with_real_certificates(embedded_hub, embedded_as_agency, anonymous_client, tmp_path):
    security = security_of(embedded_hub)
    embedded_as_agency("TH/GOV/OCSC/hr")
    security.hub_ca.init()
    key_path, cert_path = security.hub_ca.issue("TH/GOV/OCSC/hr", tmp_path)
    pem = cert_path.read_text()
    # 1. the ASGI TLS extension (servers that implement it hand the verified chain to the app)
    from starlette.requests import Request

    from hub.api.authentication import authenticate_request
    scope = {"type": "http", "method": "GET", "path": "/v1/auth/whoami", "headers": [],
             "extensions": {"tls": {"client_cert_chain": [pem]}}, "client": ("10.0.0.9", 5000),
             "query_string": b"", "app": anonymous_client.app}
    principal = authenticate_request(Request(scope), security.authenticator)
    assert principal.subsystems == {"TH/GOV/OCSC/hr"} and principal.method == "client_cert"
    # 2. a trusted TLS-terminating proxy's header; from an untrusted peer it is ignored
    header = {"X-SSL-Client-Cert": quote(pem)}
    assert anonymous_client.get("/v1/auth/whoami", headers=header).status_code == 401
    security.settings.trusted_proxies.append("testclient")
    try:
        who = anonymous_client.get("/v1/auth/whoami", headers=header)
        assert who.status_code == 200 and who.json()["method"] == "client_cert"
        # a certificate from a CA the hub does not trust
        rogue_key, rogue_ca = mtls.make_ca("Rogue CA")
        _, rogue = mtls.issue_client(rogue_key, rogue_ca, "TH/GOV/OCSC/hr")
        from cryptography.hazmat.primitives import serialization
        rogue_pem = rogue.public_bytes(serialization.Encoding.PEM).decode()
        refused = anonymous_client.get("/v1/auth/whoami", headers={"X-SSL-Client-Cert": quote(rogue_pem)})
        assert refused.status_code == 401 and "not issued by a CA this hub trusts" in refused.json()["message"]
        # ... until the agency's CA is trusted
        security.certs.trust("rogue-agency", rogue_ca.public_bytes(serialization.Encoding.PEM).decode(),
                             member_id="TH/GOV/OCSC", actor="t")
        assert anonymous_client.get("/v1/auth/whoami",
                                    headers={"X-SSL-Client-Cert": quote(rogue_pem)}).status_code == 200
        # an expired certificate
        import datetime as dt
        ca_key = serialization.load_pem_private_key(security.hub_ca.key_path.read_bytes(), password=None)
        _, old = mtls.issue_client(ca_key, security.hub_ca.cert(), "TH/GOV/OCSC/hr", days=1,
                                   not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
        expired = anonymous_client.get("/v1/auth/whoami", headers={
            "X-SSL-Client-Cert": quote(old.public_bytes(serialization.Encoding.PEM).decode())})
        assert expired.status_code == 401 and "validity" in expired.json()["message"]
    finally:
        security.settings.trusted_proxies.remove("testclient")


def test_secrets_never_appear_in_logs_errors_or_later_responses(embedded_hub, embedded_client, anonymous_client,
                                                               caplog):
    caplog.set_level(logging.DEBUG)
    embedded_client.post("/v1/agencies/TH/GOV/NESDC/subsystems", json={"code": "plan"}).raise_for_status()
    approved = embedded_client.post("/v1/agencies/TH/GOV/NESDC/subsystems/plan/approve")
    secret = approved.json()["credentials"]["client_secret"]
    cid = approved.json()["credentials"]["client_id"]
    token = anonymous_client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                         "client_secret": secret}).json()["access_token"]
    embedded_client.post("/v1/users", json={"username": "auditor1", "password": "a very long password",
                                            "roles": ["auditor"]}).raise_for_status()
    session = anonymous_client.post("/v1/auth/login", json={"username": "auditor1",
                                                           "password": "a very long password"}).json()["session_token"]
    later = [
        anonymous_client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                     "client_secret": secret + "x"}),
        anonymous_client.get("/v1/auth/whoami", headers=bearer(token + "x")),
        anonymous_client.get("/v1/auth/whoami", headers=bearer(session + "x")),
        embedded_client.get("/v1/clients"),
        embedded_client.get(f"/v1/agencies/TH/GOV/NESDC"),
        embedded_client.get("/v1/audit/entries"),
        embedded_client.get("/v1/audit/export"),
        # an explicit rotation (issue 12: re-approval alone no longer rotates), new secret
        embedded_client.post("/v1/agencies/TH/GOV/NESDC/subsystems/plan/approve", json={"rotate": True}),
    ]
    texts = [r.text for r in later[:-1]]
    audit_text = json.dumps(security_of(embedded_hub).audit.entries(), ensure_ascii=False)
    db_dump = "\n".join(str(r) for r in _all_rows(embedded_hub))
    for value in (secret, token, session, "a very long password"):
        assert value not in caplog.text
        assert all(value not in t for t in texts)
        assert value not in audit_text
        assert value not in db_dump
    assert later[-1].json()["credentials"]["client_secret"] != secret


def _all_rows(hub):
    from hub.db import metadata
    with hub.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name.startswith(("sec_", "audit_", "registry_")):
                yield from conn.execute(table.select()).all()
