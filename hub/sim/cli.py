"""``hub sim ...``: run the reference legacy systems (e-Saraban; DPIS and GFMIS add theirs here)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

sim_app = typer.Typer(help="Reference legacy systems for demos and tests.", no_args_is_help=True)
esaraban_app = typer.Typer(help="A reference agency e-Saraban talking e-CMS SOAP to a node.", no_args_is_help=True)
sim_app.add_typer(esaraban_app, name="esaraban")

Home = Annotated[Path, typer.Option(help="The simulator's own folder (SQLite registry, files).")]
Node = Annotated[str, typer.Option(help="e-CMS node URL, e.g. http://127.0.0.1:8000/ecms/service2")]
Dept = Annotated[str, typer.Option(help="This agency's department code, e.g. 0401")]
Ministry = Annotated[str, typer.Option(help="This agency's ministry code, e.g. 0400")]
Prefix = Annotated[str, typer.Option(help="Book-number prefix, e.g. 'กค 0401'")]
Secret = Annotated[str, typer.Option(envvar="ESARABAN_SECRET", help="Department secret (UsernameToken).")]


def _open(home: Path, node: str, department: str, ministry: str, prefix: str, secret: str):  # noqa: ANN202
    from hub.sim.esaraban import Esaraban

    return Esaraban(home, node, department=department, ministry=ministry, prefix=prefix,
                    username=department, password=secret)


@esaraban_app.command("send")
def send(home: Home, node: Node, department: Dept, ministry: Ministry, prefix: Prefix, secret: Secret,
         to_ministry: Annotated[str, typer.Option(help="Receiving ministry code.")],
         to_department: Annotated[str, typer.Option(help="Receiving department code.")],
         subject: Annotated[str, typer.Option(help="Subject (เรื่อง).")],
         letter: Annotated[Path, typer.Option(help="The letter as PDF.")],
         attach: Annotated[list[Path], typer.Option(help="Attachments (repeatable).")] = [],  # noqa: B006
         secret_code: Annotated[str, typer.Option(help="001-004")] = "001",
         speed_code: Annotated[str, typer.Option(help="001-004")] = "001") -> None:
    """Number and send a letter with its attachments."""
    from hub.sim.esaraban import File

    sim = _open(home, node, department, ministry, prefix, secret)
    try:
        files = [File(p.name, "application/pdf", p.read_bytes()) for p in attach]
        book_no = sim.send_letter(to_ministry, to_department, subject, File(letter.name, "application/pdf",
                                  letter.read_bytes()), files, secret=secret_code, speed=speed_code)
        typer.echo(f"sent {book_no}")
    finally:
        sim.close()


@esaraban_app.command("poll")
def poll(home: Home, node: Node, department: Dept, ministry: Ministry, prefix: Prefix, secret: Secret,
         accept: Annotated[bool, typer.Option(help="Acknowledge and accept every letter received.")] = True) -> None:
    """Read the queue until empty; receive letters (with receipt numbers) and notifiers."""
    sim = _open(home, node, department, ministry, prefix, secret)
    try:
        letters, notices = sim.poll()
        for letter in letters:
            if accept:
                sim.acknowledge(letter)
                sim.accept(letter)
            typer.echo(f"letter {letter.letter_id} from {letter.from_department}: receipt {letter.receipt_no}")
        for notice in notices:
            typer.echo(f"{notice.kind} for {notice.letter_id}" + (f" ({notice.accept_id})" if notice.accept_id else ""))
    finally:
        sim.close()

__import__("hub.sim.legacy_cli", fromlist=["register"]).register(sim_app)  # hub sim dpis | gfmis
