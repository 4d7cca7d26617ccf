"""Models every layer shares: the envelope, the canonical documents and value types such as the principal."""
