"""Small statistics shared by the bench's processes."""
from __future__ import annotations


def percentiles(samples: list[float]) -> dict[str, float | None]:
    """p50 / p95 / p99 in milliseconds (nearest-rank)."""
    if not samples:
        return {"p50": None, "p95": None, "p99": None}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 3)

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}
