"""``hub bench``: the hub's throughput and latency, each figure next to a baseline of its own stack.

Every server runs in its own process on loopback and is driven by a separate load-generator
process; absolute numbers drift on shared machines, so each figure is reported as a ratio
to a baseline measured in the same run.
"""
