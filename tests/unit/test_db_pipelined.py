"""A pipelined transaction that cannot get a connection fails as any other transaction would:
with SQLAlchemy's ``OperationalError``, which the API answers with 503 + Retry-After."""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from hub.db import pipelined


def test_no_server_to_connect_to_is_sqlalchemys_operational_error():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = create_engine(f"postgresql+psycopg://hub@127.0.0.1:{port}/hub?connect_timeout=2")
    try:
        with pytest.raises(OperationalError, match="connection"), pipelined(engine):
            pytest.fail("the block ran without a connection")
    finally:
        engine.dispose()
