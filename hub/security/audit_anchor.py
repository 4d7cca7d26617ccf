"""Anchoring the audit trail's seal head outside the hub.

The witness file (``hub.security.audit.Witness``) remembers the seal count in the hub's own
data directory; someone with the host can delete it with the tail. An *anchor* is the same
fact — how many seals, the last one's signature, the entry and hash it covers — signed by the
hub's key and published where the hub's operators cannot rewrite it: appended to a file on
another machine (a mounted share, write-once storage) or POSTed to a URL (another hub, a
notary service). ``check`` later proves the trail still holds every anchored head: a tail
truncated or a chain rewritten since is caught with the anchor alone.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.security.audit import AuditLog, canonical, timestamp
from hub.security.keys import SigningKey, verify_signature

ANCHOR_FORMAT = "hub-audit-anchor/1"
_BODY = ("format", "seals", "last_seq", "last_hash", "signature_of_last_seal", "anchored_at", "key_id")


def head_statement(audit: AuditLog, key: SigningKey) -> dict[str, Any]:
    """The signed seal head of a trail that verifies (sealing any tail first)."""
    report = audit.verify()
    if not report.ok:
        raise ValueError(f"the audit trail does not verify (entry {report.first_bad_seq}: {report.problem}); "
                         "a broken trail is not anchored")
    audit.seal()
    seals = audit.seals()
    if not seals:
        raise ValueError("the audit trail has no seal yet: nothing to anchor")
    last = seals[-1]
    body = {"format": ANCHOR_FORMAT, "seals": len(seals), "last_seq": last["last_seq"],
            "last_hash": last["last_hash"], "signature_of_last_seal": last["signature"],
            "anchored_at": timestamp(), "key_id": key.key_id}
    return {**body, "signature": key.sign(canonical(body))}


def publish(statement: Mapping[str, Any], target: str, *, timeout: float = 10.0) -> str:
    """Append the statement to a file (one JSON line) or POST it to an ``http(s)://`` URL."""
    if target.startswith(("http://", "https://")):
        response = httpx.post(target, json=dict(statement), timeout=timeout)
        response.raise_for_status()
        return f"POSTed to {target}: HTTP {response.status_code}"
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(statement), sort_keys=True) + "\n")
    return f"appended to {path}"


def read_anchors(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check(audit: AuditLog, anchors: Iterable[Mapping[str, Any]],
          keyring: Mapping[str, Ed25519PublicKey]) -> tuple[int, str] | None:
    """The first anchored head the trail no longer holds, as (entry, why); None when all hold."""
    seals = audit.seals()
    hashes = audit.entry_hashes()
    for anchor in anchors:
        body = {k: anchor.get(k) for k in _BODY}
        public = keyring.get(str(anchor.get("key_id")))
        if public is None or not verify_signature(public, str(anchor.get("signature", "")), canonical(body)):
            return int(anchor.get("last_seq") or 0), ("an anchor is not signed by this hub's key (current or "
                                                      "retired): it was altered or is another hub's")
        n, seq = int(anchor["seals"]), int(anchor["last_seq"])
        if len(seals) < n:
            return seq, (f"the trail holds {len(seals)} seals but {n} were anchored on {anchor['anchored_at']}: "
                         "seals or the tail were removed")
        if seals[n - 1]["signature"] != anchor["signature_of_last_seal"] or hashes.get(seq) != anchor["last_hash"]:
            return seq, (f"entry {seq}, anchored on {anchor['anchored_at']}, is not what was anchored: "
                         "the chain was rewritten")
    return None
