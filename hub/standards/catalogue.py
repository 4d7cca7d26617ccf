"""The Back Office catalogue: which agency leads which system, and so who may publish what.

Read from ``standards/catalogue/backoffice-systems.json`` (a pilot catalogue, see
standards/README.md). In the Back Office framework the **lead** agency of a system owns its
standards; secondary, supplementary and advisory agencies use and help, but do not publish.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

ROLES = ("lead", "secondary", "supplementary", "advisory")


@dataclass(frozen=True)
class System:
    key: str
    name_th: str
    name_en: str
    agencies: dict[str, tuple[str, ...]]

    @property
    def leads(self) -> tuple[str, ...]:
        return self.agencies.get("lead", ())

    def role_of(self, member: str | None) -> str | None:
        for role in ROLES:
            if member in self.agencies.get(role, ()):
                return role
        return None


@dataclass(frozen=True)
class Catalogue:
    systems: dict[str, System]
    agencies: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        data = orjson.loads(path.read_bytes())
        systems = {
            s["key"]: System(s["key"], s["name_th"], s["name_en"],
                             {role: tuple(members) for role, members in s["agencies"].items()})
            for s in data["systems"]
        }
        return cls(systems, dict(data.get("agencies", {})))

    @classmethod
    def empty(cls) -> Catalogue:
        return cls({}, {})

    @classmethod
    def of_standards(cls, standards_dir: Path) -> Catalogue:
        """The catalogue published beside the standards (``catalogue/backoffice-systems.json``)."""
        path = standards_dir / "catalogue" / "backoffice-systems.json"
        if path.is_file():
            return cls.load(path)
        # Without a catalogue nobody but a hub admin can publish: safe, and said loudly.
        log.warning("no Back Office catalogue at %s; only hub admins can publish standards", path)
        return cls.empty()

    def agency_name(self, member: str, lang: str = "en") -> str:
        entry = self.agencies.get(member)
        if not isinstance(entry, dict):
            return member
        return str(entry.get(f"name_{lang}") or entry.get("name_en") or entry.get("name") or member)
