"""Layer 1, transport: durable accept, the outbox relay, delivery workers, retries, dead letters."""
