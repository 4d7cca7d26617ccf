"""Edges: one package or module per external system kind, all on the contract in ``base``."""
