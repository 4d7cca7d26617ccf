"""The ``hub`` command: every command group, assembled.

One module per group (``hub/cli/<group>.py``); what they share is in ``hub/cli/common.py``.
"""
from __future__ import annotations

import typer

from hub.cli import adapters, bench, db, ecms, messages, routes, security, server, sim, standards, telework
from hub.cli import integration
from hub.cli import citizen_consents  # noqa: F401 - registers hub integration eservices|consents|reads (issue 15)

app = typer.Typer(help="Back Office interoperability hub for Thai government agencies.", no_args_is_help=True)
app.command("bench")(bench.bench)
app.command()(server.serve)
app.command()(server.worker)
app.command()(server.demo)
app.command()(routes.replay)
app.add_typer(routes.routes_app, name="routes")
app.add_typer(db.db_app, name="db")
app.add_typer(telework.telework_app, name="telework")
app.add_typer(adapters.adapters_app, name="adapters")
app.add_typer(sim.sim_app, name="sim")
app.add_typer(ecms.ecms_app, name="ecms")
app.add_typer(standards.standards_app, name="standards")
# Layer 3: the agency registry, the CA, the audit trail, people and machine clients.
app.add_typer(security.agencies_app, name="agencies")
app.add_typer(security.ca_app, name="ca")
app.add_typer(security.audit_app, name="audit")
app.add_typer(security.users_app, name="users")
app.add_typer(security.clients_app, name="clients")
app.add_typer(security.access_app, name="access")
# Operations: the message log and dead letters.
app.add_typer(messages.messages_app, name="messages")
app.add_typer(messages.deadletters_app, name="deadletters")
# Layer 5: event subscriptions (Tell Us Once) and one-stop applications.
app.add_typer(integration.integration_app, name="integration")


def main() -> None:
    app()
