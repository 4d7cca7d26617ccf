"""Pydantic models: the envelope and the canonical documents."""
