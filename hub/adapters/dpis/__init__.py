"""DPIS-style HR adapter (see :mod:`hub.adapters.dpis.adapter` for features and settings)."""
from hub.adapters.dpis.adapter import DpisAdapter, DpisSettings

__all__ = ["DpisAdapter", "DpisSettings"]
