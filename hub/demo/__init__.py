"""``hub demo``: the hub with simulated agencies, on the embedded default."""
