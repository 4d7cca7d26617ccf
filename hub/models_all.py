"""Imports every module that defines tables, so the metadata is complete for Alembic."""
from hub.transport import tables as transport_tables  # noqa: F401
from hub.registry import tables as registry_tables  # noqa: F401
from hub.security import tables as security_tables  # noqa: F401
from hub.standards import tables as standards_tables  # noqa: F401
from hub.adapters.ecms.node import tables as ecms_tables  # noqa: F401
from hub.apps.telework import tables as telework_tables  # noqa: F401
from hub.integration import tables as integration_tables  # noqa: F401
from hub.adapters.ecms.node import paperless as ecms_paperless_tables  # noqa: F401
from hub.console import tables as console_tables  # noqa: F401
from hub.integration import consent_tables as citizen_consent_tables  # noqa: F401
