"""Content-addressed attachment store on disk: ``<data_dir>/ecms-blobs/ab/cd/<sha256>``.

An attachment is written once whatever the number of letters, queues or retries that
refer to it; hub messages carry only its SHA-256 and size. Writes go to a temporary file
in the same folder and are renamed into place after an fsync, so a crash never leaves a
truncated blob under its hash, and two writers of the same content both end with the
same file.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    size: int


class BlobWriter:
    """Receives decoded bytes chunk by chunk, hashing as it goes."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(prefix=".incoming-", dir=store.root)
        self._file = os.fdopen(fd, "wb")
        self._path = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._file.write(data)
        self.size += len(data)

    def commit(self) -> BlobRef:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest = self._hash.hexdigest()
        target = self._store.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            self._path.unlink()  # already stored: content-addressed, so identical
        else:
            os.replace(self._path, target)
        return BlobRef(digest, self.size)

    def abort(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def put(self, data: bytes) -> BlobRef:
        writer = self.writer()
        writer.write(data)
        return writer.commit()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def iter_chunks(self, sha256: str, chunk: int = CHUNK) -> Iterator[bytes]:
        with open(self.path(sha256), "rb") as fh:
            while block := fh.read(chunk):
                yield block
