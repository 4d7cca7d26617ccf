"""Layer 3 shared information: the agency registry and the person / juristic / location registries."""
