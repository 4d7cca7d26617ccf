"""The ``hub`` command line (console script ``hub = "hub.cli:main"``, and ``python -m hub``)."""
from hub.cli.main import app, main

__all__ = ["app", "main"]
