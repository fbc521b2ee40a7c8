"""The import rules of docs/design-notes.md: data flows one way, layers import only downward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "netplanet"

# Layer of each top-level module or package under netplanet.
LAYERS = {
    "model": 0,
    "errors": 0,
    "settings": 0,
    "lazy": 0,
    "untrusted": 0,
    "sources": 1,
    "schedule": 1,
    "parse": 1,
    "enrich": 1,
    "publish": 1.5,  # view-models and output feeds may reuse the pure source/OPML helpers
    "fetch": 2,
    "store": 2,
    "update": 3,
    "operations": 3.5,  # what the CLI and the admin share: add/edit/import/export sources, poll now
    "web": 4,
    "export": 4,
    "demo": 4,
    "runtime": 4.5,  # the long-running loops: `run` (web app + scheduler) and `worker`
    "planet": 5,
    "cli": 6,  # the package: app and main(), command modules, shared _common/_params/_logging
    "__main__": 7,
}
# L1 is pure: it never reaches the network or the database.
PURE_FORBIDDEN = {"fetch", "store", "web", "update", "aiohttp", "sqlalchemy", "httpx"}


def _component(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "netplanet":
        return None
    return parts[1] if len(parts) > 1 else None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    rel = path.relative_to(SRC)
    own = rel.parts[0].removesuffix(".py")
    if own == "__init__":
        return
    assert own in LAYERS, f"{rel}: add its component to LAYERS in tests/test_layers.py"
    for name in _imports(path):
        other = _component(name)
        if other is not None and other != own and other != "__init__":
            assert other in LAYERS, f"{rel} imports unknown component {name}"
            same_base = LAYERS[other] == LAYERS[own] == 0  # records, errors, settings
            assert LAYERS[other] < LAYERS[own] or same_base, (
                f"{rel} (L{LAYERS[own]}) imports {name}"
            )
        if 1 <= LAYERS[own] < 2:
            top = name.split(".")[0]
            assert top not in PURE_FORBIDDEN, f"pure module {rel} imports {name}"
            assert other not in PURE_FORBIDDEN, f"pure module {rel} imports {name}"
