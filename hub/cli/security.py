"""``hub agencies``, ``hub ca``, ``hub audit``, ``hub users``, ``hub clients``: layer 3 from the shell.

Each command opens the hub in the data directory (``open_hub``, like ``hub routes``), so it
works on the hub's database and signing key; secrets are printed once, when issued, and
never again.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from hub.cli.common import DataDir, console, fail, open_hub, print_json, table
from hub.errors import HubError

agencies_app = typer.Typer(help="The agency registry: members, subsystems, onboarding.", no_args_is_help=True)
ca_app = typer.Typer(help="The hub's certificate authority for mutual TLS.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
users_app = typer.Typer(help="People: hub admins, agency operators, auditors.", no_args_is_help=True)
clients_app = typer.Typer(help="Machine clients and their secrets.", no_args_is_help=True)
access_app = typer.Typer(help="Access rights: which client may call which service of which provider.",
                         no_args_is_help=True)
ACTOR = "cli"
Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of a table.")]
Actor = Annotated[str, typer.Option(help="Who acts (recorded in the audit trail).")]


def _run(data_dir: Path | None, action) -> None:  # noqa: ANN001
    """``action(security)`` on the hub's security layer; a refusal exits 2 with its reason."""
    with open_hub(data_dir) as hub:
        try:
            action(hub.security)
        except HubError as exc:
            fail(exc)


# -- agencies ---------------------------------------------------------------------------
@agencies_app.command("list")
def agencies_list(pilot: Annotated[Optional[bool], typer.Option(help="Only pilot (or non-pilot) members.")] = None,
                  system: Annotated[Optional[str], typer.Option(help="Only members with a role in this system.")] = None,
                  as_json: Json = False, data_dir: DataDir = None) -> None:
    """Registered members with their level, parent, pilot flag and subsystems."""
    def show(security) -> None:  # noqa: ANN001
        members = security.registry.list_members(pilot=pilot, system=system)
        if as_json:
            print_json([m.model_dump(mode="json") for m in members])
            return
        out = table("id", "name (th)", "level", "parent", "code", "pilot", "subsystems")
        for m in members:
            out.add_row(m.id, m.name_th, m.level, m.parent_id or "", m.ministry_code or "", "yes" if m.pilot else "",
                        ", ".join(f"{s.code} ({s.status}, {s.clearance})" for s in m.subsystems))
        console.print(out)
    _run(data_dir, show)


@agencies_app.command("show")
def agencies_show(member_id: Annotated[str, typer.Argument(help="e.g. TH/GOV/OCSC")],
                  as_json: Annotated[bool, typer.Option("--json", help="Accepted for symmetry: the answer is "
                                                                      "always JSON.")] = True,
                  data_dir: DataDir = None) -> None:
    """One member as JSON: roles per Back Office system, children, subsystems."""
    _run(data_dir, lambda s: print_json(s.registry.member(member_id).model_dump(mode="json")))


@agencies_app.command("seed")
def agencies_seed(data_dir: DataDir = None) -> None:
    """Add the pilot catalogue's agencies and roles that are not registered yet (idempotent)."""
    from hub.registry.agencies import CATALOGUE

    with open_hub(data_dir) as hub:
        console.print(f"{hub.security.registry.seed(hub.settings.standards_dir / CATALOGUE)} members added")


@agencies_app.command("register")
def agencies_register(
    subsystem_id: Annotated[str, typer.Argument(help="MEMBER/SUBSYSTEM, e.g. TH/GOV/OCSC/hr")],
    clearance: Annotated[str, typer.Option(help="Requested clearance 001-004.")] = "001",
    endpoint: Annotated[Optional[list[str]], typer.Option(help="name=URL, repeatable.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Register a subsystem (pending until approved)."""
    from hub.registry.schemas import SubsystemIn
    from hub.schemas.envelope import party_member

    endpoints = dict(e.split("=", 1) for e in endpoint or [])
    code = subsystem_id.rsplit("/", 1)[-1]
    _run(data_dir, lambda s: console.print(
        f"{s.registry.request_subsystem(party_member(subsystem_id), SubsystemIn(code=code, clearance=clearance, endpoints=endpoints), actor=ACTOR).id} pending approval"))


@agencies_app.command("approve")
def agencies_approve(subsystem_id: Annotated[str, typer.Argument(help="MEMBER/SUBSYSTEM")],
                     clearance: Annotated[Optional[str], typer.Option(help="Clearance 001-004 to grant.")] = None,
                     rotate: Annotated[bool, typer.Option(
                         "--rotate", help="Already approved: issue a new secret (the old one works during the "
                                          "overlap). Without it, approving again is refused.")] = False,
                     overlap_seconds: Annotated[Optional[int], typer.Option(
                         help="With --rotate: how long the old secret keeps working (default: the configured "
                              "client-secret overlap).")] = None,
                     data_dir: DataDir = None) -> None:
    """Approve a subsystem and print its client credentials (shown once)."""
    def approve(security) -> None:  # noqa: ANN001
        issued = security.approve_subsystem(subsystem_id, actor=ACTOR, clearance=clearance, rotate=rotate,
                                            overlap_seconds=overlap_seconds)
        console.print(f"{subsystem_id} approved")
        if issued:
            console.print("client credentials (shown once, store them now):")
            print_json(issued.as_dict())
    _run(data_dir, approve)


@agencies_app.command("pilot")
def agencies_pilot(member_id: Annotated[str, typer.Argument()], on: Annotated[bool, typer.Option("--on/--off")] = True,
                   data_dir: DataDir = None) -> None:
    """Put a member in (or out of) the pilot group."""
    from hub.registry.schemas import MemberPatch

    _run(data_dir, lambda s: console.print(
        f"{member_id} pilot={s.registry.update_member(member_id, MemberPatch(pilot=on), actor=ACTOR).pilot}"))


@agencies_app.command("grant")
def agencies_grant(client: Annotated[str, typer.Argument(help="Subsystem id or group:NAME")],
                   service: Annotated[str, typer.Argument(help="Service id or *")],
                   provider: Annotated[str, typer.Argument(help="Receiving subsystem, member, or *")] = "*",
                   as_json: Json = False, actor: Actor = ACTOR, data_dir: DataDir = None) -> None:
    """Grant an access right (deny by default: nothing is allowed until granted)."""
    def grant(security) -> None:  # noqa: ANN001
        security.access.check_provider(provider)
        right = security.access.grant(client, service, provider, actor=actor)
        if as_json:
            print_json(right)
        else:
            console.print(f"right {right['id']} granted: {right['client']} may call {right['service']} "
                          f"of {right['provider']}", soft_wrap=True)
    _run(data_dir, grant)


def _subsystems_of(security, target: str) -> list[str]:  # noqa: ANN001
    """``target`` itself if it is a subsystem, else every subsystem of the member ``target``."""
    if security.registry.subsystem(target, missing_ok=True) is not None:
        return [target]
    return [s.id for s in security.registry.member(target).subsystems]


def _decide(data_dir: Path | None, target: str, status: str, reason: str | None, actor: str, as_json: bool) -> None:
    def decide(security) -> None:  # noqa: ANN001
        changed = [security.registry.decide(sid, status, actor=actor, reason=reason)
                   for sid in _subsystems_of(security, target)]
        security.authenticator.forget()  # tokens already issued are judged on the new status at once
        if as_json:
            print_json([sub.model_dump(mode="json") for sub in changed])
        else:
            for sub in changed:
                console.print(f"{sub.id} {sub.status}")
    _run(data_dir, decide)


@agencies_app.command("suspend")
def agencies_suspend(target: Annotated[str, typer.Argument(help="MEMBER/SUBSYSTEM, or a member (all its subsystems)")],
                     reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail).")],
                     actor: Actor = ACTOR, as_json: Json = False, data_dir: DataDir = None) -> None:
    """Suspend a subsystem (or every subsystem of a member): its clients are refused until resumed."""
    from hub.registry.agencies import DISABLED

    _decide(data_dir, target, DISABLED, reason, actor, as_json)


@agencies_app.command("resume")
def agencies_resume(target: Annotated[str, typer.Argument(help="MEMBER/SUBSYSTEM, or a member (all its subsystems)")],
                    reason: Annotated[Optional[str], typer.Option(help="Why (recorded in the audit trail).")] = None,
                    actor: Actor = ACTOR, as_json: Json = False, data_dir: DataDir = None) -> None:
    """Approve again what was suspended; its client credentials are unchanged."""
    from hub.registry.agencies import APPROVED

    _decide(data_dir, target, APPROVED, reason, actor, as_json)


# -- access rights ------------------------------------------------------------------------
@access_app.command("list")
def access_list(client: Annotated[Optional[str], typer.Option(help="Only this client's rights.")] = None,
                as_json: Json = False, data_dir: DataDir = None) -> None:
    """Access rights (and access groups with their members)."""
    def show(security) -> None:  # noqa: ANN001
        rights, groups = security.access.rights(client), security.access.groups()
        if as_json:
            print_json({"rights": rights, "groups": groups})
            return
        out = table("id", "client", "service", "provider", "granted at", "granted by")
        for r in rights:
            out.add_row(str(r["id"]), r["client"], r["service"], r["provider"], str(r["granted_at"]),
                        r["granted_by"] or "")
        console.print(out)
        for name, members in groups.items():
            console.print(f"group:{name}: {', '.join(members)}", soft_wrap=True)
    _run(data_dir, show)


@access_app.command("grant")
def access_grant(client: Annotated[str, typer.Argument(help="Subsystem id or group:NAME")],
                 service: Annotated[str, typer.Argument(help="Service id or *")],
                 provider: Annotated[str, typer.Argument(help="Receiving subsystem, member, or *")] = "*",
                 as_json: Json = False, actor: Actor = ACTOR, data_dir: DataDir = None) -> None:
    """Grant an access right (the same as `hub agencies grant`)."""
    agencies_grant(client, service, provider, as_json=as_json, actor=actor, data_dir=data_dir)


@access_app.command("revoke")
def access_revoke(right_ids: Annotated[list[int], typer.Argument(help="Right ids (see `hub access list`).")],
                  actor: Actor = ACTOR, as_json: Json = False, data_dir: DataDir = None) -> None:
    """Revoke access rights; the next call that needed one is refused."""
    def revoke(security) -> None:  # noqa: ANN001
        for right_id in right_ids:
            security.access.revoke(right_id, actor=actor)
        if as_json:
            print_json({"revoked": right_ids})
        else:
            console.print(f"revoked: {', '.join(map(str, right_ids))}")
    _run(data_dir, revoke)


# -- ca ---------------------------------------------------------------------------------
@ca_app.command("init")
def ca_init(name: Annotated[str, typer.Option(help="The CA's common name.")] = "Back Office hub CA",
            data_dir: DataDir = None) -> None:
    """Create the hub's CA (<data_dir>/ca); never overwrites an existing one."""
    _run(data_dir, lambda s: console.print(f"CA created: {s.hub_ca.cert_path} (subject {s.hub_ca.init(name).subject.rfc4514_string()})"))


@ca_app.command("issue")
def ca_issue(client_id: Annotated[str, typer.Argument(help="The client the certificate authenticates (its CN).")],
             out: Annotated[Path, typer.Option(help="Folder for the key and certificate.")] = Path("."),
             days: Annotated[int, typer.Option(help="Validity in days.")] = 365,
             data_dir: DataDir = None) -> None:
    """Issue a client certificate from the hub's CA."""
    def issue(security) -> None:  # noqa: ANN001
        if security.credentials.get(client_id) is None:
            console.print(f"[yellow]note:[/yellow] no client {client_id} is registered yet; the certificate "
                          "authenticates only once it is")
        key, cert = security.hub_ca.issue(client_id, out, days=days)
        console.print(f"key: {key}\ncertificate: {cert}")
    _run(data_dir, issue)


@ca_app.command("trust")
def ca_trust(name: Annotated[str, typer.Argument(help="A name for the agency CA.")],
             cert: Annotated[Path, typer.Argument(help="The CA certificate (PEM).")],
             member: Annotated[str, typer.Option(help="The member (agency) this CA belongs to, e.g. TH/GOV/0402.")],
             data_dir: DataDir = None) -> None:
    """Trust an agency's CA for one member: its client certificates authenticate that member's subsystems only
    (never a hub staff client; those certificates come from `hub ca issue`)."""
    _run(data_dir, lambda s: console.print(
        f"trusted {name} for {member}: {s.certs.trust(name, cert.read_text(), member_id=member, actor=ACTOR)}"))


# -- audit ------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(
    bundle: Annotated[Optional[Path], typer.Option(help="Verify an exported bundle offline instead.")] = None,
    public_key: Annotated[Optional[Path], typer.Option(help="The hub's public key (PEM) for --bundle.")] = None,
    anchor: Annotated[Optional[Path], typer.Option(
        help="Also check the trail still holds every seal head anchored in this file (hub audit anchor).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Check the hash chain and signatures; name the first entry changed, removed or reordered.

    Also fails on a removed seal, on unsealed entries older than HUB_AUDIT_UNSEALED_GRACE_SECONDS,
    and on fewer seals than the last verification saw (remembered in <data_dir>/audit/witness.json)."""
    from hub.security.audit import verify_bundle
    from hub.security.keys import load_public_key

    if bundle is not None:
        if public_key is None:
            console.print("[red]error:[/red] --bundle needs --public-key (the hub's Ed25519 public key, PEM)")
            raise typer.Exit(2)
        report = verify_bundle(json.loads(bundle.read_text(encoding="utf-8")), load_public_key(public_key))
        _report(report)
        return
    with open_hub(data_dir) as hub:
        report = hub.security.audit.verify(remember=True)
        if report.ok and anchor is not None:
            from hub.security import audit_anchor

            bad = audit_anchor.check(hub.security.audit, audit_anchor.read_anchors(anchor),
                                     hub.security.audit.keyring())
            if bad is not None:
                report.ok, (report.first_bad_seq, report.problem) = False, bad
            else:
                report.notes.append(f"every seal head anchored in {anchor} is still in the trail")
        _report(report)


@audit_app.command("anchor")
def audit_anchor_cmd(
    to: Annotated[list[str], typer.Option(help="Where to publish the signed seal head: a file (one JSON line "
                                               "appended; put it off this host) or an http(s):// URL (POST). "
                                               "Repeatable.")],
    data_dir: DataDir = None,
) -> None:
    """Publish the signed seal head outside the hub; `hub audit verify --anchor FILE` checks it later."""
    from hub.security import audit_anchor

    def anchor(security) -> None:  # noqa: ANN001
        try:
            statement = audit_anchor.head_statement(security.audit, security.key)
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        for target in to:
            console.print(audit_anchor.publish(statement, target))
        security.audit.record("audit.anchored", actor=ACTOR, targets=list(to), seals=statement["seals"],
                              last_seq=statement["last_seq"])
    _run(data_dir, anchor)


@audit_app.command("rotate-key")
def audit_rotate_key(data_dir: DataDir = None) -> None:
    """Replace the hub's signing key (seals, bundles, tokens, deliveries); the old public key is
    kept, vouched for by both keys, so everything it signed still verifies. Restart every hub
    process afterwards (access tokens signed with the old key are no longer accepted)."""
    from hub.cli.common import cli_settings
    from hub.security import keys
    from hub.security.audit import timestamp

    settings = cli_settings(data_dir)
    old = keys.load_or_create(settings.security.key_file(settings.data_dir))
    new = keys.rotate(old, timestamp())
    with open_hub(data_dir, settings=settings) as hub:
        hub.security.audit.record("security.key_rotated", actor=ACTOR, retired_key_id=old.key_id,
                                  key_id=new.key_id)
    console.print(f"signing key {old.key_id} retired (kept in {old.retired_dir}); {new.key_id} is current. "
                  "Restart every hub process.")


def _report(report) -> None:  # noqa: ANN001
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    if report.ok:
        console.print(f"audit trail OK: {report.entries} entries, {report.seals} signed seals"
                      + (f", {report.unsealed} entries after the last seal" if report.unsealed else ""))
        return
    console.print(f"[red]audit trail BROKEN at entry {report.first_bad_seq}:[/red] {report.problem}")
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option(help="Bundle file to write (JSON).")],
    since: Annotated[Optional[datetime], typer.Option(help="Only entries at or after this time (ISO 8601, UTC).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Write a signed bundle an auditor verifies offline with the hub's public key (refused when the trail does not verify)."""
    def export(security) -> None:  # noqa: ANN001
        bundle = security.audit.export(since)
        out.write_text(json.dumps(bundle, ensure_ascii=False, indent=1), encoding="utf-8")
        security.audit.record("audit.exported", actor=ACTOR, entries=len(bundle["entries"]), since=bundle["since"])
        console.print(f"{len(bundle['entries'])} entries written to {out}; verify with "
                      f"`hub audit verify --bundle {out} --public-key {security.key.public_path}`")
    _run(data_dir, export)


# -- users and clients ------------------------------------------------------------------
@users_app.command("add")
def users_add(username: Annotated[str, typer.Argument()],
              role: Annotated[list[str], typer.Option(help="admin, agency-operator, auditor, monitor (repeatable), or citizen (alone; the username is the citizen ID).")],
              member: Annotated[Optional[str], typer.Option(help="The member an operator acts for.")] = None,
              clearance: Annotated[str, typer.Option(help="Clearance 001-004.")] = "001",
              data_dir: DataDir = None) -> None:
    """Add a person; the password is asked for (not echoed)."""
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    _run(data_dir, lambda s: console.print(
        f"user {s.users.add(username, password, roles=tuple(role), actor=ACTOR, member_id=member, clearance=clearance).username} added"))


@clients_app.command("create")
def clients_create(client_id: Annotated[str, typer.Argument()],
                   role: Annotated[list[str], typer.Option(help="admin, auditor or monitor (repeatable).")],
                   clearance: Annotated[str, typer.Option(help="Clearance 001-004.")] = "001",
                   data_dir: DataDir = None) -> None:
    """A staff client (e.g. a Prometheus scraper with --role monitor); the secret is printed once."""
    _run(data_dir, lambda s: print_json(
        s.credentials.create(client_id, actor=ACTOR, roles=tuple(role), clearance=clearance).as_dict()))


@clients_app.command("rotate")
def clients_rotate(client_id: Annotated[str, typer.Argument()],
                   overlap_seconds: Annotated[Optional[int], typer.Option(help="How long the old secret still works.")] = None,
                   data_dir: DataDir = None) -> None:
    """A new secret (printed once); the old one keeps working for the overlap window."""
    _run(data_dir, lambda s: print_json(
        s.credentials.rotate(client_id, actor=ACTOR, overlap_seconds=overlap_seconds).as_dict()))
