"""TH e-GIF e-CMS (e-Saraban correspondence, DOMAIN.md §4): everything e-CMS in one home.

Three sub-packages, each depending only on the ones listed before it:

``codec``   the protocol itself, pure: the letter and notifiers (``letter``), the code lists
            and the ``ErrorDetail`` faults (``codes``), SOAP 1.1 envelopes (``soap``), the
            streaming request parser (``soapstream``) and the content-addressed attachment
            store it streams into (``blobs``).
``node``    the hub as an e-CMS node: its operations (``node.EcmsNode``), its state
            (``store``, ``tables``), who is calling (``auth``), the address allow-list rules
            (``allowlist``), taking in a remote node's queue (``federation``) and the wiring of
            one node inside a hub (``service``). Its HTTP listeners are entry points:
            ``hub/api/routes/ecms.py`` and ``hub/api/allowlist.py``.
``client``  the outbound adapters: ``ecms-queue`` (``queue.EcmsQueueAdapter``) places letters
            in a department's poll queue on this hub's own node; ``ecms``
            (``adapter.EcmsClientAdapter``, on the zeep client in ``soapclient``) forwards
            letters to another node (DGA's, or another hub) and polls our queue there.
"""
