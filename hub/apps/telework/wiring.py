"""Builds the telework application on a running hub: its state in the hub's database, its
writes through the hub's messages. The HR directory, the e-Saraban book register and the
audit trail are passed in (see the module docstring of ``hub_ports`` for what goes where)."""
from __future__ import annotations

from dataclasses import dataclass

from hub.apps.telework.hub_ports import HubClient, HubCorrespondence, HubFinance, HubHrRecords, HubNotifications, HubStrategy
from hub.apps.telework.ports import AuditTrail, BookRegister, HrDirectory
from hub.apps.telework.reports import AgencyReports
from hub.apps.telework.service import Ports, TeleworkService
from hub.apps.telework.store_sql import SqlStore


@dataclass
class TeleworkApp:
    service: TeleworkService
    reports: AgencyReports
    ports: Ports


def build_on_hub(hub, *, sender_agency: str, hr: HrDirectory, books: BookRegister, audit: AuditTrail,  # noqa: ANN001
                 gfmis_agency_codes: dict[str, str], clock=None) -> TeleworkApp:  # noqa: ANN001
    client = HubClient(hub.messages)
    ports = Ports(hr=hr, correspondence=HubCorrespondence(client, books),
                  hr_records=HubHrRecords(client, sender_agency), finance=HubFinance(client, gfmis_agency_codes),
                  strategy=HubStrategy(client), notifications=HubNotifications(client), audit=audit,
                  store=SqlStore(hub.engine))
    service = TeleworkService(ports, clock=clock)
    return TeleworkApp(service, AgencyReports(service), ports)


# One telework application per running hub: the demo registers the one it built; the API and
# CLI otherwise build the pilot configuration (whose HR directory is the pilot's in-memory one
# until the DPIS directory port is connected).
_APPS: dict[int, TeleworkApp] = {}


def register(hub, app: TeleworkApp) -> None:  # noqa: ANN001
    _APPS[id(hub)] = app


def app_for(hub) -> TeleworkApp:  # noqa: ANN001
    if id(hub) not in _APPS:
        from hub.apps.telework import pilot
        from hub.apps.telework.fakes import FakeAuditTrail, FakeBookRegister

        _APPS[id(hub)] = build_on_hub(hub, sender_agency=pilot.CGD, hr=pilot.fake_hr(),
                                      books=FakeBookRegister(pilot.BOOK_PREFIXES), audit=FakeAuditTrail(),
                                      gfmis_agency_codes={pilot.CGD: "03004"})
    return _APPS[id(hub)]
