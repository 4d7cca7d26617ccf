"""Role checks as dependencies: ``AdminDep``, ``AuditorDep``, ``MonitorDep`` and ``SecurityDep``."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.api.deps import PrincipalDep
from hub.errors import Forbidden
from hub.security.principal import ADMIN, AUDITOR, MONITOR, Principal
from hub.security.wiring import Security, security_of


def get_security(request: Request) -> Security:
    return security_of(request.app.state.hub)


SecurityDep = Annotated[Security, Depends(get_security)]


def _needs(*roles: str):  # noqa: ANN202
    def check(request: Request, principal: PrincipalDep, security: SecurityDep) -> Principal:
        if principal.roles & set(roles):
            return principal
        reason = f"{request.method} {request.url.path} needs the role {' or '.join(roles)}"
        security.audit.record("access.role", actor=principal.subject, decision="refused",
                              target=request.url.path, reason=reason)
        raise Forbidden(reason)
    return check


AdminDep = Annotated[Principal, Depends(_needs(ADMIN))]
AuditorDep = Annotated[Principal, Depends(_needs(ADMIN, AUDITOR))]
MonitorDep = Annotated[Principal, Depends(_needs(ADMIN, AUDITOR, MONITOR))]

require_admin = _needs(ADMIN)  # for ``dependencies=[Depends(require_admin)]`` on a whole router
