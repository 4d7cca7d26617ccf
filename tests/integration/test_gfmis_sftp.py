"""The GFMIS drop folder on a real SFTP server (paramiko, in-process on a loopback port).

The reference GFMIS works on the server's backing directory, as the real one works on its
own disk; the hub only reaches it over SFTP.
"""
from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from hub.adapters.base import Adapter
from hub.adapters.gfmis import GfmisAdapter, GfmisSettings
from hub.adapters.gfmis.dropfolder import DropFolderError, HostKeyRefused
from hub.adapters.gfmis.sftp import SftpDropFolder, parse_sftp_url
from hub.bootstrap import Hub
from hub.errors import DeliveryError
from hub.schemas.envelope import Envelope
from hub.schemas.routes import RouteIn
from tests.integration.test_gfmis_roundtrip import GFMIS, SERVICE, batch, simulator
from tests.support.conformance import GfmisDropFolderCases, outbound
from tests.support.inbound import hub_sink
from tests.support.sftp_server import SftpTestServer
from tests.support.waiting import wait_for



@pytest.fixture
def client_key(tmp_path: Path) -> Path:
    path = tmp_path / "id_hub"
    paramiko.ECDSAKey.generate().write_private_key_file(str(path))
    return path


@pytest.fixture
def server(tmp_path: Path, client_key: Path) -> Iterator[SftpTestServer]:
    key = paramiko.ECDSAKey.from_private_key_file(str(client_key))
    with SftpTestServer(tmp_path / "sftp-root", authorized_keys=[key]) as running:
        yield running


def sftp_settings(server: SftpTestServer, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"url": server.url("/drop"), "password": server.password,
            "known_hosts_file": str(server.write_known_hosts(tmp_path / "known_hosts")), **extra}


def test_batch_round_trip_over_sftp_with_one_rejected_line(embedded_hub: Hub, server: SftpTestServer,
                                                           tmp_path: Path, client_key: Path) -> None:
    settings = {"url": server.url("/drop"), "private_key_file": str(client_key),
                "known_hosts_file": str(server.write_known_hosts(tmp_path / "known_hosts"))}
    embedded_hub.router.add(RouteIn(receiver=GFMIS, service=SERVICE, adapter="gfmis", settings=settings))
    accepted = embedded_hub.messages.accept(Envelope(sender="TH/GOV/OPDC/finance", receiver=GFMIS, service=SERVICE,
                                                     standard="th.gfmis.batch@1.0.0", payload=batch()))
    embedded_hub.start_workers()
    wait_for(lambda: embedded_hub.messages.get_meta(accepted.id).status == "delivered", what="batch delivered")
    message_id = accepted.id

    drop = server.root / "drop"  # what the GFMIS side sees on its own disk
    [name] = os.listdir(drop / "outbound")
    assert message_id in name and name.endswith(".TXT")
    [result] = simulator(drop).process_once()
    assert [(line.line_no, line.status, line.reason_code) for line in result.lines] == [
        (1, "A", None), (2, "R", "E203"), (3, "A", None)]

    with GfmisAdapter(GfmisSettings.model_validate(settings)) as adapter:
        assert adapter.check().ok
        report = adapter.poll(hub_sink(embedded_hub)).detail
        assert len(report.applied) == 1 and not report.failed
        meta = embedded_hub.messages.get_meta(message_id)
        assert meta.status == "partly_rejected"
        assert meta.last_error.startswith("line 2: E203") and "6819000" in meta.last_error
        assert os.listdir(drop / "results" / "processed") == report.applied

        # Re-processing the same result file (put back into results/) changes nothing.
        shutil.copy(drop / "results" / "processed" / report.applied[0], drop / "results" / report.applied[0])
        again = adapter.poll(hub_sink(embedded_hub)).detail
        assert again.already == report.applied and not again.applied
        assert sorted(os.listdir(drop / "results")) == ["failed", "processed"]
    outcomes = [e for e in embedded_hub.messages.history(message_id) if e["kind"] == "receiver_outcome"]
    assert len(outcomes) == 1 and outcomes[0]["detail"]["accepted_total"] == "13500.25"


def test_unknown_or_changed_host_key_is_refused(server: SftpTestServer, tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with GfmisAdapter(GfmisSettings.model_validate(
            {**sftp_settings(server, tmp_path), "known_hosts_file": str(empty)})) as adapter:
        health = adapter.check()
        assert not health.ok and "is not in" in health.detail and "refusing" in health.detail
        with pytest.raises(DeliveryError) as caught:
            adapter.send(outbound("TH/GOV/OPDC/finance", SERVICE, batch()))
        assert "host key" in caught.value.reason
    assert not (server.root / "drop").exists(), "nothing was written to an unverified server"

    impostor = server.write_known_hosts(tmp_path / "other_known_hosts", paramiko.ECDSAKey.generate())
    folder = SftpDropFolder(parse_sftp_url(server.url()), password=server.password, known_hosts_file=impostor)
    with pytest.raises(HostKeyRefused, match="differs from the one"):
        folder.list("outbound", ".TXT")

    # Only the explicit test-only switch skips the check.
    with GfmisAdapter(GfmisSettings.model_validate(
            {"url": server.url(), "password": server.password, "insecure_accept_any_host_key": True})) as adapter:
        assert adapter.check().ok


def test_wrong_password_is_a_clear_unhealthy_check(server: SftpTestServer, tmp_path: Path) -> None:
    with GfmisAdapter(GfmisSettings.model_validate(sftp_settings(server, tmp_path, password="wrong"))) as adapter:
        health = adapter.check()
    assert not health.ok and "authentication as 'hub' failed" in health.detail


def _watch_upload(monkeypatch: pytest.MonkeyPatch, at_chunk: int, action: Any) -> None:
    """Run ``action()`` when the client sends its ``at_chunk``-th data chunk of an upload."""
    original = paramiko.SFTPFile._write
    calls = {"n": 0}

    def write(self: paramiko.SFTPFile, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == at_chunk:
            action()
        return original(self, data)

    monkeypatch.setattr(paramiko.SFTPFile, "_write", write)


def test_half_uploaded_file_is_never_visible_under_its_final_name(server: SftpTestServer, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    settings = sftp_settings(server, tmp_path)
    writer = SftpDropFolder(parse_sftp_url(settings["url"]), password=server.password,
                            known_hosts_file=Path(settings["known_hosts_file"]))
    reader = SftpDropFolder(parse_sftp_url(settings["url"]), password=server.password,
                            known_hosts_file=Path(settings["known_hosts_file"]))
    outbound_dir = server.root / "drop" / "outbound"
    data = os.urandom(1_000_000)  # many 32 KiB SFTP writes
    seen: dict[str, Any] = {}

    def look() -> None:  # mid-upload, from the server's disk and from another SFTP session
        seen["disk"] = sorted(os.listdir(outbound_dir))
        seen["listed"] = reader.list("outbound", ".TXT")

    _watch_upload(monkeypatch, 5, look)
    assert writer.write_atomic("outbound", "GF_BIG.TXT", data)
    assert len(seen["disk"]) == 1 and seen["disk"][0].startswith(".GF_BIG.TXT.") and seen["disk"][0].endswith(".tmp")
    assert seen["listed"] == []
    assert os.listdir(outbound_dir) == ["GF_BIG.TXT"] and (outbound_dir / "GF_BIG.TXT").read_bytes() == data

    # The connection dies between the first chunks and the rename: the final name never appears.
    _watch_upload(monkeypatch, 3, server.drop_connections)
    with pytest.raises(OSError):
        writer.write_atomic("outbound", "GF_CUT.TXT", data)
    assert not (outbound_dir / "GF_CUT.TXT").exists()
    monkeypatch.undo()
    assert reader.list("outbound", ".TXT") == ["GF_BIG.TXT"]  # the orphaned dot-file is invisible

    # The writer reconnects; an existing final name is never replaced.
    assert writer.write_atomic("outbound", "GF_CUT.TXT", b"complete")
    assert not writer.write_atomic("outbound", "GF_CUT.TXT", b"another body")
    assert (outbound_dir / "GF_CUT.TXT").read_bytes() == b"complete"
    writer.close()
    reader.close()


def test_servers_without_posix_rename_get_the_plain_sftp_rename(tmp_path: Path) -> None:
    with SftpTestServer(tmp_path / "root", posix_rename=False) as server:
        folder = SftpDropFolder(parse_sftp_url(server.url()), password=server.password,
                                known_hosts_file=server.write_known_hosts(tmp_path / "kh"))
        assert folder.write_atomic("outbound", "A.TXT", b"first")
        assert folder._posix_rename is False
        assert not folder.write_atomic("outbound", "A.TXT", b"second")
        folder.move("outbound", "A.TXT", "archive")
        assert (server.root / "drop" / "archive" / "A.TXT").read_bytes() == b"first"
        folder.close()


def test_sftp_settings_are_checked() -> None:
    good = {"url": "sftp://hub@gfmis.example:2222/srv/drop", "password": "x"}
    assert GfmisSettings.model_validate(good).url == good["url"]
    for bad in ({"url": "sftp://gfmis.example/srv/drop", "password": "x"},           # no user
                {"url": "sftp://hub:pw@gfmis.example/srv/drop"},                    # password in URL
                {"url": "sftp://hub@gfmis.example", "password": "x"},               # no path
                {"url": "sftp://hub@gfmis.example/srv/drop"},                        # no credentials
                {"url": "ftp://hub@gfmis.example/srv/drop", "password": "x"},
                {"path": "/srv/drop", "url": "sftp://hub@h/d", "password": "x"},     # both
                {"path": "/srv/drop", "known_hosts_file": "/etc/kh"}):               # sftp-only setting
        with pytest.raises(ValueError):
            GfmisSettings.model_validate(bad)
    target = parse_sftp_url("sftp://hub@gfmis.example:2222/srv/drop/")
    assert (target.username, target.host, target.port, target.root) == ("hub", "gfmis.example", 2222, "/srv/drop")


def test_unreachable_server_is_a_drop_folder_error(tmp_path: Path) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    folder = SftpDropFolder(parse_sftp_url(f"sftp://hub@127.0.0.1:{port}/drop"), password="x",
                            insecure_accept_any_host_key=True, timeout=2)
    with pytest.raises(DropFolderError, match="cannot connect"):
        folder.list("results", ".RES")


class TestGfmisSftpConformance(GfmisDropFolderCases):
    def setup_system(self, tmp_path: Path) -> None:
        self.server = SftpTestServer(tmp_path / "sftp-root").start()
        self.cleanup(self.server.stop)

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return sftp_settings(self.server, tmp_path, agency_code="03008")

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        # The server is up but its host key is not known: as unusable as a server that is down.
        return {**self.settings(tmp_path), "known_hosts_file": str(tmp_path / "missing_known_hosts")}

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [{}, {"url": "sftp://hub@127.0.0.1/drop"}, {"url": "sftp://hub@127.0.0.1/drop", "password": "x",
                                                           "agency_code": "3008"}]

    def drop_root(self, adapter: Adapter) -> Path:
        return self.server.root / "drop"
