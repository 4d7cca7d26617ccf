"""HTTP entry point (FastAPI): wiring only; routes call services."""
