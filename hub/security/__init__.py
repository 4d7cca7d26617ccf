"""Layer 3 security: who is calling (authentication) and what they may do (authorization)."""
