"""The e-CMS address allow-list rules: source address or CIDR network -> one department.

The listener that applies them — a separate port where the TCP peer address is the only
credential — is an entry point (``hub/api/allowlist.py``; its risks are described there and
in the README, "e-Saraban / e-CMS"). Here is only what the rules are and when a configured
list is refused: unparsable or widened networks, departments that are not registered or
have no subsystem, and overlapping networks (an address belongs to exactly one department).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Union

from hub.adapters.ecms.node.store import EcmsStore
from hub.errors import ConfigError, FieldError, pointer

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
SETTING = "HUB_ECMS_ALLOWLIST"
FIELD = pointer(SETTING)  # errors name an entry as /HUB_ECMS_ALLOWLIST/<address> (JSON Pointer)


def _network(text: str) -> Network:
    """``10.1.2.3`` (one host) or ``192.0.2.0/28``; strict, so ``10.1.2.3/24`` (host bits set) is
    refused instead of silently widened to the whole /24."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an IP address or network ({exc})") from None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(text)
    # A dual-stack socket bound to "::" reports IPv4 peers as ::ffff:a.b.c.d; the list is
    # written in IPv4, so compare the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class AddressAllowList:
    entries: tuple[tuple[Network, str], ...]

    @classmethod
    def build(cls, mapping: dict[str, Any], store: EcmsStore) -> AddressAllowList:
        """Validate the configured mapping against the node's departments; every problem is
        reported at once, and any problem refuses the whole list (``ConfigError``)."""
        problems: list[FieldError] = []
        entries: list[tuple[Network, str]] = []
        if not mapping:
            problems.append(FieldError(FIELD, "required", "the allow-list listener is on (HUB_ECMS_ALLOWLIST_PORT) "
                                       "but the allow-list is empty"))
        for key, code in mapping.items():
            try:
                network = _network(key)
            except ValueError as exc:
                problems.append(FieldError(pointer(SETTING, key), "address", str(exc)))
                continue
            if not isinstance(code, str):
                problems.append(FieldError(pointer(SETTING, key), "department", f"{code!r} is not one department code"))
                continue
            department = store.department(code)
            if department is None:
                problems.append(FieldError(pointer(SETTING, key), "department",
                                           f"department {code!r} is not registered on this node"))
                continue
            if department.party is None:
                problems.append(FieldError(pointer(SETTING, key), "department", f"department {code!r} has no subsystem, "
                                           "so it has no queue and cannot send (a ministry entry?)"))
                continue
            entries.append((network, code))
        for i, (a, code_a) in enumerate(entries):
            for b, code_b in entries[i + 1:]:
                if a.version == b.version and a.overlaps(b):
                    problems.append(FieldError(FIELD, "overlap", f"{a} ({code_a}) and {b} ({code_b}) overlap: "
                                               "an address must belong to exactly one department"))
        if problems:
            raise ConfigError("the e-CMS address allow-list is refused: "
                              + "; ".join(f"{p.field}: {p.message}" for p in problems), errors=problems)
        return cls(tuple(entries))

    def department_code(self, peer: str | None) -> str | None:
        if not peer:
            return None
        try:
            address = _address(peer)
        except ValueError:  # a Unix socket peer or something else that is not an IP address
            return None
        for network, code in self.entries:
            if address.version == network.version and address in network:
                return code
        return None

    def describe(self) -> str:
        return ", ".join(f"{network} -> {code}" for network, code in self.entries)
