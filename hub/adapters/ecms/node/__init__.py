"""The hub as a TH e-GIF e-CMS node (DOMAIN.md §4): SOAP 1.1 at ``/ecms/service2``.

Features:
    - every operation of the e-CMS message set, dispatched on the SOAP body root
      (``node.EcmsNode``), with ``ErrorDetail{ErrorCode, ErrorDescription}`` faults (``codec.codes``);
    - letters and notifiers become hub messages through the ``accept`` callable the node is
      built with (the hub's durable accept): the outbox, retries, history and crash safety
      come from the transport; a receiver's route with the ``ecms-queue`` adapter places
      them in its poll queue (``store``);
    - attachments are streamed out of the SOAP body into a content-addressed blob store
      (``codec.blobs``, ``codec.soapstream``) and referenced by SHA-256 in the message payload;
    - tolerant reading of real clients' variants, canonical ``rsm:``/``ram:`` answers
      (``codec.letter``);
    - the address allow-list *rules* (``allowlist``); the listener that applies them is an
      entry point (``hub/api/allowlist.py``);
    - federation (``federation``): what a remote node holds for our departments is taken in
      through this node, as if the remote agency had posted it here.
"""
