"""The hub's own Ed25519 key: signs access tokens (JWT, EdDSA) and audit seals.

Generated into the data directory on first start with mode 0600; every process that shares
the data directory (API, workers) uses the same key. Set ``HUB_SIGNING_KEY_FILE`` when the
processes do not share a disk.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.errors import ConfigError

log = logging.getLogger(__name__)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw public key: names the key in tokens and seals."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key")
    return key


def verify_signature(public: Ed25519PublicKey, signature_b64: str, data: bytes) -> bool:
    try:
        public.verify(base64.b64decode(signature_b64), data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    path: Path

    # Derived once: every audit seal and token names the key, and deriving it was a visible
    # share of each accept batch's CPU.
    @cached_property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @cached_property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode()

    def verify(self, signature_b64: str, data: bytes) -> bool:
        return verify_signature(self.public, signature_b64, data)

    @property
    def retired_dir(self) -> Path:
        return self.path.with_name(self.path.name.removesuffix(".pem") + ".retired")

    @property
    def public_path(self) -> Path:
        return self.path.with_name(self.path.name.removesuffix(".pem") + ".pub.pem")


def load_or_create(path: Path) -> SigningKey:
    """Load the key, or create it so that two processes starting together end up with one key.

    The new key is written to a private temporary file and hard-linked into place: the link
    fails if another process got there first, and nobody ever reads a half-written file.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(tmp, path)
        except FileExistsError:
            log.info("another process created %s first; using its key", path)
        finally:
            tmp.unlink()
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the hub signing key {path}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigError(f"the hub signing key {path} must be Ed25519")
    key = SigningKey(private, path)
    if not key.public_path.exists():
        key.public_path.write_bytes(public_pem(key.public))
    return key


def retired_keys(current: SigningKey) -> list[tuple[str, Ed25519PublicKey]]:
    """Public keys the hub signed with before ``current`` (``hub keys rotate``), newest first:
    kept next to the key as ``<key>.retired/<key id>.pub.pem`` so what they signed (seals,
    bundles, deliveries) still verifies."""
    folder = current.retired_dir
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.pub.pem"), key=lambda p: p.stat().st_mtime, reverse=True):
        public = load_public_key(path)
        found.append((key_id(public), public))
    return found


SUCCESSION_FORMAT = "hub-key-succession/1"


def succession_body(record: dict) -> bytes:
    """What both keys sign when one succeeds the other (canonical JSON, without the signatures)."""
    import json

    body = {k: record[k] for k in ("format", "old_key_id", "old_public_key_pem", "new_key_id", "new_public_key_pem",
                                    "rotated_at")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def successions(current: SigningKey) -> list[dict]:
    """The succession records of the keys retired before ``current``, newest first."""
    import json

    folder = current.retired_dir
    if not folder.is_dir():
        return []
    records = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.succession.json")]
    return sorted(records, key=lambda r: r["rotated_at"], reverse=True)


def trusted_keys(public: Ed25519PublicKey, records: list[dict]) -> dict[str, Ed25519PublicKey]:
    """``public`` and every older key a chain of succession records vouches for: a record counts
    when the key it names as successor is trusted already and both keys signed it. Needs
    nothing but the current public key, so an offline check walks back through rotations."""
    trusted = {key_id(public): public}
    changed = True
    while changed:
        changed = False
        for record in records:
            old_id, new_id = record.get("old_key_id"), record.get("new_key_id")
            if old_id in trusted or new_id not in trusted or record.get("format") != SUCCESSION_FORMAT:
                continue
            try:
                old = serialization.load_pem_public_key(record["old_public_key_pem"].encode())
                body = succession_body(record)
            except (KeyError, ValueError):
                continue
            if (isinstance(old, Ed25519PublicKey) and key_id(old) == old_id
                    and verify_signature(trusted[new_id], record.get("signature_by_new", ""), body)
                    and verify_signature(old, record.get("signature_by_old", ""), body)):
                trusted[old_id] = old
                changed = True
    return trusted


def rotate(current: SigningKey, rotated_at: str) -> SigningKey:
    """Replace the hub's signing key with a new one; the old public key is kept (``retired_keys``)
    with a succession record both keys sign, so what the old key signed still verifies — in the
    hub, and offline with only the new public key. Processes holding the old key must restart."""
    import json

    new_private = Ed25519PrivateKey.generate()
    new = SigningKey(new_private, current.path)
    record = {"format": SUCCESSION_FORMAT, "old_key_id": current.key_id,
              "old_public_key_pem": public_pem(current.public).decode(), "new_key_id": new.key_id,
              "new_public_key_pem": public_pem(new.public).decode(), "rotated_at": rotated_at}
    body = succession_body(record)
    record["signature_by_old"] = current.sign(body)
    record["signature_by_new"] = new.sign(body)
    folder = current.retired_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{current.key_id}.pub.pem").write_bytes(public_pem(current.public))
    (folder / f"{current.key_id}.succession.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    pem = new_private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    tmp = current.path.with_name(f".{current.path.name}.{os.getpid()}.rotating")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(tmp, current.path)
    current.public_path.write_bytes(public_pem(new.public))
    log.warning("hub signing key rotated: %s retired, %s current", current.key_id, new.key_id)
    return new
