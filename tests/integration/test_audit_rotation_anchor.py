"""Issue 12, finding 5 (the rest): signing-key rotation keeps old seals verifiable, and the seal
head is anchored outside the hub.

After ``hub audit rotate-key`` the trail holds seals of two keys: ``hub audit verify`` checks
each with the key it names (the retired one is kept), and an exported bundle verifies offline
with only the new public key, through the succession record both keys signed. ``hub audit
anchor`` publishes the signed seal head to a file or URL off the host; ``verify --anchor``
then catches a truncated tail even when the witness file was deleted with it.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from hub.bootstrap import build_hub
from hub.cli import app as cli
from hub.security.audit import verify_bundle
from hub.security.keys import load_public_key
from hub.security.tables import audit_head, audit_log, audit_seals
from hub.security.wiring import security_of
from tests.integration.test_smaller_findings import Recorder


def hub_cli(settings, *args: str, code: int = 0) -> str:  # noqa: ANN001
    result = CliRunner().invoke(cli, [*args, "--data-dir", str(settings.data_dir)])
    assert result.exit_code == code, result.output
    return result.output


def record(settings, n: int, tag: str) -> None:  # noqa: ANN001
    hub = build_hub(settings)
    try:
        for i in range(n):
            security_of(hub).audit.record("test.event", actor="tester", target=f"{tag}{i}", n=i)
    finally:
        hub.close()


def test_seals_of_a_retired_key_still_verify_in_the_hub_and_offline(embedded_settings, tmp_path):
    record(embedded_settings, 5, "before")
    key_file = embedded_settings.security.key_file(embedded_settings.data_dir)
    old_public = key_file.with_name("hub-ed25519.pub.pem").read_bytes()
    out = hub_cli(embedded_settings, "audit", "rotate-key")
    assert "retired" in out
    assert key_file.with_name("hub-ed25519.pub.pem").read_bytes() != old_public
    record(embedded_settings, 5, "after")
    assert "audit trail OK" in hub_cli(embedded_settings, "audit", "verify")

    hub = build_hub(embedded_settings)
    try:
        seals = security_of(hub).audit.seals()
        assert len({s["key_id"] for s in seals}) == 2  # sealed by the old key, then the new
        bundle = security_of(hub).audit.export()
    finally:
        hub.close()
    current = load_public_key(key_file.with_name("hub-ed25519.pub.pem"))
    report = verify_bundle(bundle, current)
    assert report.ok, report.problem
    # without the succession record the old seals name a key the verifier does not know
    stripped = verify_bundle({**bundle, "key_succession": []}, current)
    assert not stripped.ok and "neither this hub's key nor one it retired" in stripped.problem
    # a succession record someone forged (the old key's signature replaced) vouches for nothing
    forged = [{**bundle["key_succession"][0], "signature_by_old": bundle["key_succession"][0]["signature_by_new"]}]
    assert not verify_bundle({**bundle, "key_succession": forged}, current).ok
    # and the CLI's offline check passes with the new public key alone
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    offline = CliRunner().invoke(cli, ["audit", "verify", "--bundle", str(path), "--public-key",
                                       str(key_file.with_name("hub-ed25519.pub.pem"))])
    assert offline.exit_code == 0, offline.output


@pytest.fixture
def anchored(embedded_settings, tmp_path):
    record(embedded_settings, 8, "e")
    elsewhere = tmp_path / "another-host" / "anchors.jsonl"
    receiver = Recorder()
    try:
        out = hub_cli(embedded_settings, "audit", "anchor", "--to", str(elsewhere), "--to", receiver.url)
    finally:
        receiver.close()
    assert "appended to" in out and "POSTed to" in out
    [line] = elsewhere.read_text(encoding="utf-8").splitlines()
    posted = json.loads(receiver.bodies[0])
    assert posted == json.loads(line) and posted["format"] == "hub-audit-anchor/1"
    return elsewhere


def test_an_anchored_head_holds_and_a_truncated_tail_is_caught(embedded_settings, anchored):
    assert "still in the trail" in hub_cli(embedded_settings, "audit", "verify", "--anchor", str(anchored))
    anchor = json.loads(anchored.read_text(encoding="utf-8"))
    keep = anchor["last_seq"] - 3
    hub = build_hub(embedded_settings)
    try:  # the attacker with the database and the host: truncate the tail, its seals, the witness
        with hub.engine.begin() as conn:
            last_hash = conn.execute(select(audit_log.c.entry_hash).where(audit_log.c.seq == keep)).scalar_one()
            conn.execute(delete(audit_log).where(audit_log.c.seq > keep))
            conn.execute(delete(audit_seals).where(audit_seals.c.last_seq > keep))
            conn.execute(update(audit_head).values(last_seq=keep, last_hash=last_hash, sealed_seq=keep))
    finally:
        hub.close()
    (embedded_settings.data_dir / "audit" / "witness.json").unlink()
    # inside the hub nothing is left to tell: the chain, its seals and the head agree
    assert "audit trail OK" in hub_cli(embedded_settings, "audit", "verify")
    result = CliRunner().invoke(cli, ["audit", "verify", "--anchor", str(anchored),
                                      "--data-dir", str(embedded_settings.data_dir)])
    assert result.exit_code == 1 and "were anchored" in result.output, result.output


def test_an_altered_anchor_is_refused(embedded_settings, anchored):
    anchor = json.loads(anchored.read_text(encoding="utf-8"))
    anchored.write_text(json.dumps({**anchor, "seals": anchor["seals"] - 1}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", "verify", "--anchor", str(anchored),
                                      "--data-dir", str(embedded_settings.data_dir)])
    assert result.exit_code == 1 and "not signed by this hub's key" in result.output, result.output
