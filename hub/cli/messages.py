"""``hub messages list|show|payload|replay`` and ``hub deadletters list|replay``: the message log
from the shell.

Every replay is recorded in the message's history with its reason and in the audit trail
with the person (``--actor``) who asked for it. Listings page through the store with its
cursor, so ``--limit`` bounds what one command reads, not what exists.
"""
from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from hub.cli.common import DataDir, console, fail, open_hub, print_json, table
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.bootstrap import Hub
    from hub.schemas.envelope import StoredMessage

messages_app = typer.Typer(help="The message log: search, inspect, replay.", no_args_is_help=True)
deadletters_app = typer.Typer(help="Messages that gave up (status dead): list and replay in bulk.",
                              no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of a table.")]
Sender = Annotated[Optional[str], typer.Option(help="Only messages from this party.")]
Receiver = Annotated[Optional[str], typer.Option(help="Only messages to this party.")]
Service = Annotated[Optional[str], typer.Option(help="Only messages of this service, e.g. telework.order/v1.")]
Since = Annotated[Optional[datetime], typer.Option(help="Only messages received at or after (ISO 8601, UTC).")]
Correlation = Annotated[Optional[str], typer.Option(help="Only messages of this conversation (correlation id).")]
Limit = Annotated[int, typer.Option(min=1, help="At most this many messages.")]
Actor = Annotated[str, typer.Option(help="Who asks (recorded in the audit trail).")]


def summary(meta: StoredMessage) -> dict[str, Any]:
    """A message as scripts see it; the citizen's ID (``user_id``) is left out of listings."""
    return meta.model_dump(mode="json", exclude={"user_id"})


def search(hub: Hub, *, limit: int, **filters: Any) -> list[StoredMessage]:
    """Up to ``limit`` messages matching ``filters``, oldest first, across the store's pages."""
    found: list[StoredMessage] = []
    cursor = None
    while len(found) < limit:
        items, cursor = hub.messages.list(**filters, cursor=cursor, limit=min(500, limit - len(found)))
        found.extend(items)
        if cursor is None:
            break
    return found


def print_messages(items: list[StoredMessage], *, as_json: bool, error_column: bool = False) -> None:
    if as_json:
        print_json([summary(m) for m in items])
        return
    columns = ["id", "received (UTC)", "sender", "receiver", "service", "status", "attempts"]
    out = table(*columns, *(["last error"] if error_column else []))
    for m in items:
        row = [str(m.id), m.received_at.strftime("%Y-%m-%d %H:%M:%S"), m.sender, m.receiver, m.service, m.status,
               str(m.attempts)]
        out.add_row(*row, *([m.last_error or ""] if error_column else []))
    console.print(out)
    console.print(f"{len(items)} message(s)")


@messages_app.command("list")
def messages_list(sender: Sender = None, receiver: Receiver = None, service: Service = None,
                  status: Annotated[Optional[str], typer.Option(help="accepted, queued, delivering, retrying, "
                                                                     "delivered, dead, completed, ...")] = None,
                  since: Since = None, correlation: Correlation = None, limit: Limit = 100, as_json: Json = False,
                  data_dir: DataDir = None) -> None:
    """Messages, oldest first, filtered."""
    with open_hub(data_dir) as hub:
        try:
            items = search(hub, limit=limit, sender=sender, receiver=receiver, service=service, status=status,
                           since=since, correlation_id=correlation)
        except HubError as exc:
            fail(exc)
    print_messages(items, as_json=as_json)


@messages_app.command("show")
def messages_show(message_id: Annotated[str, typer.Argument(help="The message id.")], as_json: Json = False,
                  data_dir: DataDir = None) -> None:
    """One message: its envelope, status and every event of its history (attempts, errors, receipts)."""
    with open_hub(data_dir) as hub:
        try:
            meta = hub.messages.get_meta(message_id)
            history = hub.messages.history(message_id)
        except HubError as exc:
            fail(exc)
    if as_json:
        print_json({**summary(meta), "history": history})
        return
    for key, value in summary(meta).items():
        if value is not None:
            console.print(f"[bold]{key}[/bold]: {value}", soft_wrap=True)
    events = table("at (UTC)", "event", "attempt", "detail")
    for event in history:
        detail = event["detail"] or {}
        events.add_row(event["at"], event["kind"], "" if event["attempt"] is None else str(event["attempt"]),
                       "; ".join(f"{k}={v}" for k, v in detail.items()))
    console.print(events)


@messages_app.command("payload")
def messages_payload(message_id: Annotated[str, typer.Argument(help="The message id.")],
                     out: Annotated[Optional[Path], typer.Option(help="Write the bytes to this file.")] = None,
                     data_dir: DataDir = None) -> None:
    """The stored payload, byte for byte (to stdout, or --out FILE)."""
    with open_hub(data_dir) as hub:
        try:
            body = hub.messages.payload(message_id)
        except HubError as exc:
            fail(exc)
    if out is not None:
        out.write_bytes(body)
        console.print(f"{len(body)} bytes written to {out}")
        return
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()


def replay_one(hub: Hub, message_id: str, *, reason: str, actor: str) -> StoredMessage:
    """Replay with the reason in the history and the person in the audit trail."""
    meta = hub.messages.replay(message_id, reason=reason)
    # The trail names the message by the id its sender knows, plus the sender (ids are per sender).
    hub.security.audit.record("message.replayed", actor=actor, target=str(meta.id), reason=reason,
                              sender=meta.sender)
    return meta


@messages_app.command("replay")
def messages_replay(ids: Annotated[list[str], typer.Argument(help="Message ids to deliver again.")],
                    reason: Annotated[str, typer.Option(help="Why (kept in the message's history).")],
                    actor: Actor = "cli", as_json: Json = False, data_dir: DataDir = None) -> None:
    """Deliver messages again; the originals and their history are kept."""
    done = []
    with open_hub(data_dir) as hub:
        try:
            for message_id in ids:
                done.append(replay_one(hub, message_id, reason=reason, actor=actor))
        except HubError as exc:
            fail(exc)
    if as_json:
        print_json([{"id": str(m.id), "status": m.status} for m in done])
    else:
        for m in done:
            console.print(f"{m.id} -> {m.status}")


# -- dead letters -------------------------------------------------------------------------
@deadletters_app.command("list")
def deadletters_list(sender: Sender = None, receiver: Receiver = None, service: Service = None, since: Since = None,
                     limit: Limit = 1000, as_json: Json = False, data_dir: DataDir = None) -> None:
    """Dead letters with their last error, and how many per receiver and cause."""
    with open_hub(data_dir) as hub:
        items = search(hub, limit=limit, sender=sender, receiver=receiver, service=service, status="dead",
                       since=since)
    groups = Counter((m.receiver, m.last_error or "") for m in items)
    if as_json:
        print_json({"items": [summary(m) for m in items],
                    "groups": [{"receiver": r, "cause": c, "count": n} for (r, c), n in groups.most_common()]})
        return
    print_messages(items, as_json=False, error_column=True)
    by_cause = table("receiver", "cause", "count", title="by receiver and cause")
    for (receiver_, cause), n in groups.most_common():
        by_cause.add_row(receiver_, cause, str(n))
    console.print(by_cause)


@deadletters_app.command("replay")
def deadletters_replay(
    ids: Annotated[Optional[list[str]], typer.Argument(help="Dead letters to replay (default: all that match).")]
    = None,
    reason: Annotated[str, typer.Option(help="Why (kept in each message's history).")] = "bulk replay",
    sender: Sender = None, receiver: Receiver = None, service: Service = None, since: Since = None,
    limit: Limit = 10000, actor: Actor = "cli", as_json: Json = False, data_dir: DataDir = None,
) -> None:
    """Replay dead letters in bulk with a progress bar; a summary at the end (exit 1 if any failed)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with open_hub(data_dir) as hub:
        if ids:
            targets = list(ids)
        else:
            targets = [m.key or str(m.id) for m in search(hub, limit=limit, sender=sender, receiver=receiver,
                                                 service=service, status="dead", since=since)]
        replayed: list[str] = []
        failed: dict[str, str] = {}
        progress = Progress(TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=console, disable=as_json or not targets)
        with progress:
            task = progress.add_task("replay", total=len(targets))
            for message_id in targets:
                try:
                    meta = hub.messages.get_meta(message_id)
                    if meta.status != "dead":
                        failed[message_id] = f"status is {meta.status}, not dead"
                    else:
                        replay_one(hub, message_id, reason=reason, actor=actor)
                        replayed.append(message_id)
                except HubError as exc:
                    failed[message_id] = exc.message
                progress.advance(task)
    if as_json:
        print_json({"requested": len(targets), "replayed": replayed, "failed": failed})
    else:
        console.print(f"{len(replayed)} of {len(targets)} dead letter(s) replayed"
                      + (f", {len(failed)} not replayed:" if failed else ""))
        for message_id, why in failed.items():
            console.print(f"  - {message_id}: {why}", soft_wrap=True)
    if failed:
        raise typer.Exit(1)
