"""The dependency rule of the architecture (README › Architecture), checked on the source.

Imports point down the layers, never up; the packages below the entry points import no web
framework; and no two packages of ``hub/`` import each other, directly or through others.
The check reads every module's imports with ``ast`` (top-level and function-level alike: a
lazy import is still a dependency), so it needs no running hub.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "hub"

# Rank of each unit of hub/: a module may import units of its own rank or lower only.
CORE = 0      # small core modules and models
LOWER = 1     # transport, standards, security, registry, adapters
APPS = 2      # central applications and integration
ENTRY = 3     # entry points and wiring
RANKS = {
    "errors": CORE, "config": CORE, "thai": CORE, "clock": CORE, "db": CORE, "wal_checkpoints": CORE, "metrics": CORE,
    "logging_setup": CORE, "group_commit": CORE, "refresh_ahead": CORE, "paging": CORE, "paths": CORE, "schemas": CORE,
    "transport": LOWER, "standards": LOWER, "security": LOWER, "registry": LOWER, "adapters": LOWER,
    # The reference systems (hub/sim: an agency's e-Saraban, a DPIS, a GFMIS office) stand where
    # the agencies' own systems stand: like an application, they use the adapters' codecs, and
    # the telework pilot drives them.
    "apps": APPS, "integration": APPS, "sim": APPS,
    "api": ENTRY, "cli": ENTRY, "console": ENTRY, "demo": ENTRY, "bench": ENTRY,
    "bootstrap": ENTRY, "__main__": ENTRY, "migrations": ENTRY, "models_all": ENTRY, "migrate": ENTRY,
}
# Pairs inside one rank that the rule forbids: (importer, imported).
FORBIDDEN = {("adapters", "transport"), ("registry", "security")}
NO_WEB_FRAMEWORK = ("security", "registry", "transport", "standards", "adapters", "schemas", "integration",
                    "apps/telework/domain")
WEB_FRAMEWORKS = {"fastapi", "starlette"}


def _unit(path: Path) -> str:
    rel = path.relative_to(HUB)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, text: str | None = None) -> list[tuple[int, str]]:
    """Every absolute module name the file imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text, filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _hub_unit(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "hub" or len(parts) < 2:
        return None
    return parts[1]


SOURCES = sorted(p for p in HUB.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_unit_has_a_rank() -> None:
    unranked = sorted({_unit(p) for p in SOURCES if p != HUB / "__init__.py"} - set(RANKS))
    assert not unranked, f"give these parts of hub/ a place in the dependency rule: {unranked}"


def test_imports_point_down() -> None:
    upward = []
    for path in SOURCES:
        if path == HUB / "__init__.py":
            continue
        unit = _unit(path)
        for line, module in _imports(path):
            target = _hub_unit(module)
            if target is None or target == unit or target not in RANKS:
                continue
            if RANKS[target] > RANKS[unit] or (unit, target) in FORBIDDEN:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({unit} may not import {target})")
    assert not upward, "imports against the dependency rule:\n" + "\n".join(sorted(set(upward)))


def test_no_web_framework_below_the_entry_points() -> None:
    offenders = []
    for path in SOURCES:
        rel = path.relative_to(HUB).as_posix()
        if not rel.startswith(tuple(f"{p}/" for p in NO_WEB_FRAMEWORK)):
            continue
        for line, module in _imports(path):
            if module.split(".")[0] in WEB_FRAMEWORKS:
                offenders.append(f"hub/{rel}:{line} imports {module}")
    assert not offenders, "FastAPI/Starlette below the entry points:\n" + "\n".join(sorted(set(offenders)))


def _package_graph() -> dict[str, set[str]]:
    """Package -> packages it imports, for every package (folder with __init__.py) of hub/."""
    def package_of(module: str) -> str:
        candidate = module
        while candidate:
            folder = ROOT / candidate.replace(".", "/")
            if (folder / "__init__.py").exists():
                return candidate
            candidate = candidate.rpartition(".")[0]
        return "hub"

    graph: dict[str, set[str]] = defaultdict(set)
    for path in SOURCES:
        own = package_of(_module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0])
        for _, module in _imports(path):
            if module.split(".")[0] != "hub":
                continue
            target = package_of(module)
            # A package may use its own sub-packages, and a sub-package its parent's __init__.
            if target != own and not target.startswith(own + ".") and not own.startswith(target + "."):
                graph[own].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycle_between_packages() -> None:
    graph = _package_graph()
    report = []
    for component in _cycles(graph):
        edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a]) if b in component]
        report.append("; ".join(edges))
    assert not report, "packages that import each other (each line one cycle, its edges):\n" + "\n".join(report)


def test_the_check_finds_a_cycle() -> None:
    assert _cycles({"hub.a": {"hub.b"}, "hub.b": {"hub.c"}, "hub.c": {"hub.a"}, "hub.d": {"hub.a"}}) == [
        ["hub.a", "hub.b", "hub.c"]]


def test_the_check_resolves_relative_imports(tmp_path: Path) -> None:
    path = HUB / "transport" / "probe.py"
    tree_text = "from .outbox import x\nfrom ..adapters import base\n"
    assert {m for _, m in _imports(path, tree_text)} >= {"hub.transport.outbox", "hub.adapters.base"}
