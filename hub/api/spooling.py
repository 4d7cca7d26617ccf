"""A large ``POST /v1/messages`` body, spooled to a file as it arrives and parsed from there.

A body over ``HUB_SPOOL_THRESHOLD_BYTES`` (declared, or grown past it without a
Content-Length) goes to an unnamed temporary file under ``<data_dir>/spool``; the envelope is
then read from the file in pieces, its payload written in its stored form to a second file
while it is hashed (``hub.schemas.envelope_stream``), and the transport stores that file in
pieces. The request is never whole in memory, nor is the payload. The temporary files have
no name, so they vanish when closed, and with the process if it dies.
"""
from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from hub.errors import FieldError, PayloadTooLarge, ValidationFailed
from hub.schemas.envelope import Envelope
from hub.schemas.envelope_stream import JsonStreamError, TooDeep, read_envelope
from hub.schemas.validation import validation_failed
from hub.transport.messages import Spooled

STAND_INS: dict[str, Any] = {"object": {}, "array": [], "string": ""}


def spool_dir(data_dir: Path) -> Path:
    directory = data_dir / "spool"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def mismatch(declared: int, what: str) -> ValidationFailed:
    return ValidationFailed(what, errors=[FieldError("/header/content-length", "matches_body", f"{declared} bytes")])


async def spool_rest(chunks: AsyncIterator[bytes], head: bytes | bytearray, limit: int, declared: int | None,
                     data_dir: Path) -> IO[bytes]:
    """``head`` (what was read so far) and the rest of the body (``chunks``), in a temporary file."""
    spool = tempfile.TemporaryFile(dir=spool_dir(data_dir))
    try:
        spool.write(head)
        size = len(head)
        async for chunk in chunks:
            size += len(chunk)
            if declared is not None and size > declared:
                raise mismatch(declared, f"the body is longer than its Content-Length of {declared} bytes")
            if size > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes", limit=limit)
            spool.write(chunk)
        if declared is not None and size != declared:
            raise mismatch(declared, f"the body ended after {size} of its {declared} declared bytes")
        spool.seek(0)
        return spool
    except BaseException:
        spool.close()
        raise


def parse_spooled(raw: IO[bytes], payload: IO[bytes], max_depth: int, directory: Path) -> tuple[Envelope, Spooled]:
    """The envelope in ``raw``, its payload's stored form written to ``payload``."""
    try:
        found = read_envelope(raw, payload, max_depth=max_depth, spill_dir=str(directory))
    except TooDeep as exc:
        raise ValidationFailed(
            f"the payload nests more than {exc.depth} levels deep; at most {exc.depth} are accepted",
            errors=[FieldError("/payload", "max_depth", f"at most {exc.depth} levels of nesting")]) from None
    except JsonStreamError as exc:
        raise ValidationFailed(f"the body is not valid JSON: {exc}", errors=[FieldError("", "json", str(exc))]) from None
    stand_in = STAND_INS.get(found.payload_kind, found.payload_scalar)
    try:
        envelope = Envelope.model_validate({**found.fields, "payload": stand_in})
    except ValidationError as exc:
        raise validation_failed(exc) from exc
    payload.flush()
    return envelope, Spooled(payload, found.sha256, found.size)
