"""Finding 5: the audit trail cannot be rewritten without the signing key (issue 12).

The attacker has the database (not the key): they change an entry, recompute the hash
chain, delete seals, truncate the tail. ``hub audit verify`` and the offline bundle check
catch each; ``hub audit export`` refuses a trail that does not verify.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.clock import utcnow
from hub.security.audit import GENESIS, entry_hash
from hub.security.tables import audit_head, audit_log, audit_seals
from hub.security.wiring import security_of


@pytest.fixture
def trail(embedded_hub, monkeypatch):
    # Unsealed entries count as tampering after this grace; tiny here so fresh entries qualify.
    monkeypatch.setenv("HUB_AUDIT_UNSEALED_GRACE_SECONDS", "0.001")
    audit = security_of(embedded_hub).audit
    for i in range(12):
        audit.record("auth.refused" if i == 4 else "test.event", actor="tester", target=f"t{i}",
                     decision="refused" if i == 4 else None, n=i)
    assert verify(embedded_hub).exit_code == 0  # the verifier's witness remembers the seals
    return audit


def verify(hub):  # noqa: ANN001, ANN201
    return CliRunner().invoke(cli, ["audit", "verify", "--data-dir", str(hub.settings.data_dir)])


def broken(hub) -> str:  # noqa: ANN001
    result = verify(hub)
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output
    return result.output


def rewrite_from(hub, seq: int, **changes) -> None:  # noqa: ANN001, ANN003
    """Change entry ``seq`` and recompute every hash after it, as someone without the key can."""
    with hub.engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()]
        prev = GENESIS
        for row in rows:
            if row["seq"] == seq:
                row.update(changes)
            row["prev_hash"], row["entry_hash"] = prev, entry_hash(prev, row)
            conn.execute(update(audit_log).where(audit_log.c.seq == row["seq"])
                         .values(**{k: row[k] for k in ("actor", "decision", "detail", "prev_hash", "entry_hash")}))
            prev = row["entry_hash"]
        conn.execute(update(audit_head).values(last_hash=prev))


def _seq(trail, target: str) -> int:  # noqa: ANN001
    return next(e["seq"] for e in trail.entries() if e["target"] == target)


def last_seq(hub) -> int:  # noqa: ANN001
    with hub.engine.connect() as conn:
        return conn.execute(select(func.max(audit_log.c.seq))).scalar()


def test_every_batch_is_sealed_at_once(embedded_hub, trail):
    report = trail.verify()
    assert report.ok and report.unsealed == 0 and report.seals >= 1


def test_a_sealed_refusal_made_a_grant_with_the_chain_recomputed_is_caught(embedded_hub, trail):
    rewrite_from(embedded_hub, _seq(trail, "t4"), decision="granted")
    assert "differ from what the hub signed" in broken(embedded_hub)


def test_the_same_rewrite_with_every_seal_deleted_is_caught(embedded_hub, trail):
    """The probe of the report: 'OK: 1197 entries, 0 signed seals' before issue 12."""
    rewrite_from(embedded_hub, _seq(trail, "t4"), decision="granted")
    with embedded_hub.engine.begin() as conn:
        conn.execute(delete(audit_seals))
        conn.execute(update(audit_head).values(sealed_seq=0))
    output = broken(embedded_hub)
    assert "not sealed" in output or "seals" in output
    # a verifier without the witness still fails once the unsealed entries are older than the grace
    (embedded_hub.settings.data_dir / "audit" / "witness.json").unlink()
    report = trail.verify(now=utcnow() + timedelta(minutes=5))
    assert not report.ok and "not sealed" in report.problem


def test_the_last_entry_rewritten_with_its_seal_deleted_is_caught(embedded_hub, trail):
    last = last_seq(embedded_hub)
    rewrite_from(embedded_hub, last, actor="someone else")
    with embedded_hub.engine.begin() as conn:
        conn.execute(delete(audit_seals).where(audit_seals.c.last_seq >= last))
    broken(embedded_hub)


def test_a_deleted_seal_in_the_middle_is_caught(embedded_hub, trail):
    middle = _seq(trail, "t6")
    with embedded_hub.engine.begin() as conn:
        conn.execute(delete(audit_seals).where(audit_seals.c.first_seq <= middle, audit_seals.c.last_seq >= middle))
    assert "no seal covers" in broken(embedded_hub)


def test_a_truncated_tail_is_caught(embedded_hub, trail):
    cut = _seq(trail, "t9")
    with embedded_hub.engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.seq == cut - 1)).mappings().one()
        conn.execute(delete(audit_log).where(audit_log.c.seq >= cut))
        conn.execute(delete(audit_seals).where(audit_seals.c.last_seq >= cut))
        conn.execute(update(audit_head).values(last_seq=cut - 1, last_hash=row["entry_hash"], sealed_seq=cut - 1))
    assert "seals were removed" in broken(embedded_hub) or "removed" in broken(embedded_hub)


def test_export_refuses_a_trail_that_does_not_verify(embedded_hub, trail, tmp_path):
    rewrite_from(embedded_hub, _seq(trail, "t4"), decision="granted")
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(cli, ["audit", "export", "--out", str(out), "--data-dir",
                                      str(embedded_hub.settings.data_dir)])
    assert result.exit_code == 2 and "does not verify" in result.output
    assert not out.exists()


@pytest.mark.parametrize("tamper", ["entry", "seal", "truncate"])
def test_the_offline_bundle_check_catches_each_change(embedded_hub, trail, tmp_path, tamper):
    out = tmp_path / "bundle.json"
    data = ["--data-dir", str(embedded_hub.settings.data_dir)]
    assert CliRunner().invoke(cli, ["audit", "export", "--out", str(out), *data]).exit_code == 0
    public = security_of(embedded_hub).key.public_path
    ok = CliRunner().invoke(cli, ["audit", "verify", "--bundle", str(out), "--public-key", str(public)])
    assert ok.exit_code == 0, ok.output
    bundle = json.loads(out.read_text())
    if tamper == "entry":
        bundle["entries"][4]["decision"] = "granted"
    elif tamper == "seal":
        bundle["seals"] = bundle["seals"][:-2]
    else:
        bundle["entries"] = bundle["entries"][:-3]
    out.write_text(json.dumps(bundle))
    bad = CliRunner().invoke(cli, ["audit", "verify", "--bundle", str(out), "--public-key", str(public)])
    assert bad.exit_code == 1 and "BROKEN" in bad.output
