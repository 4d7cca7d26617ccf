"""Builds the telework application on a running hub, connected to the agencies' real systems.

``stored_app`` is what every hub serves by default: built from its database with no side
effect. ``connect_pilot`` (only ``hub demo`` and tests call it) onboards the pilot agencies.

The application's state lives in the hub's database; every write is a hub message; the
landing places are the reference systems the pilot agencies run (``connect_pilot``):

* official letters: the issuing agency's e-Saraban (``hub.sim.esaraban``) through the hub's
  e-CMS node to the receiving agencies' e-Saraban, which accept them with receipt numbers;
* HR: the ministry's DPIS (``hub.sim.dpis`` seeded with the pilot's people) through the
  ``dpis`` adapter, for reading people and the org tree and for writing telework days;
* finance: the ministry's GFMIS-style drop folder through the ``gfmis`` adapter, answered
  by the reference GFMIS (``hub.sim.gfmis``); its result files are collected onto the
  batch message's status;
* evidence: the security layer's hash-chained, signed audit log.

* strategy: OPDC's reference GSMS (``hub.sim.gsms``) through the ``gsms`` adapter, keeping each
  KPI report with the GFMIS verdict it relates to;
* notices to officials: CGD's reference e-Office inbox (``hub.sim.eoffice``) through the
  ``eoffice`` adapter. Both are databases of their own: what they received survives the hub.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.apps.telework import documents as D, pilot
from hub.apps.telework.agency_systems import (
    AgencyCodes, AgencyHrDirectories, AgencyOffices, NodeDepartments, TeleworkNotConfigured, default_node_url,
    enrol_esaraban,
)
from hub.apps.telework.documents import Documents
from hub.apps.telework.hub_ports import (
    HubClient, HubEvents, HubFinance, HubHrRecords, HubNotifications, HubStrategy, SecurityAuditTrail, dpis_directory,
    party,
)
from hub.apps.telework.ports import AuditTrail, Correspondence, HrDirectory
from hub.apps.telework.reports import AgencyReports
from hub.apps.telework.saraban import AgencyEsaraban, Department, EsarabanCorrespondence, RegistryClerks
from hub.apps.telework.service import Ports, TeleworkService
from hub.apps.telework.domain.model import AgencySetup
from hub.apps.telework.store_sql import SqlStore
from hub.errors import Conflict
from hub.schemas.routes import RouteIn

log = logging.getLogger(__name__)

HR_ROUTE, FINANCE_ROUTE = party(pilot.MOF, "dpis"), party(pilot.MOF, "gfmis")
# OPDC's GSMS and CGD's e-Office: reference systems with their own databases in the data folder.
GSMS_ROUTE, EOFFICE_ROUTE = party(pilot.OPDC, "gsms"), party(pilot.CGD, "eoffice")


@dataclass
class TeleworkApp:
    service: TeleworkService
    reports: AgencyReports
    ports: Ports
    closers: list[Callable[[], None]] = field(default_factory=list)  # connections to the agencies' systems

    def close(self) -> None:
        for close in self.closers:
            close()


def build_on_hub(hub, *, hr: HrDirectory, correspondence: Correspondence,  # noqa: ANN001
                 audit: AuditTrail, gfmis_agency_codes: dict[str, str], clock=None) -> TeleworkApp:  # noqa: ANN001
    client = HubClient(hub.messages)
    today = (lambda: clock().date()) if clock else dt.date.today
    ports = Ports(hr=hr, correspondence=correspondence, hr_records=HubHrRecords(client),
                  finance=HubFinance(client, gfmis_agency_codes, today), strategy=HubStrategy(client),
                  notifications=HubNotifications(client), audit=audit, store=SqlStore(hub.engine),
                  events=HubEvents(client, hub.router, hub.settings.events_party))
    service = TeleworkService(ports, Documents(hub.settings.standards_dir), clock=clock)
    return TeleworkApp(service, AgencyReports(service), ports)


@dataclass
class PilotSystems:
    """The pilot agencies' systems around one hub, and the telework application on them."""

    hub: Any
    app: TeleworkApp
    dpis_url: str
    gfmis_drop: Path
    node_url: str
    offices: dict[str, AgencyEsaraban] = field(default_factory=dict)
    _credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    clerks: RegistryClerks | None = None

    def office(self, agency: str) -> AgencyEsaraban:
        """The agency's e-Saraban, opened on first use (its SOAP client reads the node's WSDL)."""
        if agency not in self.offices:
            code, ministry, _, _ = pilot.ECMS_DEPARTMENTS[agency]
            client_id, secret = self._credentials[agency]
            home = Path(self.hub.settings.data_dir) / "esaraban" / code
            self.offices[agency] = AgencyEsaraban(agency, home, self.node_url, department=code, ministry=ministry,
                                                  prefix=pilot.BOOK_PREFIXES[agency], secret=secret,
                                                  username=client_id, documents=self.app.service.documents)
        return self.offices[agency]

    def start_clerks(self, interval: float = 0.2) -> RegistryClerks:
        """Every pilot agency's registry clerk polls its e-Saraban queue (the receivers accept
        letters with their receipt numbers; the sender reads the notifiers)."""
        if self.clerks is None:
            self.clerks = RegistryClerks([self.office(a) for a in pilot.ECMS_DEPARTMENTS], interval=interval).start()
        return self.clerks

    def reference_url(self, receiver: str, service: str) -> str:
        """The database URL of the reference system (GSMS, e-Office) the receiver's route delivers to."""
        return self.hub.router.find(receiver, service).settings["url"]

    def settle_finance(self) -> Any:
        """The ministry's GFMIS answers the batch files waiting in its drop folder, and the hub
        collects the result files onto the batches' message status: one poll of the finance
        route's inbound side, as ``hub adapters poll`` runs it for a deployed route."""
        from hub.sim.gfmis import GfmisSimulator

        GfmisSimulator(self.gfmis_drop).process_once()
        route = self.hub.router.find(FINANCE_ROUTE, "gfmis.batch/v1")
        return self.hub.inbound.poll(route).detail

    def close(self) -> None:
        if self.clerks is not None:
            self.clerks.stop()
        for office in self.offices.values():
            office.close()
        self.offices.clear()
        self.app.ports.hr.adapter.close()  # a DpisHrDirectory: its database connections


def add_route(hub, receiver: str, adapter: str, settings: dict[str, Any], service: str = "*") -> None:  # noqa: ANN001
    try:
        hub.router.add(RouteIn(receiver=receiver, service=service, adapter=adapter, settings=settings,
                               max_attempts=10, backoff_base_seconds=0.2, backoff_max_seconds=2))
    except Conflict:  # the route exists already (a rerun on the same database)
        return


def enrol_pilot_esaraban(hub, agency: str) -> tuple[str, str]:  # noqa: ANN001
    """Onboard the agency's e-Saraban as a subsystem of the hub (registered, approved, given
    client credentials) and bind it to its e-CMS department; returns (client id, secret).

    Rerunning rotates the secret (the old one is not kept anywhere to be shown again; it keeps
    working for the configured client-secret overlap)."""
    from hub.registry.schemas import MemberIn, SubsystemIn

    security = hub.security
    subsystem = party(agency, "saraban")
    if security.registry.subsystem(subsystem, missing_ok=True) is None:
        if not any(m.id == agency for m in security.registry.list_members()):
            security.registry.add_member(MemberIn(id=agency, name_th=pilot.AGENCY_NAMES[agency]), actor="telework")
        security.registry.request_subsystem(agency, SubsystemIn(code="saraban"), actor="telework")
    issued = security.approve_subsystem(subsystem, actor="telework", rotate=True)
    code, ministry, ministry_name, name = pilot.ECMS_DEPARTMENTS[agency]
    hub.ecms.register_department(ministry, ministry, ministry_name)
    hub.ecms.register_department(code, ministry, name, party=subsystem)
    # Its e-Saraban may send e-CMS letters to the other pilot agencies' (the node checks the right).
    held = {(r["service"], r["provider"]) for r in security.access.rights(subsystem)}
    for other in pilot.ECMS_DEPARTMENTS:
        target = party(other, "saraban")
        if other != agency and ("ecms.letter/v1", target) not in held:
            security.access.grant(subsystem, "ecms.letter/v1", target, actor="telework")
    return issued.client_id, issued.client_secret


def connect_pilot(hub, *, node_url: str, clock=None, data_dir: Path | None = None) -> PilotSystems:  # noqa: ANN001
    """Connect the pilot agencies' reference systems to ``hub`` and build the application.

    ``node_url`` is the hub's e-CMS endpoint as the agencies' e-Saraban reach it
    (``http://host:port/ecms/service2``). Idempotent on the same data directory."""
    from hub.sim import eoffice as eoffice_sim, gsms as gsms_sim

    data_dir = Path(data_dir or hub.settings.data_dir)
    dpis_url = f"sqlite:///{(data_dir / 'dpis-mof.sqlite3').resolve()}"
    pilot.seed_dpis(dpis_url)
    drop = (data_dir / "gfmis-mof").resolve()
    add_route(hub, HR_ROUTE, "dpis", {"url": dpis_url})
    add_route(hub, FINANCE_ROUTE, "gfmis", {"path": str(drop)})
    for receiver, adapter, sim in ((GSMS_ROUTE, "gsms", gsms_sim), (EOFFICE_ROUTE, "eoffice", eoffice_sim)):
        owner = receiver.split("/")[2].lower()
        url = f"sqlite:///{(data_dir / f'{adapter}-{owner}.sqlite3').resolve()}"
        sim.create_schema(url)
        add_route(hub, receiver, adapter, {"url": url})
    credentials = {agency: enrol_pilot_esaraban(hub, agency) for agency in pilot.ECMS_DEPARTMENTS}
    systems = PilotSystems(hub, None, dpis_url, drop, node_url, _credentials=credentials)  # type: ignore[arg-type]
    departments = {agency: Department(ministry, code) for agency, (code, ministry, _, _) in pilot.ECMS_DEPARTMENTS.items()}
    correspondence = EsarabanCorrespondence(systems.office, departments)
    systems.app = build_on_hub(hub, hr=dpis_directory(hub, HR_ROUTE),
                               correspondence=correspondence, audit=SecurityAuditTrail(hub.engine, hub.security.audit),
                               gfmis_agency_codes=AgencyCodes(SqlStore(hub.engine)), clock=clock)
    return systems


def stored_app(hub, *, require_agencies: bool = True) -> TeleworkApp:  # noqa: ANN001
    """The telework application over what this hub has stored, built without side effects:
    no route, agency, credential, file or row is created. Each registered agency's steps reach
    its own systems as it registered them (``agency_systems``): the DPIS of its HR agency's
    route, its own e-Saraban, its GFMIS code; a system not connected answers
    ``TeleworkNotConfigured`` naming what is missing. A hub on which no agency registered
    telework has none."""
    store = SqlStore(hub.engine)
    if require_agencies and not store.has_agencies():
        raise TeleworkNotConfigured(
            "no telework is configured on this hub: no agency has registered a telework policy "
            "(`hub telework agencies add`; `hub demo` runs the pilot's three agencies)")
    client = HubClient(hub.messages)
    documents = Documents(hub.settings.standards_dir)
    hr = AgencyHrDirectories(hub, store)
    offices = AgencyOffices(hub, store, documents)
    ports = Ports(hr=hr, correspondence=EsarabanCorrespondence(offices, NodeDepartments(hub)),
                  hr_records=HubHrRecords(client), finance=HubFinance(client, AgencyCodes(store)),
                  strategy=HubStrategy(client), notifications=HubNotifications(client),
                  audit=SecurityAuditTrail(hub.engine, hub.security.audit), store=store,
                  events=HubEvents(client, hub.router, hub.settings.events_party))
    service = TeleworkService(ports, documents)
    return TeleworkApp(service, AgencyReports(service), ports, closers=[offices.close, hr.close])


def missing_routes(hub, setup: AgencySetup) -> list[str]:  # noqa: ANN001
    """The routes an agency's telework uses that this hub does not have yet (a step that needs one
    is refused with ``no_route`` until it is added): HR, finance, strategy, notices."""
    from hub.apps.telework.hub_ports import ATTENDANCE, BATCH, KPI, NOTICE

    needed = [(party(setup.hr_agency, "dpis"), ATTENDANCE, "dpis"), (party(setup.finance_agency, "gfmis"), BATCH, "gfmis"),
              (party(setup.strategy_agency, "gsms"), KPI, "gsms"), (party(setup.agency, "eoffice"), NOTICE, "eoffice")]
    return [f"{receiver} {service} (adapter {adapter})" for receiver, service, adapter in needed
            if hub.router.find(receiver, service) is None]


def onboard_agency(hub, policy: dict[str, Any], *, name: str, hr_agency: str, finance_agency: str,  # noqa: ANN001
                   strategy_agency: str, copy_to: list[str] | None = None, declared_holidays: list[str] | None = None,
                   gfmis_code: str | None = None, gsms_code: str | None = None,
                   esaraban: dict[str, str] | None = None) -> AgencySetup:
    """Register an agency's telework (``hub telework agencies add``, ``POST /v1/telework/agencies``):
    its policy and codes, and, with ``esaraban`` ({department, ministry, prefix[, ministry_name,
    node_url]}), its own e-Saraban enrolled with its own credentials and the right to send
    its orders to its HR agency and the agencies copied."""
    app = app_for_setup(hub)
    app.service.documents.validate(D.POLICY, policy)  # before anything is enrolled
    binding = None
    if esaraban is not None:
        esaraban = dict(esaraban)
        agency = policy["agency"]
        recipients = {"/hr_agency": hr_agency, **{f"/copy_to/{i}": a for i, a in enumerate(copy_to or [])}}
        enrol_esaraban(hub, agency, name=name, department=esaraban.get("department", ""),
                       ministry=esaraban.get("ministry", ""), prefix=esaraban.get("prefix", ""),
                       ministry_name=esaraban.get("ministry_name"),
                       node_url=esaraban.get("node_url") or default_node_url(hub.settings),
                       send_to={k: v for k, v in recipients.items() if v != agency})
        binding = {"department": esaraban["department"], "ministry": esaraban["ministry"],
                   "prefix": esaraban["prefix"]}
    return app.service.register_agency(policy, name=name, hr_agency=hr_agency, finance_agency=finance_agency,
                                       strategy_agency=strategy_agency, copy_to=copy_to,
                                       declared_holidays=declared_holidays, gfmis_code=gfmis_code,
                                       gsms_code=gsms_code, esaraban=binding)


class TeleworkProvider:
    """The telework application of one hub.

    ``hub.bootstrap.build_hub`` gives every hub one (``hub.telework``) that builds
    :func:`stored_app` when first asked: side-effect free, so a read can never change the
    hub (an earlier version connected the pilot here, onboarding agencies on a refused GET).
    When nothing is configured the error is not kept: a later call, after an agency
    registered, builds the application. The demo, which connects the pilot to the node URL
    it serves, hands its application over with ``use``.
    """

    def __init__(self, build: Callable[[], TeleworkApp]) -> None:
        self._build = build
        self._app: TeleworkApp | None = None
        self._lock = threading.Lock()

    def get(self) -> TeleworkApp:
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    def use(self, app: TeleworkApp) -> None:
        with self._lock:
            self._app = app

    def close(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.close()


def app_for_setup(hub) -> TeleworkApp:  # noqa: ANN001
    """The application an agency registers its telework with: the hub's own, or (on a hub with
    none yet) the stored one built for the registration itself."""
    try:
        return hub.telework.get()
    except TeleworkNotConfigured:
        return stored_app(hub, require_agencies=False)


def app_for(hub) -> TeleworkApp:  # noqa: ANN001
    """The hub's telework application (what the API's /v1/telework and ``hub telework`` serve)."""
    return hub.telework.get()
