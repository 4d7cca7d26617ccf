"""Layer 3 stays free of the web framework and of cycles: ``hub.security`` and ``hub.registry``
import no FastAPI or Starlette, the registry never imports the security layer (it audits
through its own ``AuditSink`` port), and neither imports the API above them."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

HUB = Path(__file__).resolve().parents[2] / "hub"
FORBIDDEN = {
    "security": ("fastapi", "starlette", "hub.api"),
    "registry": ("fastapi", "starlette", "hub.api", "hub.security"),
    "schemas": ("fastapi", "starlette", "hub.api", "hub.security", "hub.registry"),
}


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer3_imports_point_down(package: str) -> None:
    bad = [f"{path.relative_to(HUB.parent)}:{line} imports {name}"
           for path in sorted((HUB / package).rglob("*.py"))
           for line, name in imports(path)
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package])]
    assert not bad, "\n".join(bad)
