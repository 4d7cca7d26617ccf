"""GFMIS-style finance adapter (see :mod:`hub.adapters.gfmis.adapter` for features and settings)."""
from hub.adapters.gfmis.adapter import GfmisAdapter, GfmisSettings

__all__ = ["GfmisAdapter", "GfmisSettings"]
