"""Each registered agency's own systems, found from what the hub stores (no pilot).

An agency that registers its telework (``hub telework agencies add``, ``POST
/v1/telework/agencies``) names its HR agency, its finance and strategy agencies and its
e-Saraban department. From that the application reaches, per agency:

* HR: the DPIS of the route ``{hr_agency}/dpis`` (``hr.attendance/v1``), read through the
  ``dpis`` adapter with that route's own settings;
* letters: the agency's own e-Saraban, enrolled on the hub as ``{agency}/saraban`` with its
  own client credentials and bound to its e-CMS department; the recipients are the
  departments the node binds to ``{recipient}/saraban``;
* finance and strategy: its GFMIS and GSMS codes (``AgencySetup.gfmis_code``, ``gsms_code``).

The e-Saraban is the reference one (``hub.sim.esaraban``). Its own configuration (node URL,
department, book prefix, the credentials the hub issued it) is kept in its own folder
(``<data>/esaraban/<department>/esaraban.json``, readable by its owner only), as a deployed
e-Saraban keeps its connection settings: never in the hub's tables.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from hub.apps.telework.documents import Documents
from hub.apps.telework.domain.errors import TeleworkRefused
from hub.apps.telework.domain.model import Officer, OrgUnit
from hub.apps.telework.hub_ports import LETTER, DpisHrDirectory, dpis_directory, party
from hub.apps.telework.ports import HrDirectory, TeleworkStore
from hub.apps.telework.saraban import AgencyEsaraban, Department
from hub.errors import ConfigError, FieldError, HubError, InputError, NotFound

CONFIG = "esaraban.json"


class TeleworkNotConfigured(HubError):
    """This hub runs no telework application (nothing is set up implicitly: the pilot lives
    only in ``hub demo``), or the agency's system a step needs is not connected."""

    status_code = 503
    code = "telework_not_configured"


def esaraban_home(data_dir: Path, department: str) -> Path:
    return Path(data_dir) / "esaraban" / department


def default_node_url(settings) -> str:  # noqa: ANN001 - hub.config.Settings
    """The e-CMS endpoint an agency's e-Saraban posts to: the public one, else this hub's own."""
    return settings.ecms.public_url or f"http://{settings.host}:{settings.port}/ecms/service2"


def enrol_esaraban(hub, agency: str, *, name: str, department: str, ministry: str, prefix: str,  # noqa: ANN001
                   node_url: str, ministry_name: str | None = None, send_to: Mapping[str, str] | None = None) -> Path:
    """Onboard ``agency``'s e-Saraban: the subsystem ``{agency}/saraban`` (registered, approved,
    its own client credentials), its e-CMS department (and ministry) on the node, the right to
    send letters to each agency of ``send_to`` (field of the request -> agency); its configuration goes into its own folder.
    Returns that folder. A second call keeps the credentials the e-Saraban already holds."""
    from hub.security.onboarding import onboard

    errors = []
    for key, value in (("department", department), ("ministry", ministry)):
        if not (value.isascii() and value.isalnum() and 2 <= len(value) <= 20):
            errors.append(FieldError(f"/esaraban/{key}", "pattern", "2-20 letters or digits, e.g. 0401"))
    if not prefix.strip():
        errors.append(FieldError("/esaraban/prefix", "required", "the book-number prefix, e.g. สธ 0401"))
    if hub.ecms.store.department(ministry) is None and not ministry_name:
        errors.append(FieldError("/esaraban/ministry_name", "required",
                                 f"the name of ministry {ministry}, which the e-CMS node does not list yet"))
    taken = hub.ecms.store.department(department)
    subsystem = party(agency, "saraban")
    if taken is not None and taken.party not in (None, subsystem):
        errors.append(FieldError("/esaraban/department", "unique", f"a department not bound to {taken.party}"))
    recipients = []
    for pointer, other in (send_to or {}).items():
        if hub.ecms.store.by_party(party(other, "saraban")) is None:
            errors.append(FieldError(pointer, "ecms_department",
                                     f"{other} with an e-Saraban department on this hub's e-CMS node "
                                     f"(`hub telework esaraban-add {other} ...`)"))
        else:
            recipients.append(party(other, "saraban"))
    if errors:
        raise InputError(f"{agency}'s e-Saraban cannot be enrolled", errors=errors)
    issued = onboard(hub.security, subsystem, actor="telework", member_name_th=name,
                     rights=[(LETTER, r) for r in recipients])
    if hub.ecms.store.department(ministry) is None:
        hub.ecms.register_department(ministry, ministry, ministry_name or ministry)
    hub.ecms.register_department(department, ministry, name, party=subsystem)
    home = esaraban_home(hub.settings.data_dir, department)
    known = read_config(home)
    if issued is None and known is None:  # enrolled before, its configuration lost: new credentials
        issued = hub.security.approve_subsystem(subsystem, actor="telework")
    credentials = ({"username": issued.client_id, "secret": issued.client_secret} if issued is not None
                   else {"username": known["username"], "secret": known["secret"]})
    write_config(home, {"agency": agency, "department": department, "ministry": ministry, "prefix": prefix,
                        "node_url": node_url, **credentials})
    return home


def grant_letters(hub, agency: str, recipients: list[str]) -> None:  # noqa: ANN001
    """Let ``agency``'s e-Saraban send letters to each recipient's (already enrolled) e-Saraban."""
    from hub.security.onboarding import onboard

    onboard(hub.security, party(agency, "saraban"), actor="telework",
            rights=[(LETTER, party(r, "saraban")) for r in recipients])


def read_config(home: Path) -> dict[str, Any] | None:
    path = Path(home) / CONFIG
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_config(home: Path, config: dict[str, Any]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    path = home / CONFIG
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the e-Saraban's secret
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(config, out, ensure_ascii=False, indent=1)


class AgencyHrDirectories(HrDirectory):
    """Each agency's staff from its own HR agency's DPIS (the route ``{hr_agency}/dpis``)."""

    def __init__(self, hub, store: TeleworkStore) -> None:  # noqa: ANN001
        self.hub = hub
        self.store = store
        self._open: dict[str, tuple[str, DpisHrDirectory]] = {}
        self._lock = threading.Lock()

    def directory(self, hr_agency: str) -> DpisHrDirectory:
        receiver = party(hr_agency, "dpis")
        route = self.hub.router.find(receiver, "hr.attendance/v1")
        key = json.dumps(route.settings, sort_keys=True, default=str) if route is not None else ""
        with self._lock:
            known = self._open.get(receiver)
            if known is not None and known[0] == key:
                return known[1]
            try:
                directory = dpis_directory(self.hub, receiver)
            except ConfigError as exc:
                raise TeleworkNotConfigured(
                    f"{hr_agency} has no DPIS connected: add the route {receiver} (adapter dpis) "
                    "for the HR directory and the attendance it receives") from exc
            if known is not None:
                known[1].adapter.close()
            self._open[receiver] = (key, directory)
            return directory

    def for_agency(self, agency: str) -> HrDirectory:
        return self.directory(self.store.get_agency(agency).hr_agency)

    def _each(self) -> Iterator[DpisHrDirectory]:
        for hr_agency in dict.fromkeys(a.hr_agency for a in self.store.list_agencies()):
            try:
                yield self.directory(hr_agency)
            except TeleworkNotConfigured:
                continue

    def person(self, citizen_id: str) -> Officer:
        """Without an agency (an admin's suggestion): the first DPIS that knows the person."""
        for directory in self._each():
            try:
                return directory.person(citizen_id)
            except NotFound:
                continue
        raise NotFound(f"no registered agency's HR knows citizen ID {citizen_id}")

    def org_chain(self, citizen_id: str) -> list[OrgUnit]:
        for directory in self._each():
            try:
                return directory.org_chain(citizen_id)
            except NotFound:
                continue
        raise NotFound(f"no registered agency's HR knows citizen ID {citizen_id}")

    def close(self) -> None:
        with self._lock:
            for _, directory in self._open.values():
                directory.adapter.close()
            self._open.clear()


class NodeDepartments(Mapping[str, Department]):
    """agency -> the e-CMS department the node binds to its e-Saraban (``{agency}/saraban``)."""

    def __init__(self, hub) -> None:  # noqa: ANN001
        self.hub = hub

    def __getitem__(self, agency: str) -> Department:
        found = self.hub.ecms.store.by_party(party(agency, "saraban"))
        if found is None:
            raise TeleworkNotConfigured(f"{agency} has no e-Saraban department on this hub's e-CMS node "
                                        f"(`hub telework esaraban-add {agency} ...`)")
        return Department(found.ministry_code, found.code)

    def __iter__(self) -> Iterator[str]:
        return iter(d.party.rsplit("/", 1)[0] for d in self.hub.ecms.store.departments()
                    if d.party and d.party.endswith("/saraban"))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class AgencyOffices:
    """Each agency's own e-Saraban, opened from its folder's configuration on first use."""

    def __init__(self, hub, store: TeleworkStore, documents: Documents) -> None:  # noqa: ANN001
        self.hub = hub
        self.store = store
        self.documents = documents
        self.offices: dict[str, AgencyEsaraban] = {}
        self._lock = threading.Lock()

    def __call__(self, agency: str) -> AgencyEsaraban:
        with self._lock:
            if agency not in self.offices:
                department = NodeDepartments(self.hub)[agency]
                home = esaraban_home(self.hub.settings.data_dir, department.code)
                config = read_config(home)
                if config is None:
                    raise TeleworkNotConfigured(f"{agency}'s e-Saraban ({department.code}) keeps no configuration in "
                                                f"{home}: enrol it with `hub telework esaraban-add`")
                self.offices[agency] = AgencyEsaraban(
                    agency, home, config["node_url"], department=config["department"], ministry=config["ministry"],
                    prefix=config["prefix"], username=config["username"], secret=config["secret"],
                    documents=self.documents)
            return self.offices[agency]

    def close(self) -> None:
        with self._lock:
            for office in self.offices.values():
                office.close()
            self.offices.clear()


class AgencyCodes(Mapping[str, str]):
    """agency -> its GFMIS code, as the agency registered it."""

    def __init__(self, store: TeleworkStore, attribute: str = "gfmis_code") -> None:
        self.store = store
        self.attribute = attribute

    def __getitem__(self, agency: str) -> str:
        code = getattr(self.store.get_agency(agency), self.attribute)
        if not code:
            raise TeleworkRefused(f"{agency} registered no {self.attribute.replace('_', ' ')}",
                                  field=f"/{self.attribute}", rule="required",
                                  expected=f"the agency's code, given when it registers its telework")
        return code

    def __iter__(self) -> Iterator[str]:
        return iter(a.agency for a in self.store.list_agencies() if getattr(a, self.attribute))

    def __len__(self) -> int:
        return sum(1 for _ in self)
