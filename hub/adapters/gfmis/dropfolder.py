"""The drop folder shared with GFMIS, and how files appear in it without ever being half-written.

Layout under the root::

    outbound/             batch files for GFMIS (the hub writes, GFMIS takes)
    archive/              batch files GFMIS has taken
    results/              result files from GFMIS (GFMIS writes, the hub reads)
    results/processed/    results the hub has applied
    results/failed/       results the hub could not trust (logged; kept for a person to look at)

A writer creates ``.<name>.<random>.tmp`` in the target directory, writes, ``fsync``s,
links it to its final name (which fails instead of overwriting if the name exists), then
``fsync``s the directory so the new entry survives power loss. A reader ignores names
starting with a dot, so it can only see complete files.

The folder is either local (:class:`LocalDropFolder`, also an NFS/sshfs mount) or on an SFTP
server (:class:`hub.adapters.gfmis.sftp.SftpDropFolder`, same layout and guarantees); the
adapter only talks to the :class:`DropFolder` protocol.
"""
from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path
from typing import Protocol

SUBDIRS = ("outbound", "archive", "results", "results/processed", "results/failed")


class DropFolderError(OSError):
    """The drop folder cannot be reached or used (connection, authentication, host key)."""


class HostKeyRefused(DropFolderError):
    """The SFTP server's host key is unknown or differs from the known_hosts entry."""


class DropFolder(Protocol):
    """What the GFMIS adapter needs from a drop folder; ``subdir`` is one of :data:`SUBDIRS`."""

    def write_atomic(self, subdir: str, name: str, data: bytes) -> bool:
        """Make ``subdir/name`` appear complete or not at all; False if the name already exists."""

    def list(self, subdir: str, suffix: str) -> list[str]:
        """Complete regular files ending in ``suffix`` (case-insensitive), sorted; never temporaries."""

    def exists(self, subdir: str, name: str) -> bool: ...

    def read(self, subdir: str, name: str) -> bytes: ...

    def move(self, src_subdir: str, name: str, dst_subdir: str) -> None:
        """Atomic rename between sub-folders of the same drop folder."""

    def delete(self, subdir: str, name: str) -> None: ...

    def check(self) -> tuple[bool, str]:
        """(healthy, detail): the folder exists and a file can be created in ``outbound/``."""

    def close(self) -> None: ...


def check_name(name: str) -> None:
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise ValueError(f"file name {name!r} must be a plain name not starting with '.'")


class LocalDropFolder:
    def __init__(self, root: str | Path, *, create: bool = True) -> None:
        self.root = Path(root)
        if create:
            for sub in SUBDIRS:
                (self.root / sub).mkdir(parents=True, exist_ok=True)

    def __str__(self) -> str:
        return str(self.root)

    def path(self, subdir: str, name: str = "") -> Path:
        return self.root / subdir / name if name else self.root / subdir

    def write_atomic(self, subdir: str, name: str, data: bytes) -> bool:
        """Write ``data`` as ``subdir/name``. Returns False if that name already exists."""
        return write_atomic(self.path(subdir), name, data)

    def list(self, subdir: str, suffix: str) -> list[str]:
        folder = self.path(subdir)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if p.is_file() and not p.name.startswith(".") and p.name.upper().endswith(suffix.upper()))

    def exists(self, subdir: str, name: str) -> bool:
        return self.path(subdir, name).is_file()

    def read(self, subdir: str, name: str) -> bytes:
        return self.path(subdir, name).read_bytes()

    def move(self, src_subdir: str, name: str, dst_subdir: str) -> None:
        """Move a file between folders (same file system: an atomic rename)."""
        os.replace(self.path(src_subdir, name), self.path(dst_subdir, name))
        fsync_dir(self.path(dst_subdir))

    def delete(self, subdir: str, name: str) -> None:
        self.path(subdir, name).unlink()

    def check(self) -> tuple[bool, str]:
        if not self.path("outbound").is_dir():
            return False, f"drop folder {self.path('outbound')} does not exist"
        return self.writable()

    def close(self) -> None:
        """Nothing is held open between calls."""

    def writable(self) -> tuple[bool, str]:
        probe = self.path("outbound", f".probe.{uuid.uuid4().hex}")
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            return False, f"{self.path('outbound')} is not writable: {exc.strerror or exc}"
        return True, f"drop folder {self.root} is writable"


def write_atomic(folder: Path, name: str, data: bytes) -> bool:
    check_name(name)
    final = folder / name
    if final.exists():
        return False
    tmp = folder / f".{name}.{uuid.uuid4().hex[:12]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, final)  # never clobbers: two writers of one name cannot both win
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
                raise
            os.replace(tmp, final)  # file systems without hard links: rename is still atomic
        fsync_dir(folder)
        return True
    finally:
        if tmp.exists():
            tmp.unlink()


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
