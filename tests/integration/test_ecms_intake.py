"""Finding 3: nothing of an unauthenticated e-CMS caller stays on disk (issue 12).

Before, each refused request left its attachments in ``ecms-blobs`` (+40 MB per request).
Now attachments are staged until the caller is authenticated and removed on refusal; staged
files of a crashed process are swept when the store opens.
"""
from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys

from hub.adapters.ecms.codec.blobs import SPOOL, BlobStore
from tests.integration.test_ecms_node import basic, node, outbound, raw_letter  # noqa: F401  (fixture)
from tests.support.ecms import post_soap


def blob_files(hub) -> list[str]:  # noqa: ANN001
    """Every file under the blob store, staged ones included."""
    root = hub.ecms.blobs.root
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


def big_letter(tag: bytes, size: int = 2 * 1024 * 1024) -> str:
    return raw_letter(id=f"กค 0401/{tag.decode()}", b64=base64.b64encode(b"%PDF-1.4 " + tag * (size // len(tag))).decode())


def test_a_refused_caller_leaves_no_attachment_behind(node):  # noqa: F811
    url, hub = node
    before = blob_files(hub)
    wrong = {"Authorization": "Basic " + base64.b64encode(b"0401:wrong").decode()}
    for headers in ({}, wrong):
        refused = post_soap(url, outbound(big_letter(b"refused")), **headers)
        # Refused in the shape deployed clients read: ErrorDetail in an HTTP 200 answer (issue 13).
        assert refused.status_code == 200 and b"E009" in refused.content
    assert blob_files(hub) == before


def test_an_authenticated_letter_keeps_its_attachment(node):  # noqa: F811
    url, hub = node
    before = set(blob_files(hub))
    accepted = post_soap(url, outbound(big_letter(b"accepted")), **basic("0401"))
    assert accepted.status_code == 200, accepted.text
    added = set(blob_files(hub)) - before
    size = 2 * 1024 * 1024
    attachment = hashlib.sha256(b"%PDF-1.4 " + b"accepted" * (size // len(b"accepted"))).hexdigest()
    # The attachment, and the sender's GovernmentDocument kept byte for byte for the receiver
    # (issue 13); nothing left in the spool.
    assert hub.ecms.blobs.exists(attachment)
    assert len(added) == 2 and not any(p.startswith(SPOOL) for p in added)


def test_staged_files_of_a_crashed_process_are_swept_at_start(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    staged = store.staging()
    writer = staged.writer()
    writer.write(b"x" * 1000)
    writer.commit()
    # a process that died with its request half done: its spool folder is left behind
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = staged.directory.parent.with_name(staged.directory.parent.name.rsplit("-", 1)[0] + f"-{dead.stdout.strip()}")
    staged.directory.parent.rename(orphan)
    assert any(orphan.rglob("*"))
    BlobStore(tmp_path / "blobs")  # the next start
    assert not orphan.exists()
