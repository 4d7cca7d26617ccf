"""How an e-CMS attachment reaches the blob store: base64 decoded piece by piece as the parser
hands it over, a file fsynced only when it is the stored copy (issue 18: the per-letter
CPU of the node), and the folder it is renamed into fsynced after the rename, once per request."""
from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path

import pytest

from hub.adapters.ecms.codec.blobs import BlobStore
from hub.adapters.ecms.codec.codes import EcmsFault
from hub.adapters.ecms.codec.soapstream import Base64Stream, Limits, localname, parse_stream

DATA = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes: its base64 ends with padding


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


class Fsyncs:
    """Every fsync made, by the path of what was synced; for a folder, also what it held then."""

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self.folder_entries: dict[Path, list[str]] = {}

    def record(self, fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        self.paths.append(path)
        if path.is_dir():
            self.folder_entries[path] = sorted(p.name for p in path.iterdir())

    def files(self) -> list[Path]:
        return [p for p in self.paths if p not in self.folder_entries]

    def folders(self) -> list[Path]:
        return [p for p in self.paths if p in self.folder_entries]

    def clear(self) -> None:
        self.paths.clear()
        self.folder_entries.clear()


@pytest.fixture
def fsyncs(monkeypatch) -> Fsyncs:
    """Records every fsync (they still happen)."""
    recorder, real = Fsyncs(), os.fsync

    def recording(fd: int) -> None:
        recorder.record(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    return recorder


def decode_in_pieces(text: str, sizes: list[int], blobs: BlobStore):  # noqa: ANN201  (BlobRef)
    stream = Base64Stream(blobs.writer(), "MainLetterBinaryObject")
    position = 0
    for size in sizes:
        stream.feed(text[position:position + size])
        position += size
    stream.feed(text[position:])
    return stream.finish()


@pytest.mark.parametrize("sizes", [[], [1], [3, 5, 7], [4, 4, 4], [2, 9999, 1], [13] * 200])
@pytest.mark.parametrize("layout", ["one line", "MIME lines", "CRLF and spaces"])
def test_base64_in_any_pieces_and_layout_decodes_to_the_same_blob(blobs, sizes, layout):
    encoded = base64.b64encode(DATA).decode("ascii")
    if layout == "MIME lines":
        encoded = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    elif layout == "CRLF and spaces":
        encoded = "\r\n  ".join(encoded[i:i + 64] for i in range(0, len(encoded), 64)) + " \t"
    ref = decode_in_pieces(encoded, sizes, blobs)
    assert ref.sha256 == hashlib.sha256(DATA).hexdigest() and ref.size == len(DATA)
    assert blobs.read(ref.sha256) == DATA


@pytest.mark.parametrize("text, sizes, reason", [
    ("QUJD*REVG", [3], "Only base64 data"),
    ("QUJDRA==QUJD", [8], "continues after its padding"),
    ("QUJDRA==QUJD", [3], "Excess data after padding"),
    ("QUJDRA=", [3], "multiple of 4"),
    ("QUJDRA\u0e01=", [3], "non-ASCII"),
])
def test_invalid_base64_is_refused_with_e006(blobs, text, sizes, reason):
    with pytest.raises(EcmsFault) as refused:
        decode_in_pieces(text, sizes, blobs)
    assert refused.value.code == "E006" and reason in refused.value.description


def test_new_content_is_fsynced_before_it_is_placed(blobs, fsyncs):
    ref = blobs.put(b"a new attachment")
    assert len(fsyncs.files()) == 1 and blobs.read(ref.sha256) == b"a new attachment"


def test_the_folder_a_blob_is_renamed_into_is_fsynced_after_the_rename(blobs, fsyncs):
    """A power loss after the 202 must not lose the rename; the folders created for the blob
    (``ab`` and ``ab/cd``) are durable only once their parents are synced too."""
    ref = blobs.put(b"a new attachment")
    target = blobs.path(ref.sha256)
    assert fsyncs.paths[-3:] == fsyncs.folders()  # after the file's own fsync
    assert set(fsyncs.folders()) == {target.parent, target.parent.parent, blobs.root}
    assert ref.sha256 in fsyncs.folder_entries[target.parent]  # synced once the file was there
    assert target.parent.name in fsyncs.folder_entries[target.parent.parent]
    assert target.parent.parent.name in fsyncs.folder_entries[blobs.root]


def test_a_blob_placed_in_an_existing_folder_syncs_that_folder_only(blobs, fsyncs):
    first = blobs.put(b"first")
    folder = blobs.path(first.sha256).parent
    blobs.path(first.sha256).unlink()  # its folders stay: the next write creates none
    fsyncs.clear()
    ref = blobs.put(b"first")
    assert fsyncs.folders() == [folder] and ref.sha256 in fsyncs.folder_entries[folder]


def test_a_request_placing_several_blobs_syncs_each_folder_once(blobs, fsyncs):
    staged = blobs.staging()
    refs = []
    for content in (b"one", b"two", b"three", b"one"):
        writer = staged.writer()
        writer.write(content)
        refs.append(writer.commit())
    fsyncs.clear()
    staged.promote()
    staged.discard()
    folders = fsyncs.folders()
    assert len(folders) == len(set(folders))
    for ref in refs:
        assert blobs.path(ref.sha256).parent in folders
        assert ref.sha256 in fsyncs.folder_entries[blobs.path(ref.sha256).parent]
    assert blobs.root in folders


def test_content_stored_already_is_not_fsynced_again_and_leaves_no_file(blobs, fsyncs):
    ref = blobs.put(b"sent to several departments")
    before = sorted(p for p in blobs.root.rglob("*") if p.is_file())
    fsyncs.clear()
    assert blobs.put(b"sent to several departments") == ref
    assert fsyncs.paths == []
    assert sorted(p for p in blobs.root.rglob("*") if p.is_file()) == before


def test_a_staged_copy_left_unsynced_is_fsynced_if_the_stored_one_is_gone_by_promotion(blobs, fsyncs):
    """The stored copy vanished between the write and the promotion (a store being rebuilt,
    say): the staged file becomes the stored one, so it is fsynced before it is placed."""
    ref = blobs.put(b"known content")
    staged = blobs.staging()
    writer = staged.writer()
    writer.write(b"known content")
    writer.commit()
    blobs.path(ref.sha256).unlink()
    fsyncs.clear()
    staged.promote()
    staged.discard()
    assert len(fsyncs.files()) == 1 and blobs.read(ref.sha256) == b"known content"
    assert blobs.path(ref.sha256).parent in fsyncs.folders()


def test_a_request_without_binary_objects_touches_no_spool_folder(blobs):
    staged = blobs.staging()
    request = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
               b'<CorrespondenceLetterInboundRequest/></s:Body></s:Envelope>')
    parse_stream(io.BytesIO(request), staged)
    staged.promote()
    staged.discard()
    assert not (blobs.root / ".spool").exists()


@pytest.mark.parametrize("tag, local", [
    ("{urn:th:gov:egif:data:standard:GovernmentDocument:1.0}GovernmentDocument", "GovernmentDocument"),
    ("processID", "processID"),
    ("{}Bare", "Bare"),
    (None, ""),
])
def test_localname(tag, local):
    assert localname(tag) == local


def test_lookups_answer_as_the_path_does(blobs, tmp_path):
    ref = blobs.put(DATA)
    assert blobs.path(ref.sha256) == blobs.root / ref.sha256[:2] / ref.sha256[2:4] / ref.sha256
    assert blobs.exists(ref.sha256) and blobs.read(ref.sha256) == DATA and blobs.size(ref.sha256) == len(DATA)
    assert b"".join(blobs.iter_chunks(ref.sha256, 1000)) == DATA
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert not blobs.exists(missing)
    folder = blobs.root / missing[:2] / missing[2:4]  # a folder where a blob would be is no blob
    (folder / missing).mkdir(parents=True)
    assert not blobs.exists(missing)
    (blobs.root / "ff").write_bytes(b"a file where a folder would be")
    assert not blobs.exists("ff" + missing[2:])
    with pytest.raises(ValueError, match="not a SHA-256"):
        blobs.exists("../../etc/passwd")


@pytest.mark.parametrize("body, code, reason", [
    (b"<a:MainLetterBinaryObject><x/>QUJD</a:MainLetterBinaryObject>", "E005", "x inside a binary object"),
    (b"<a:MainLetterBinaryObject>QUJD*REVG</a:MainLetterBinaryObject>", "E006", "Only base64 data"),
    (b"<a:MainLetterBinaryObject>QUJDR</a:MainLetterBinaryObject>", "E006", "multiple of 4"),
    (b"<a:T>" + b"t" * 2000 + b"</a:T>", "E014", "exceeds 1000 characters"),
    (b"<a:d>" * 40 + b"</a:d>" * 40, "E002", "max_depth=32"),
])
def test_a_refusal_in_the_parse_keeps_its_own_cause(blobs, body, code, reason):
    """lxml turns an error raised in a parser callback into a generic syntax error; the node
    reports the callback's own refusal instead."""
    request = b'<Envelope xmlns:a="urn:a">' + body + b"</Envelope>"
    with pytest.raises(EcmsFault) as refused:
        parse_stream(io.BytesIO(request), blobs.staging(), Limits(max_depth=32, max_text_chars=1000))
    assert refused.value.code == code and reason in refused.value.description
