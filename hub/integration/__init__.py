"""Layer 5 integration: events reach every subscribing agency once (Tell Us Once), and one-stop
applications fan out to several agencies under one tracking id. Built on the transport: each
delivery is an ordinary hub message (durable, retried, dead-lettered, replayable)."""
