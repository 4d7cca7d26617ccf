"""Role checks as dependencies: ``AdminDep``, ``AuditorDep`` and ``MonitorDep``.

A refusal is audited (``access.role``) and answered 403 naming the roles that would do.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.api.deps import PrincipalDep, SecurityDep
from hub.errors import Forbidden
from hub.schemas.principal import ADMIN, AUDITOR, MONITOR, Principal


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
# Prometheus scrapes /metrics as a client with the monitor role: traffic volumes and refusal
# counts tell an outsider which agencies are busy and what is refused, so it is not public.
MonitorDep = Annotated[Principal, Depends(_needs(ADMIN, AUDITOR, MONITOR))]

require_admin = _needs(ADMIN)  # for ``dependencies=[Depends(require_admin)]`` on a whole router
