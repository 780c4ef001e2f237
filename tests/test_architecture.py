"""The layer rule of ARCHITECTURE.md, checked on the package's own imports.

Every import of one ``hwb_toolkit`` module by another (at module level or inside a
function; imports only for type checkers are left out) must point down the layer table
below or stay inside its own part, and no group of modules may import each other in a
cycle. A new module needs a line here: an unknown part fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hwb_toolkit"

#: Each part of the package and its layer: a part may import parts of lower layers only.
LAYERS = {
    # foundations: no imports from the rest of the package
    "errors": 0, "values": 1, "schema": 1, "resources": 1, "markup": 1,
    # I/O and the one disclosure policy every reader applies
    "privacy": 2, "io": 3,
    # the engines: pure functions of tables
    "indicators": 4, "system": 4, "voices": 5,
    # the shared store; the workspace that opens everything once
    "store": 5, "workspace": 6,
    # presentation
    "text": 6, "charts": 7,
    # orchestration: one area's briefing, its page, the pipeline and the batch
    "report": 8,
    # the pages and the command line
    "apps": 9, "cli": 10,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[str, int]]:
    """``(module, line)`` of every runtime import of a hwb_toolkit module in ``tree``."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "hwb_toolkit":
                found.extend((f"hwb_toolkit.{alias.name}", node.lineno) for alias in node.names)
            elif node.module.startswith("hwb_toolkit."):
                found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names
                         if alias.name.startswith("hwb_toolkit."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, list[tuple[str, int]]]:
    modules = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
    graph = {}
    for module, path in modules.items():
        edges = []
        for target, line in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            # "from hwb_toolkit.charts import render" names a module; "... import spine_chart" a name
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != module:
                edges.append((target, line))
        graph[module] = edges
    return graph


GRAPH = _graph()


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(module) for module in GRAPH} - {""}
    assert parts <= set(LAYERS), f"add {sorted(parts - set(LAYERS))} to LAYERS (and ARCHITECTURE.md)"


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _part(m)))
def test_imports_point_down_the_layers(module):
    here = _part(module)
    upward = [
        f"line {line}: {target}"
        for target, line in GRAPH[module]
        if _part(target) and _part(target) != here and LAYERS[_part(target)] >= LAYERS[here]
    ]
    assert not upward, f"{module} (layer {LAYERS[here]}) imports a part on its layer or above: {upward}"


def test_no_import_cycles():
    # Tarjan's strongly connected components over the module graph.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target, _ in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not cycles, f"modules that import each other: {cycles}"


#: The ceiling for a module that is not data (ARCHITECTURE.md: "about 600 lines").
MAX_MODULE_LINES = 650


def test_no_module_is_too_long_to_read():
    long = {
        _module_name(path): count
        for path in PACKAGE.rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules by concern: {long}"


def test_the_checker_sees_an_upward_import_and_a_cycle():
    # The checks above must be able to fail: the parser finds both kinds of import.
    tree = ast.parse("from hwb_toolkit.report.build import x\nif TYPE_CHECKING:\n    import hwb_toolkit.apps\n"
                     "def f():\n    from hwb_toolkit import charts\n")
    assert [target for target, _ in _imports(tree)] == ["hwb_toolkit.report.build", "hwb_toolkit.charts"]
