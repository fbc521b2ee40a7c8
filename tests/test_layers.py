"""The import rules of docs/design-notes.md: data flows one way, layers import only downward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "netplanet"

# Layer of each top-level module or package under netplanet, in the order data flows; a
# module imports only components of lower layers (layer 0 may import within itself).
LAYERS = {
    # 0: records, one exception tree, configuration, the rules for outside input
    "model": 0,
    "errors": 0,
    "settings": 0,
    "lazy": 0,
    "untrusted": 0,
    # 1: the pure stages
    "sources": 1,
    "schedule": 1,
    "parse": 1,
    "enrich": 1,
    # 2: pure views over sources and enriched posts; I/O at the edges
    "publish": 2,
    "fetch": 2,
    "store": 2,
    # 3: polling (fetch -> digest -> decide -> apply)
    "update": 3,
    # 4: what the command line and the admin area both do to a planet
    "operations": 4,
    # 5: the site, and the demo planet
    "web": 5,
    "demo": 5,
    # 6: the long-running loops (`run`, `worker`) and the composition root
    "runtime": 6,
    "planet": 6,
    "export": 6,
    # 7, 8: the command line
    "cli": 7,
    "__main__": 8,
}
PURE = {"sources", "schedule", "parse", "enrich", "publish"}
"""Components that never reach the network, the database or the clock's side effects."""
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
            same_base = LAYERS[other] == LAYERS[own] == 0
            assert LAYERS[other] < LAYERS[own] or same_base, (
                f"{rel} (L{LAYERS[own]}) imports {name}"
            )
        if own in PURE:
            top = name.split(".")[0]
            assert top not in PURE_FORBIDDEN, f"pure module {rel} imports {name}"
            assert other not in PURE_FORBIDDEN, f"pure module {rel} imports {name}"


def test_layers_are_whole_numbers() -> None:
    assert all(isinstance(layer, int) for layer in LAYERS.values())


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at module level or inside a function, except those under
    `if TYPE_CHECKING:` (they never run)."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo = list(ast.iter_child_nodes(tree))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return found


def _import_graph() -> dict[str, set[str]]:
    """Module -> the modules of netplanet it imports when it runs. `from package import name`
    points at the submodule when `name` is one, else at the package's __init__."""
    paths = {_module_name(p): p for p in _modules()}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _run_time_imports(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in paths else base)
            graph[name].update(t for t in targets if t in paths and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules() -> None:
    """Inside a package too: a cycle dodged by an import inside a function is still a cycle
    (only imports under `if TYPE_CHECKING:` are left out)."""
    assert _cycles(_import_graph()) == []


def test_the_cycle_check_sees_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_the_import_graph_reads_function_level_and_skips_type_checking_imports() -> None:
    code = """
from typing import TYPE_CHECKING
import a
if TYPE_CHECKING:
    import b
else:
    import c
def f():
    from d import e
"""
    found = _run_time_imports(ast.parse(code))
    names = sorted(
        alias.name if isinstance(n, ast.Import) else f"{n.module}.{alias.name}"
        for n in found
        for alias in n.names
    )
    assert names == ["a", "c", "d.e", "typing.TYPE_CHECKING"]
    # and on the package: cli/update.py imports the service inside its command function
    assert "netplanet.runtime.service" in _import_graph()["netplanet.cli.update"]


def test_command_modules_import_only_the_shared_cli_helpers() -> None:
    """cli/<group>.py modules share cli/_common.py and friends, never each other."""
    graph = _import_graph()
    commands = [m for m in graph if m.startswith("netplanet.cli.") and "._" not in m]
    assert commands
    for module in commands:
        siblings = {t for t in graph[module] if t.startswith("netplanet.cli")}
        assert all(t.rpartition(".")[2].startswith("_") for t in siblings), (module, siblings)


def test_at_most_nine_modules_at_the_package_root() -> None:
    assert len(list(SRC.glob("*.py"))) <= 9
