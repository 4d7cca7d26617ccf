"""The GFMIS-style finance adapter: batch files out through a drop folder, result files back.

Features:
    - ``send`` turns a ``th.gfmis.batch`` message into a fixed-width cp874 batch file
      (``standards/th.gfmis.batch/1.0.0/file-layout.md``) named after the message id, and
      places it in ``outbound/`` atomically (temporary name, fsync, link/rename, directory
      fsync). Sending the same message again finds the file and writes nothing.
    - Control totals are checked before writing (``precheck_control_totals``, the standard's
      rule); turn it off to let GFMIS be the only judge.
    - ``poll(sink)`` (:meth:`GfmisAdapter.collect_results`) reads ``results/``, checks each
      result file's own control totals and its accepted total against the original batch,
      and records each line's acceptance or rejection (with reason) on the original message
      through the sink (``InboundSink.record_outcome``). Re-processing a result is a no-op;
      a result that arrives before its batch is marked delivered waits in ``results/``.
      ``hub adapters poll ROUTE`` polls on demand, the hub's workers every
      ``poll_interval_seconds`` when it is set.

Connection string (route settings), a local (or mounted) folder:
    {"path": "/srv/gfmis-drop", "agency_code": "03008"}
or a folder on an SFTP server (needs ``pip install 'backoffice-hub[sftp]'``; the host key
must be in ``known_hosts_file``, default ``~/.ssh/known_hosts``):
    {"url": "sftp://hub@gfmis.example.go.th:22/drop", "private_key_file": "/etc/hub/gfmis_ed25519",
     "known_hosts_file": "/etc/hub/known_hosts", "agency_code": "03008"}
Both give the same guarantees (:mod:`hub.adapters.gfmis.dropfolder`, :mod:`hub.adapters.gfmis.sftp`).
"""
from __future__ import annotations

import logging
from decimal import Decimal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.adapters.base import (
    RECEIVE, SEND, Adapter, Health, InboundSink, OutboundMessage, PollReport, Receipt, outcome_status,
)
from hub.adapters.gfmis.batch import RESULT_SUFFIX, Batch, message_id_of, render_batch, result_name_for
from hub.adapters.gfmis.dropfolder import DropFolder, DropFolderError, LocalDropFolder
from hub.adapters.gfmis.layout import LayoutError
from hub.adapters.gfmis.results import ResultFile, ResultFileError, parse_result
from hub.errors import DeliveryError, NotFound, NotYetDelivered

log = logging.getLogger(__name__)


class GfmisSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path | None = Field(None, description="Local drop folder root (outbound/, archive/, results/). "
                                                "Give this or url.")
    url: str | None = Field(None, max_length=2000, description="SFTP drop folder instead of path: "
                            "sftp://user@host[:port]/absolute/path (needs the sftp extra: "
                            "pip install 'backoffice-hub[sftp]').")
    password: str | None = Field(None, max_length=500, description="SFTP password (or private_key_file).")
    private_key_file: Path | None = Field(None, description="SFTP: OpenSSH private key file for the user.")
    private_key_passphrase: str | None = Field(None, max_length=500, description="SFTP: the key file's passphrase.")
    known_hosts_file: Path | None = Field(None, description="SFTP: known_hosts file holding the server's host key "
                                                            "(default ~/.ssh/known_hosts). Unknown or changed "
                                                            "host keys are refused.")
    insecure_accept_any_host_key: bool = Field(False, description="SFTP, FOR TESTS ONLY: skip host key checking, "
                                                                  "so anyone on the network path can pose as GFMIS.")
    connect_timeout: float = Field(15.0, gt=0, le=300, description="SFTP: seconds for connecting and each reply.")
    agency_code: str | None = Field(None, pattern=r"^[0-9]{5}$",
                                    description="If set, batches for another agency code are refused.")
    precheck_control_totals: bool = Field(True, description="Refuse a batch whose trailer disagrees with its "
                                                            "details instead of letting GFMIS reject it whole.")
    create_folders: bool = Field(True, description="Create the drop folder's sub-folders if missing.")
    poll_interval_seconds: float | None = Field(
        None, gt=0, le=86400, description="Collect result files on this interval in the hub's workers; unset: "
                                          "only when `hub adapters poll ROUTE` is run.")
    result_sender: str = Field("TH/GOV/CGD/gfmis", description="Not used: result files are recorded on their "
                                                               "batch messages. Accepted so stored routes stay valid.")

    @model_validator(mode="after")
    def _one_drop_folder(self) -> GfmisSettings:
        if (self.path is None) == (self.url is None):
            raise ValueError("give the drop folder as either path (local) or url (sftp://...), not both or neither")
        sftp_only = [f for f in ("password", "private_key_file", "private_key_passphrase", "known_hosts_file")
                     if getattr(self, f) is not None] + (["insecure_accept_any_host_key"]
                                                         if self.insecure_accept_any_host_key else [])
        if self.path is not None and sftp_only:
            raise ValueError(f"{', '.join(sftp_only)} only apply to an sftp:// url")
        if self.url is not None:
            from hub.adapters.gfmis.sftp import parse_sftp_url

            try:
                parse_sftp_url(self.url)
            except ValueError as exc:
                raise ValueError(f"url {exc}") from exc
            if self.password is None and self.private_key_file is None:
                raise ValueError("an sftp:// url needs a password or a private_key_file")
        return self

    def open_drop_folder(self) -> DropFolder:
        if self.path is not None:
            return LocalDropFolder(self.path, create=self.create_folders)
        from hub.adapters.gfmis.sftp import SftpDropFolder, parse_sftp_url

        return SftpDropFolder(
            parse_sftp_url(self.url or ""), password=self.password, private_key_file=self.private_key_file,
            private_key_passphrase=self.private_key_passphrase, known_hosts_file=self.known_hosts_file,
            insecure_accept_any_host_key=self.insecure_accept_any_host_key, create=self.create_folders,
            timeout=self.connect_timeout)


@dataclass
class CollectReport:
    applied: list[str] = field(default_factory=list)        # result files recorded on their messages
    already: list[str] = field(default_factory=list)        # recorded before (re-processing)
    waiting: list[str] = field(default_factory=list)        # message not yet delivered; kept for later
    failed: list[dict[str, Any]] = field(default_factory=list)


class GfmisAdapter(Adapter):
    scheme = "gfmis"
    capabilities = frozenset({SEND, RECEIVE})
    Settings = GfmisSettings
    summary = "GFMIS-style finance: fixed-width cp874 batch files to a drop folder; per-line results back."

    def __init__(self, settings: GfmisSettings) -> None:
        super().__init__(settings)
        self.drop: DropFolder = settings.open_drop_folder()

    # -- sending --------------------------------------------------------------------------

    def send(self, message: OutboundMessage) -> Receipt:
        try:
            batch = Batch.model_validate(orjson.loads(message.payload))
        except (ValidationError, orjson.JSONDecodeError) as exc:
            raise DeliveryError(f"payload is not a th.gfmis.batch document: {_first_error(exc)}",
                                permanent=True) from exc
        if self.settings.agency_code and batch.header.agency_code != self.settings.agency_code:
            raise DeliveryError(f"header.agency_code is {batch.header.agency_code}; this route sends for "
                                f"{self.settings.agency_code}", permanent=True)
        if self.settings.precheck_control_totals:
            problems = batch.control_problems()
            if problems:
                raise DeliveryError("batch control totals do not match: " + "; ".join(
                    f"{p.field} {p.message} ({p.rule})" for p in problems), permanent=True,
                    errors_detail=[p.as_dict() for p in problems])
        try:
            data = render_batch(batch)
        except LayoutError as exc:
            raise DeliveryError(f"batch does not fit the file layout: {exc}", permanent=True) from exc
        name = batch.file_name(message.id)
        detail = {"file": name, "lines": len(batch.details), "amount_total": f"{batch.amount_sum():.2f}"}
        try:
            if self._already_dropped(name):
                return Receipt(f"GFMIS batch file {name} was already in the drop folder", {**detail, "duplicate": True})
            written = self.drop.write_atomic("outbound", name, data)
        except OSError as exc:
            raise DeliveryError(f"cannot write to drop folder {self.drop}: {exc}") from exc
        state = "written" if written else "was already in the drop folder"
        return Receipt(f"GFMIS batch file {name} {state}", {**detail, "duplicate": not written})

    def _already_dropped(self, name: str) -> bool:
        result = result_name_for(name)
        return (self.drop.exists("outbound", name) or self.drop.exists("archive", name)
                or any(self.drop.exists(d, result) for d in ("results", "results/processed", "results/failed")))

    # -- results --------------------------------------------------------------------------

    def pending_results(self) -> list[str]:
        return self.drop.list("results", RESULT_SUFFIX)

    def read_result(self, name: str) -> ResultFile:
        """Parse and verify one waiting result file (raises :class:`ResultFileError`)."""
        try:
            data = self.drop.read("results", name)
        except DropFolderError:
            raise  # the folder is unreachable, the file is not bad: it stays in results/ for the next poll
        except OSError as exc:
            raise ResultFileError(name, "readable", f"cannot be read: {exc}") from exc
        result = parse_result(name, data)
        if message_id_of(result.source_file) is None:
            raise ResultFileError(name, "source_file", f"answers {result.source_file!r}, which is not a file the "
                                                       "hub sent (GF_<agency>_<batch>_<message id>.TXT)")
        return result

    def poll(self, sink: InboundSink) -> PollReport:
        """Collect the waiting result files; an unreachable drop folder stops the poll, not the hub."""
        try:
            report = self.collect_results(sink)
        except DropFolderError as exc:  # e.g. SFTP server down: a later poll picks the files up
            return PollReport(f"GFMIS drop folder unreachable: {exc}; result files stay for the next poll",
                              error=str(exc))
        summary = (f"GFMIS: {len(report.applied)} result(s) applied, {len(report.already)} seen before, "
                   f"{len(report.waiting)} waiting for delivery, {len(report.failed)} refused")
        return PollReport(summary, accepted=report.applied, known=report.already, refused=report.failed,
                          waiting=report.waiting, detail=report)

    def poll_interval(self) -> float | None:
        return self.settings.poll_interval_seconds

    def collect_results(self, sink: InboundSink) -> CollectReport:
        """Apply every waiting result file to its original message; never stops at a bad file.

        Each result is checked on its own and against the original batch (``sink.payload``)
        before its outcome is recorded (``sink.record_outcome``); the file moves to
        ``results/processed`` (or ``results/failed``) only after that.
        """
        report = CollectReport()
        for name in self.pending_results():
            try:
                result = self.read_result(name)
                message_id = message_id_of(result.source_file)
                self._check_against_batch(result, sink.payload(message_id))
                accepted = len(result.accepted) if result.file_status == "A" else 0
                rejected = len(result.lines) - accepted if result.file_status == "A" else max(len(result.lines), 1)
                recorded = sink.record_outcome(
                    message_id, key=f"{name}:{result.sha256[:16]}",
                    status=outcome_status(accepted, rejected),
                    detail={"result_file": name, "batch_id": result.batch_id, "file_status": result.file_status,
                            "reason_code": result.reason_code, "reason": result.reason_text,
                            "accepted": accepted, "rejected": rejected,
                            "accepted_total": f"{result.accepted_total:.2f}",
                            "lines": [line.as_dict() for line in result.lines]},
                    error=result.summary() or None,
                )
            except NotYetDelivered as exc:
                log.info("GFMIS result %s waits: %s", name, exc.message)
                report.waiting.append(name)
                continue
            except (ResultFileError, NotFound) as exc:
                error = exc.as_dict() if isinstance(exc, ResultFileError) else \
                    {"file": name, "rule": "known_message", "message": exc.message}
                log.error("GFMIS result file %s refused: %s", name, error["message"], extra={"gfmis_error": error})
                report.failed.append(error)
                self._move_result(name, "results/failed")
                continue
            (report.applied if recorded else report.already).append(name)
            self._move_result(name, "results/processed")
        return report

    def _check_against_batch(self, result: ResultFile, payload: bytes) -> None:
        batch = Batch.model_validate(orjson.loads(payload))
        amounts = {d.line_no: d.amount for d in batch.details}
        if result.file_status == "A":
            unknown = [line.line_no for line in result.lines if line.line_no not in amounts]
            if unknown or len(result.lines) != len(amounts):
                raise ResultFileError(result.name, "lines_match_batch",
                                      f"answers lines {[x.line_no for x in result.lines]}; the batch has "
                                      f"lines 1..{len(amounts)}")
            total = sum((amounts[line.line_no] for line in result.accepted), start=Decimal("0.00"))
            if total != result.accepted_total:
                raise ResultFileError(result.name, "control_accepted_total",
                                      f"trailer accepted_total is {result.accepted_total:.2f}; the accepted lines "
                                      f"of the batch sum to {total:.2f}")

    def _move_result(self, name: str, to: str) -> None:
        try:
            if self.drop.exists(to, name):  # the same result processed before: keep the first copy
                self.drop.delete("results", name)
            else:
                self.drop.move("results", name, to)
        except OSError as exc:
            # The outcome is recorded (idempotently); leaving the file only means it is seen again.
            log.warning("GFMIS result %s could not be moved to %s: %s", name, to, exc)

    def check(self) -> Health:
        ok, detail = self.drop.check()
        if ok:
            try:
                detail += f"; {len(self.drop.list('outbound', '.TXT'))} batch file(s) waiting for GFMIS, " \
                          f"{len(self.pending_results())} result file(s) waiting for the hub"
            except OSError as exc:
                return Health(False, f"drop folder {self.drop} cannot be listed: {exc}")
        return Health(ok, detail)

    def close(self) -> None:
        self.drop.close()


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']} (rule {err['type']})"
    return str(exc)
