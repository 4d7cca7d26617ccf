"""A GFMIS drop folder on an SFTP server, with the same guarantees as the local one.

Writing ``outbound/NAME``: upload to ``outbound/.NAME.<random>.tmp`` (opened with O_EXCL),
ask the server to fsync it (``fsync@openssh.com``, when the server has it), check its size,
then rename it to ``NAME`` on the server. The rename is ``posix-rename@openssh.com`` (an
atomic rename(2)) when the server supports it, else the plain SFTP rename (which SFTP v3
defines as failing when the target exists; OpenSSH does it with link()). An existing final
name is never replaced: it is checked before the upload and again just before the rename.
Readers skip names starting with a dot, so a half-uploaded file is never visible under its
final name, even if the connection dies mid-upload (the dot-file is then left for a person
or the server's cleanup; it is never read).

paramiko is an optional dependency (``pip install 'backoffice-hub[sftp]'``), imported only
when an SFTP drop folder is configured.

Host keys are always checked against a known_hosts file (default ``~/.ssh/known_hosts``);
an unknown or changed key is refused with :class:`HostKeyRefused`. The setting
``insecure_accept_any_host_key`` exists for tests against throwaway servers only.
"""
from __future__ import annotations

import errno
import logging
import posixpath
import stat
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from hub.adapters.gfmis.dropfolder import SUBDIRS, DropFolderError, HostKeyRefused, check_name
from hub.errors import ConfigError

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'backoffice-hub[sftp]'"
T = TypeVar("T")


def import_paramiko() -> Any:
    try:
        import paramiko
    except ImportError as exc:
        raise ConfigError(f"an sftp:// drop folder needs the paramiko package, which is not installed: "
                          f"{INSTALL_HINT}") from exc
    return paramiko


@dataclass(frozen=True)
class SftpTarget:
    username: str
    host: str
    port: int
    root: str  # absolute path of the drop folder on the server

    def __str__(self) -> str:
        return f"sftp://{self.username}@{self.host}:{self.port}{self.root}"


def parse_sftp_url(url: str) -> SftpTarget:
    """``sftp://user@host[:port]/absolute/path`` (no password in the URL: use the password setting)."""
    parts = urlsplit(url)
    if parts.scheme != "sftp":
        raise ValueError("must start with sftp://")
    if not parts.username:
        raise ValueError("must name the user: sftp://user@host/path")
    if parts.password is not None:
        raise ValueError("must not contain a password (it would show in logs); use the password setting")
    if not parts.hostname:
        raise ValueError("must name the host: sftp://user@host/path")
    try:
        port = parts.port or 22
    except ValueError as exc:  # urlsplit refuses ports outside 0..65535 lazily
        raise ValueError(f"has an invalid port: {exc}") from exc
    root = posixpath.normpath(unquote(parts.path)) if parts.path not in ("", "/") else ""
    if not root:
        raise ValueError("must give the drop folder's path: sftp://user@host/srv/gfmis-drop")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return SftpTarget(unquote(parts.username), parts.hostname, port, root)


class SftpDropFolder:
    """:class:`~hub.adapters.gfmis.dropfolder.DropFolder` on an SFTP server.

    One SSH connection, opened on first use and re-opened after it drops; a lock serialises
    calls because the delivery workers may share one adapter and paramiko's SFTP client is
    not meant for concurrent requests from several threads.
    """

    def __init__(self, target: SftpTarget, *, password: str | None = None, private_key_file: Path | None = None,
                 private_key_passphrase: str | None = None, known_hosts_file: Path | None = None,
                 insecure_accept_any_host_key: bool = False, create: bool = True, timeout: float = 15.0) -> None:
        self.paramiko = import_paramiko()  # fail when the route is built, not at the first delivery
        self.target = target
        self.password = password
        self.private_key_file = private_key_file
        self.private_key_passphrase = private_key_passphrase
        self.known_hosts_file = known_hosts_file
        self.insecure = insecure_accept_any_host_key
        self.create = create
        self.timeout = timeout
        self._lock = threading.RLock()
        self._ssh: Any = None
        self._sftp: Any = None
        self._posix_rename: bool | None = None  # unknown until the server has been asked once
        self._fsync: bool | None = None

    def __str__(self) -> str:
        return str(self.target)

    def path(self, subdir: str, name: str = "") -> str:
        return posixpath.join(self.target.root, subdir, name) if name else posixpath.join(self.target.root, subdir)

    # -- connection -----------------------------------------------------------------------

    def _connect(self) -> Any:
        paramiko = self.paramiko
        ssh = paramiko.SSHClient()
        if self.insecure:
            log.warning("SFTP drop folder %s: host key checking is OFF (insecure_accept_any_host_key)", self)
            ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        else:
            # load_system_host_keys: entries read here are never written back by paramiko.
            known = self.known_hosts_file or Path("~/.ssh/known_hosts").expanduser()
            if known.is_file():
                ssh.load_system_host_keys(str(known))
            ssh.set_missing_host_key_policy(_RefuseUnknownHost(known))
        try:
            ssh.connect(self.target.host, self.target.port, username=self.target.username,
                        password=self.password,
                        key_filename=str(self.private_key_file) if self.private_key_file else None,
                        passphrase=self.private_key_passphrase, timeout=self.timeout,
                        banner_timeout=self.timeout, auth_timeout=self.timeout,
                        # only the configured credentials: an agent or ~/.ssh keys would make
                        # the route's behaviour depend on whoever runs the hub.
                        allow_agent=False, look_for_keys=False)
            sftp = ssh.open_sftp()
            sftp.get_channel().settimeout(self.timeout)
        except HostKeyRefused:
            ssh.close()
            raise
        except paramiko.BadHostKeyException as exc:
            ssh.close()
            raise HostKeyRefused(
                f"{self}: the server's {exc.key.get_name()} host key {_fingerprint(exc.key)} differs from the one "
                f"in {self.known_hosts_file or '~/.ssh/known_hosts'} ({_fingerprint(exc.expected_key)}); refusing "
                "to connect (the server may be impersonated, or its key was changed: update known_hosts)") from exc
        except paramiko.AuthenticationException as exc:
            ssh.close()
            raise DropFolderError(f"{self}: authentication as {self.target.username!r} failed: {exc}") from exc
        except (paramiko.SSHException, EOFError) as exc:
            ssh.close()
            raise DropFolderError(f"{self}: SSH connection failed: {exc}") from exc
        except OSError as exc:
            ssh.close()
            raise DropFolderError(f"{self}: cannot connect: {exc.strerror or exc}") from exc
        self._ssh, self._sftp = ssh, sftp
        self._posix_rename = self._fsync = None
        if self.create:
            for sub in SUBDIRS:
                self._makedirs(self.path(sub))
        return sftp

    def _client(self) -> Any:
        transport = self._ssh.get_transport() if self._ssh is not None else None
        if self._sftp is not None and transport is not None and transport.is_active():
            return self._sftp
        self._disconnect()
        return self._connect()

    def _disconnect(self) -> None:
        ssh, self._ssh, self._sftp = self._ssh, None, None
        if ssh is not None:
            ssh.close()

    def _call(self, op: Callable[[Any], T], *, read_only: bool = False) -> T:
        """Run ``op(sftp)``; a dropped connection becomes :class:`DropFolderError` and is re-opened next time.

        A read-only ``op`` is tried once more on a fresh connection: a connection that died while
        idle is only noticed when used, and reading again cannot change anything.
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    return op(self._client())
                except (self.paramiko.SSHException, EOFError, ConnectionError, TimeoutError) as exc:
                    self._disconnect()
                    if read_only and attempt == 1:
                        log.info("SFTP drop folder %s: connection lost (%s); reconnecting", self, exc)
                        continue
                    raise DropFolderError(f"{self}: connection lost: {exc or type(exc).__name__}") from exc
            raise AssertionError("unreachable: the second attempt returns or raises")

    def close(self) -> None:
        with self._lock:
            self._disconnect()

    # -- the DropFolder protocol ----------------------------------------------------------

    def write_atomic(self, subdir: str, name: str, data: bytes) -> bool:
        check_name(name)
        final = self.path(subdir, name)
        tmp = self.path(subdir, f".{name}.{uuid.uuid4().hex[:12]}.tmp")

        def put(sftp: Any) -> bool:
            if _is_file(sftp, final):
                return False
            placed = False
            try:
                with sftp.open(tmp, "wbx") as remote:  # x: O_EXCL, never write into someone else's file
                    remote.set_pipelined(True)
                    remote.write(data)
                    self._server_fsync(sftp, remote)
                size = sftp.stat(tmp).st_size
                if size != len(data):
                    raise DropFolderError(f"{self}: uploaded {name} has {size} bytes on the server, "
                                          f"expected {len(data)}; not renaming it")
                if _is_file(sftp, final):  # another writer of the same name finished first
                    return False
                self._rename(sftp, tmp, final)
                placed = True
                return True
            finally:
                if not placed:
                    self._remove_quietly(sftp, tmp)

        return self._call(put)

    def list(self, subdir: str, suffix: str) -> list[str]:
        def ls(sftp: Any) -> list[str]:
            try:
                entries = sftp.listdir_attr(self.path(subdir))
            except FileNotFoundError:
                return []
            return sorted(e.filename for e in entries
                          if e.st_mode is not None and stat.S_ISREG(e.st_mode) and not e.filename.startswith(".")
                          and e.filename.upper().endswith(suffix.upper()))
        return self._call(ls, read_only=True)

    def exists(self, subdir: str, name: str) -> bool:
        return self._call(lambda sftp: _is_file(sftp, self.path(subdir, name)), read_only=True)

    def read(self, subdir: str, name: str) -> bytes:
        def get(sftp: Any) -> bytes:
            with sftp.open(self.path(subdir, name), "rb") as remote:
                remote.prefetch()
                return remote.read()
        return self._call(get, read_only=True)

    def move(self, src_subdir: str, name: str, dst_subdir: str) -> None:
        self._call(lambda sftp: self._rename(sftp, self.path(src_subdir, name), self.path(dst_subdir, name)))

    def delete(self, subdir: str, name: str) -> None:
        self._call(lambda sftp: sftp.remove(self.path(subdir, name)))

    def check(self) -> tuple[bool, str]:
        probe = f".probe.{uuid.uuid4().hex}"

        def probe_write(sftp: Any) -> None:
            outbound = self.path("outbound")
            try:
                if not stat.S_ISDIR(sftp.stat(outbound).st_mode):
                    raise DropFolderError(f"{self}: {outbound} is not a folder")
            except FileNotFoundError as exc:
                raise DropFolderError(f"{self}: drop folder {outbound} does not exist") from exc
            with sftp.open(self.path("outbound", probe), "wbx"):
                pass
            sftp.remove(self.path("outbound", probe))

        try:
            self._call(probe_write)
        except DropFolderError as exc:
            return False, str(exc)
        except OSError as exc:
            return False, f"{self}: outbound/ is not writable: {exc.strerror or exc}"
        return True, f"drop folder {self} is writable"

    # -- helpers --------------------------------------------------------------------------

    def _rename(self, sftp: Any, src: str, dst: str) -> None:
        if self._posix_rename is not False:
            try:
                sftp.posix_rename(src, dst)
                self._posix_rename = True
                return
            except OSError as exc:
                if self._posix_rename or exc.errno in (errno.ENOENT, errno.EACCES):
                    raise  # the extension works on this server: this is a real failure
                # SFTP v3 has no "unsupported" errno; try the plain rename, and remember if it works.
                log.info("SFTP drop folder %s: posix-rename refused (%s); using the plain SFTP rename", self, exc)
        sftp.rename(src, dst)
        if self._posix_rename is None:
            self._posix_rename = False

    def _server_fsync(self, sftp: Any, remote: Any) -> None:
        """Ask the server to fsync the upload (OpenSSH's ``fsync@openssh.com``); paramiko has no
        public call for it, so the request goes through the client's generic request method."""
        if self._fsync is False:
            return
        from paramiko.sftp import CMD_EXTENDED

        remote.flush()
        try:
            sftp._request(CMD_EXTENDED, "fsync@openssh.com", remote.handle)
            self._fsync = True
        except OSError as exc:
            if self._fsync:
                raise
            self._fsync = False
            log.info("SFTP drop folder %s: the server has no fsync@openssh.com (%s); files are as durable as "
                     "the server makes them on close", self, exc)

    def _makedirs(self, path: str) -> None:
        sftp = self._sftp
        try:
            mode: int | None = sftp.stat(path).st_mode
        except FileNotFoundError:
            mode = None  # absent: created below, after its parents
        if mode is not None:
            if stat.S_ISDIR(mode):
                return
            raise DropFolderError(f"{self}: {path} exists and is not a folder")
        parent = posixpath.dirname(path)
        if parent and parent != path:
            self._makedirs(parent)
        try:
            sftp.mkdir(path)
        except OSError:
            # Another process may have created it meanwhile; only a still-missing folder is an error.
            if not stat.S_ISDIR(sftp.stat(path).st_mode):
                raise

    def _remove_quietly(self, sftp: Any, path: str) -> None:
        try:
            sftp.remove(path)
        except FileNotFoundError:
            return
        except (OSError, EOFError, self.paramiko.SSHException) as exc:
            # Harmless: a dot-file is never read or renamed by anyone; log it for a person to clear.
            log.warning("SFTP drop folder %s: could not remove temporary file %s: %s", self, path, exc)


def _is_file(sftp: Any, path: str) -> bool:
    try:
        return stat.S_ISREG(sftp.stat(path).st_mode)
    except FileNotFoundError:
        return False


def _fingerprint(key: Any) -> str:
    import base64
    import hashlib

    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


class _RefuseUnknownHost:
    """paramiko MissingHostKeyPolicy: an unknown host is refused, naming the key to verify and add."""

    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        raise HostKeyRefused(
            f"host key of {hostname} is not in {self.known_hosts} ({key.get_name()} {_fingerprint(key)}); refusing "
            f"to connect. Verify the fingerprint with the server's administrator and add it, e.g. "
            f"`ssh-keyscan -p PORT HOST >> {self.known_hosts}`")
