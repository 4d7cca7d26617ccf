"""A real SFTP server on a loopback port, backed by a local directory (paramiko's server side).

    with SftpTestServer(tmp_path / "sftp-root") as server:
        server.write_known_hosts(tmp_path / "known_hosts")
        settings = {"url": server.url("/drop"), "password": server.password,
                    "known_hosts_file": str(tmp_path / "known_hosts")}
        ...  # files appear under server.root / "drop"

Virtual path ``/`` is ``root``; nothing outside it can be reached. ``rename`` follows SFTP v3
(fails if the target exists, like OpenSSH's link()-based rename); ``posix-rename@openssh.com``
replaces the target like rename(2), and can be switched off to test clients' fallback.
Password and public-key authentication are both accepted.
"""
from __future__ import annotations

import errno
import os
import posixpath
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import SFTP_FAILURE, SFTP_OK, SFTP_OP_UNSUPPORTED, SFTP_PERMISSION_DENIED


class _Auth(paramiko.ServerInterface):
    def __init__(self, server: SftpTestServer) -> None:
        self.server = server

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        ok = username == self.server.username and password == self.server.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = username == self.server.username and any(key == k for k in self.server.authorized_keys)
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(SFTPHandle):
    def stat(self) -> Any:
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)

    def chattr(self, attr: SFTPAttributes) -> int:
        return SFTP_OK  # the hub never sets attributes; accepting keeps clients that do working


class _DirectorySftp(SFTPServerInterface):
    def __init__(self, server: Any, *args: Any, test_server: SftpTestServer, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.test_server = test_server

    def _real(self, path: str) -> str:
        virtual = posixpath.normpath("/" + path)  # normpath of an absolute path cannot climb above "/"
        return os.path.join(self.test_server.root, virtual.lstrip("/"))

    def canonicalize(self, path: str) -> str:
        return posixpath.normpath("/" + path)

    def list_folder(self, path: str) -> Any:
        real = self._real(path)
        try:
            return [SFTPAttributes.from_stat(os.stat(os.path.join(real, name)), name) for name in os.listdir(real)]
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)

    def stat(self, path: str) -> Any:
        try:
            return SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)

    lstat = stat

    def open(self, path: str, flags: int, attr: SFTPAttributes) -> Any:
        real = self._real(path)
        try:
            fd = os.open(real, flags, 0o640)
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        if flags & os.O_WRONLY:
            mode = "ab" if flags & os.O_APPEND else "wb"
        elif flags & os.O_RDWR:
            mode = "a+b" if flags & os.O_APPEND else "r+b"
        else:
            mode = "rb"
        handle = _Handle(flags)
        handle.filename = real
        handle.readfile = handle.writefile = os.fdopen(fd, mode)
        return handle

    def remove(self, path: str) -> int:
        try:
            os.remove(self._real(path))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        return SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        # SFTP v3: "an error if there already exists a file with the name specified by newpath".
        old, new = self._real(oldpath), self._real(newpath)
        try:
            os.link(old, new)
            os.remove(old)
        except FileExistsError:
            return SFTP_FAILURE
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        return SFTP_OK

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        if not self.test_server.posix_rename:
            return SFTP_OP_UNSUPPORTED
        try:
            os.rename(self._real(oldpath), self._real(newpath))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        return SFTP_OK

    def mkdir(self, path: str, attr: SFTPAttributes) -> int:
        try:
            os.mkdir(self._real(path))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        return SFTP_OK

    def rmdir(self, path: str) -> int:
        try:
            os.rmdir(self._real(path))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        return SFTP_OK

    def chattr(self, path: str, attr: SFTPAttributes) -> int:
        return SFTP_OK

    def symlink(self, target_path: str, path: str) -> int:
        return SFTP_PERMISSION_DENIED  # a link could point outside the root


class SftpTestServer:
    def __init__(self, root: Path, *, username: str = "hub", password: str = "s3cret-ฟ",
                 authorized_keys: list[paramiko.PKey] | None = None, posix_rename: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.username, self.password = username, password
        self.authorized_keys = list(authorized_keys or [])
        self.posix_rename = posix_rename
        self.host_key = paramiko.ECDSAKey.generate()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name=f"sftp-test-{self.port}", daemon=True)

    def start(self) -> SftpTestServer:
        self._thread.start()
        return self

    def __enter__(self) -> SftpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, path: str = "/drop") -> str:
        return f"sftp://{self.username}@127.0.0.1:{self.port}{path}"

    def known_hosts_line(self, key: paramiko.PKey | None = None) -> str:
        key = key or self.host_key
        return f"[127.0.0.1]:{self.port} {key.get_name()} {key.get_base64()}\n"

    def write_known_hosts(self, path: Path, key: paramiko.PKey | None = None) -> Path:
        path.write_text(self.known_hosts_line(key))
        return path

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # the listening socket was closed by stop()
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", SFTPServer, _DirectorySftp, test_server=self)
            with self._lock:
                self._transports.append(transport)
            # start_server(event=...) returns at once; the transport's own thread does the rest.
            transport.start_server(event=threading.Event(), server=_Auth(self))

    def drop_connections(self) -> None:
        """Cut every client connection (the server keeps listening)."""
        with self._lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux; close() alone may not
        except OSError as exc:
            if exc.errno != errno.ENOTCONN:
                raise
        self._sock.close()
        self._thread.join(timeout=5)
        self.drop_connections()
