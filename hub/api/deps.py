"""Dependencies for routes, as ``Annotated`` aliases."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hub.bootstrap import Hub
from hub.errors import Unauthorized
from hub.security.principal import Principal


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


def current_principal(request: Request) -> Principal:
    """Authenticate the request. Every route that is not public depends on this.

    The security layer installs ``app.state.authenticate``; tests of other layers may
    override this dependency with a fixed principal.
    """
    authenticate = getattr(request.app.state, "authenticate", None)
    if authenticate is None:
        raise Unauthorized("this hub has no authentication configured; every protected route is closed")
    return authenticate(request)


HubDep = Annotated[Hub, Depends(get_hub)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
