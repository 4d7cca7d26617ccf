"""The outbound e-CMS adapters (see ``hub.adapters.ecms``): ``queue`` (``ecms-queue``) and
``adapter`` (``ecms``, with its zeep client ``soapclient``)."""
