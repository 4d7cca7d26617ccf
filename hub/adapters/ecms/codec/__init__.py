"""The e-CMS protocol, with no hub state: letters, notifiers, codes, SOAP envelopes, streaming.

Used by the node (``hub.adapters.ecms.node``), the client adapters
(``hub.adapters.ecms.client``), the reference e-Saraban simulator and the telework
application's correspondence port alike.
"""
