"""Process-wide logging configuration for the ``hub`` command."""
from __future__ import annotations

import logging


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # Per-request access lines drown everything else under load.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
