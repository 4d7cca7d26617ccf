"""e-CMS / e-Saraban adapters.

``ecms-queue`` (``queue.EcmsQueueAdapter``): delivery into a department's poll queue on
this hub's own e-CMS node. ``ecms`` (``client.EcmsClientAdapter``): a zeep-based client of
another e-CMS node (DGA's, or another hub) that forwards letters and polls inbound ones.
"""
