"""Content-addressed attachment store on disk: ``<data_dir>/ecms-blobs/ab/cd/<sha256>``.

An attachment is written once whatever the number of letters, queues or retries that
refer to it; hub messages carry only its SHA-256 and size. Writes go to a temporary file
in the same folder and are renamed into place after an fsync, so a crash never leaves a
truncated blob under its hash, and two writers of the same content both end with the
same file. The folder the file was renamed into (and the parent of any folder created for
it) is fsynced after the rename, once per request that placed files: without that, a power
loss after the request's 202 could lose the rename and with it the blob its letter refers to. A file whose content is stored already is removed unsynced: its bytes are
durable under their hash, and flushing a copy about to be deleted was a write to disk for
nothing (the same attachment sent to several departments, or sent again).

Attachments of a request whose caller is not authenticated yet are *staged*
(``BlobStore.staging``): written under ``.spool/<host>-<pid>/`` and moved into the store
only once the caller is authenticated; a refused, failed or crashed request leaves nothing
behind (spool folders of processes no longer running, or older than a day, are swept when
a store is opened).
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024
_SHA256_HEX = re.compile("[0-9a-f]{64}")
SPOOL = ".spool"
STALE_SPOOL_SECONDS = 24 * 3600
_ABSENT = {errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP}  # what Path.is_file takes for "no file"


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    size: int


class BlobWriter:
    """Receives decoded bytes chunk by chunk, hashing as it goes."""

    def __init__(self, store: BlobStore, directory: Path | None = None) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(prefix=".incoming-", dir=directory or store.root)
        self._file = os.fdopen(fd, "wb")
        self._path = self.path = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0
        self.synced = False  # fsynced by finish()

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._file.write(data)
        self.size += len(data)

    def finish(self) -> tuple[BlobRef, Path]:
        """Close the written file; the blob's reference and where its bytes are. The file is
        fsynced unless the store holds its content already (``BlobStore.place`` syncs it
        should that blob be gone by then)."""
        ref = BlobRef(self._hash.hexdigest(), self.size)
        self._file.flush()
        if not self._store.exists(ref.sha256):
            os.fsync(self._file.fileno())
            self.synced = True
        self._file.close()
        return ref, self._path

    def commit(self) -> BlobRef:
        ref, path = self.finish()
        self._store.sync_folders(self._store.place(path, ref.sha256, synced=self.synced))
        return ref

    def abort(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)


class StagedBlobs:
    """Blobs of one request before its caller is authenticated: ``promote`` moves them into the
    store, ``discard`` (always called at the end) deletes whatever was not promoted.

    Files go into one folder of this process's spool, each one remembered from the moment it
    is created: a request with no binary object (a poll, a delete) touches no file at all,
    where a folder per request cost a create and a remove on every call."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        self._directory: Path | None = None
        self._files: list[Path] = []  # every file a writer created, finished or not
        self._staged: list[tuple[Path, str, bool]] = []

    @property
    def directory(self) -> Path:
        """This process's staging folder, looked up when a request first writes a binary object:
        polls and deletes (most calls) spend nothing on it."""
        if self._directory is None:
            self._directory = self._store.spool_dir() / "staged"
        return self._directory

    def writer(self) -> _StagedWriter:
        writer = _StagedWriter(self)
        self._files.append(writer.path)
        return writer

    def _add(self, path: Path, sha256: str, synced: bool) -> None:
        self._staged.append((path, sha256, synced))

    def promote(self) -> None:
        folders: list[Path] = []
        for path, sha256, synced in self._staged:
            folders += self._store.place(path, sha256, synced=synced)
        self._staged.clear()
        self._store.sync_folders(folders)  # once for the request, however many files it placed

    def discard(self) -> None:
        for path in self._files:
            path.unlink(missing_ok=True)  # promoted ones were moved away already
        self._files.clear()
        self._staged.clear()


class _StagedWriter(BlobWriter):
    def __init__(self, staged: StagedBlobs) -> None:
        staged.directory.mkdir(exist_ok=True)
        super().__init__(staged._store, staged.directory)  # noqa: SLF001
        self._staged = staged

    def commit(self) -> BlobRef:
        ref, path = self.finish()
        self._staged._add(path, ref.sha256, self.synced)  # noqa: SLF001
        return ref


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._root = str(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.sweep_spool()

    def spool_dir(self) -> Path:
        """This process's temporary area for staged blobs."""
        path = self.root / SPOOL / f"{socket.gethostname()}-{os.getpid()}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sweep_spool(self) -> int:
        """Remove staged blobs left by crashed processes: those of this host whose process is
        gone, and any older than a day (other hosts sharing the folder). Returns folders removed."""
        spool = self.root / SPOOL
        if not spool.is_dir():
            return 0
        host, removed = socket.gethostname(), 0
        for folder in spool.iterdir():
            owner, _, pid = folder.name.rpartition("-")
            stale = time.time() - folder.stat().st_mtime > STALE_SPOOL_SECONDS
            if (owner == host and pid.isdigit() and not _alive(int(pid))) or stale:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def staging(self) -> StagedBlobs:
        return StagedBlobs(self)

    def place(self, path: Path, sha256: str, *, synced: bool = False) -> list[Path]:
        """Move a finished file into the store under its hash, fsynced first unless ``synced``.
        Returns the folders whose entries changed: the caller passes them to ``sync_folders``
        before it answers (one fsync per folder for all the files of a request)."""
        target = self.path(sha256)
        if target.exists():
            path.unlink()  # already stored: content-addressed, so identical
            return []
        folders = self._make_folders(target.parent)
        if not synced:
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(path, target)
        return folders

    def _make_folders(self, folder: Path) -> list[Path]:
        """Create ``folder`` (``ab/cd`` under the root) if missing; the folders to fsync once a
        file is renamed into it: itself, and the parent of each folder created here (a new
        folder's own entry is only durable once its parent is synced)."""
        folders = [folder]
        if not folder.is_dir():
            if not folder.parent.is_dir():
                folder.parent.mkdir(exist_ok=True)
                folders.append(self.root)
            folder.mkdir(exist_ok=True)
            folders.append(folder.parent)
        return folders

    @staticmethod
    def sync_folders(folders: list[Path]) -> None:
        """fsync each folder once: the renames into it and the folders created in it reach the disk."""
        for folder in dict.fromkeys(folders):
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def path(self, sha256: str) -> Path:
        return Path(self._location(sha256))

    def _location(self, sha256: str) -> str:
        # A string joined once: three pathlib joins per look-up, some ten look-ups per letter
        # (exists, place, read, the answer's stream), were a visible share of the node's CPU.
        if not _SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return f"{self._root}{os.sep}{sha256[:2]}{os.sep}{sha256[2:4]}{os.sep}{sha256}"

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def put(self, data: bytes) -> BlobRef:
        writer = self.writer()
        writer.write(data)
        return writer.commit()

    def exists(self, sha256: str) -> bool:
        # Path.is_file's answer (missing, or a path through a non-folder: False; any other
        # error raised), without building a Path.
        try:
            return stat.S_ISREG(os.stat(self._location(sha256)).st_mode)
        except OSError as exc:
            if exc.errno in _ABSENT:
                return False
            raise

    def size(self, sha256: str) -> int:
        return os.stat(self._location(sha256)).st_size

    def read(self, sha256: str) -> bytes:
        with open(self._location(sha256), "rb") as fh:
            return fh.read()

    def iter_chunks(self, sha256: str, chunk: int = CHUNK) -> Iterator[bytes]:
        with open(self._location(sha256), "rb") as fh:
            while block := fh.read(chunk):
                yield block


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True
