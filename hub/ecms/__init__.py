"""The hub as a TH e-GIF e-CMS node (DOMAIN.md §4): SOAP 1.1 at ``/ecms/service2``.

Features:
    - every operation of the e-CMS message set, dispatched on the SOAP body root
      (``node.EcmsNode``), with ``ErrorDetail{ErrorCode, ErrorDescription}`` faults (``codes``);
    - letters and notifiers become hub messages (``hub.messages.accept``): the durable
      outbox, retries, history and crash safety come from the transport; a receiver's
      route with the ``ecms-queue`` adapter places them in its poll queue (``store``);
    - attachments are streamed out of the SOAP body into a content-addressed blob store
      (``blobs``, ``soapstream``) and referenced by SHA-256 in the message payload;
    - tolerant reading of real clients' variants, canonical ``rsm:``/``ram:`` answers (``letter``).
"""
