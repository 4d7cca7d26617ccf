"""The error tree drawn at the top of ``hub/errors.py`` is the whole tree: every ``HubError``
subclass anywhere in ``hub/`` is drawn under one of its bases, with its status when drawn
and its module when it lives elsewhere; nothing drawn is stale."""
from __future__ import annotations

import importlib
import pkgutil
import re

import hub
from hub import errors
from hub.errors import HubError

# Not importable as plain modules: Alembic's env runs a migration, __main__ runs the CLI.
SKIP = ("hub.migrations", "hub.__main__")
LINE = re.compile(r"^(?P<indent>[\s│├└─]*)(?P<name>[A-Z][A-Za-z]+)(?: \((?P<status>\d{3})\))?(?P<rest>.*)$")


def every_hub_error() -> list[type[HubError]]:
    for module in pkgutil.walk_packages(hub.__path__, "hub."):
        if not module.name.startswith(SKIP):
            importlib.import_module(module.name)
    found: list[type[HubError]] = []

    def walk(cls: type[HubError]) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("hub.") and sub not in found:
                found.append(sub)
            walk(sub)

    walk(HubError)
    return found


def drawn_tree() -> dict[str, tuple[str | None, str | None, str]]:
    """name -> (drawn parent, drawn status, rest of the line), from the module docstring."""
    doc = (errors.__doc__ or "").splitlines()
    start = next(i for i, line in enumerate(doc) if line.strip().startswith("HubError"))
    lines = []
    for line in doc[start:]:
        if not line.strip():
            break  # the drawing ends at the first blank line
        lines.append(line)
    tree: dict[str, tuple[str | None, str | None, str]] = {}
    stack: list[tuple[int, str]] = []
    for line in lines:
        match = LINE.match(line.strip("\n"))
        assert match, f"cannot read the tree line {line!r}"
        column = len(match["indent"])
        while stack and stack[-1][0] >= column:
            stack.pop()
        tree[match["name"]] = (stack[-1][1] if stack else None, match["status"], match["rest"])
        stack.append((column, match["name"]))
    return tree


def test_every_hub_error_is_drawn_under_its_base() -> None:
    tree = drawn_tree()
    assert tree["HubError"][0] is None
    classes = every_hub_error()
    assert {"NotYetDelivered", "TeleworkRefused", "PeerError"} <= {c.__name__ for c in classes}
    for cls in classes:
        assert cls.__name__ in tree, f"{cls.__module__}.{cls.__name__} is missing from the tree in hub/errors.py"
        parent, status, rest = tree[cls.__name__]
        assert parent in {base.__name__ for base in cls.__bases__}, (
            f"{cls.__name__} is drawn under {parent}, but its bases are {[b.__name__ for b in cls.__bases__]}")
        if status is not None:
            assert int(status) == cls.status_code, f"{cls.__name__} is drawn ({status}), its status is {cls.status_code}"
        if cls.__module__ != "hub.errors":
            assert cls.__module__ in rest, f"{cls.__name__} is drawn without its module {cls.__module__}"


def test_nothing_drawn_is_stale() -> None:
    names = {c.__name__ for c in every_hub_error()} | {"HubError"}
    assert set(drawn_tree()) <= names
