"""Layer 4: central applications that use the hub like any other client."""
