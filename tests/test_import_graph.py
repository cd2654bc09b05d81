"""The import graph of ``hts_z2`` (DESIGN.md, "Layout": dependency direction is one-way,
nothing below imports from above), read from the source with ``ast``: nothing is imported.

Edges are kept with their kind:

* ``module``: an import executed when the module is imported (top level, also inside
  ``try`` / ``if`` at top level);
* ``function``: an import deferred into a function or method body (runs when called);
* ``typing``: an import under ``if TYPE_CHECKING:`` (never runs).

Every kind counts for the layering (a deferred import is still a dependency) and for
cycles (a cycle through a deferred import is still two modules that need each other);
failure messages say which kind each offending edge is, with file:line.

An import names the module it loads: ``from a.b import c`` is an edge to ``a.b.c`` when
that is a module, else to ``a.b``. The parent packages' ``__init__`` that Python runs on
the way are not edges (a package importing its own submodules is not a cycle).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "hts_z2"
SOURCE = ROOT / PACKAGE

SCHEMAS = {"schemas"}
PHYSICS = {"hamiltonian", "topology"}
DOMAIN = {"structures", "model", "reference", "training"}
TOP = {"store", "flows", "validate", "cli"}
OTHER = {"data"}  # packaged data (scripts that made it); no rule but "not on cli"
LAYERS: dict[str, set[str]] = {
    "schemas": SCHEMAS,
    "hamiltonian": PHYSICS | SCHEMAS,
    "topology": PHYSICS | SCHEMAS,
    **{name: PHYSICS | SCHEMAS | DOMAIN for name in DOMAIN},
}
"""Subpackage -> the subpackages it may import (besides itself and the root ``hts_z2``).
Subpackages on top (``store``, ``flows``, ``validate``, ``cli``) may import any other;
only ``cli`` imports ``cli``."""

ALLOWED: dict[tuple[str, str], str] = {
    # reference/planewave/record.py:_locked (deferred import) borrows the store's POSIX
    # file lock to serialize writers of the committed label-of-record file. The lock has
    # nothing to do with persistence: the fix is to move ``file_lock`` below (e.g. a
    # dependency-free utility module) and import it from there in both places; it needs
    # an edit of reference/ (issue 27). Remove this entry then (test_allow_list_is_current).
    ("hts_z2.reference.planewave.record", "hts_z2.store.lock"):
        "label-of-record writers borrow store.lock.file_lock",
}
"""Known exceptions to :data:`LAYERS`: (importing module, imported module) -> why. Each
entry is a violation to fix, not a permission; an entry whose edge is gone fails
:func:`test_allow_list_is_current`."""


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module
    kind: str  # module | function | typing
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} ({self.kind})"

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}  [{self.where()}]"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module under ``hts_z2/``: dotted name -> file."""
    return {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, str]]:
    """The import statements of a module with their kind."""
    found: list[tuple[ast.Import | ast.ImportFrom, str]] = []

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append((child, kind))
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, "typing" if kind == "typing" else "function")
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), "typing")
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), kind)
            else:
                visit(child, kind)

    visit(tree, "module")
    return found


def _resolve(name: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Absolute names of what ``node`` (in module ``name`` at ``path``) imports."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([base] if base else [])])
    return [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]


def build_graph() -> tuple[dict[str, Path], list[Edge]]:
    """(modules, edges between them)."""
    known = modules()
    edges: list[Edge] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _imports(tree):
            names = _resolve(name, path, node)
            if isinstance(node, ast.ImportFrom):
                base, *members = names
                sub = [m for m in members if m in known]  # ``from pkg import submodule``
                targets = sub + ([base] if len(sub) < len(members) or not members else [])
            else:
                targets = names
            for target in dict.fromkeys(targets):
                if target in known and target != name:
                    edges.append(Edge(name, target, kind, path, node.lineno))
    return known, edges


def subpackage(module: str) -> str:
    """``hts_z2.store.results`` -> ``store``; the root package -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def find_cycles(nodes: list[str], edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    succ: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        succ[e.source].append(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:  # recursion depth <= number of modules (~150)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            connect(v)
    return sorted(components)


def cycle_path(component: list[str], edges: list[Edge]) -> list[Edge]:
    """One closed walk through a strongly connected ``component``, as edges: the shortest
    cycle through its first module (breadth-first)."""
    inside = set(component)
    succ: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        if e.source in inside and e.target in inside:
            succ[e.source].append(e)
    start = component[0]
    came: dict[str, Edge] = {}
    queue = [start]
    for v in queue:
        for e in succ[v]:
            if e.target == start:
                walk = [e]
                while walk[0].source != start:
                    walk.insert(0, came[walk[0].source])
                return walk
            if e.target not in came:
                came[e.target] = e
                queue.append(e.target)
    raise AssertionError(f"{component} is not strongly connected")


def layering_violations(
    edges: list[Edge], allowed: dict[tuple[str, str], str] = ALLOWED
) -> list[Edge]:
    """Edges that break :data:`LAYERS` or import ``cli`` from outside it, less
    ``allowed``."""
    bad = []
    for e in edges:
        src, dst = subpackage(e.source), subpackage(e.target)
        if (e.source, e.target) in allowed or src == dst or dst == "":
            continue
        if src in LAYERS and dst not in LAYERS[src]:
            bad.append(e)
        elif dst == "cli":
            bad.append(e)
    return bad


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Path], list[Edge]]:
    return build_graph()


def test_graph_is_read(graph):
    known, edges = graph
    assert {"hts_z2.store.results", "hts_z2.cli.app", "hts_z2.topology.fhs"} <= set(known)
    assert any(e.source == "hts_z2.cli.app" and e.target == "hts_z2.cli.db" for e in edges)
    groups = {subpackage(m) for m in known} - {""}
    unplaced = groups - set(LAYERS) - TOP - OTHER
    assert not unplaced, f"subpackages not placed in a layer: {sorted(unplaced)}"


def test_root_package_imports_nothing(graph):
    """Every layer may import the root ``hts_z2`` (``__version__``) because it imports no
    subpackage."""
    _, edges = graph
    bad = [e for e in edges if e.source == PACKAGE]
    assert not bad, "hts_z2/__init__.py imports:\n" + "\n".join(f"    {e}" for e in bad)


def test_no_import_cycles(graph):
    known, edges = graph
    cycles = find_cycles(list(known), edges)
    lines = []
    for component in cycles:
        lines.append(f"cycle among {', '.join(component)}:")
        lines += [f"    {e}" for e in cycle_path(component, edges)]
    assert not cycles, "import cycles:\n" + "\n".join(lines)


@pytest.mark.parametrize("layer", [*sorted(LAYERS), "cli"])
def test_layering(graph, layer):
    _, edges = graph
    bad = [e for e in layering_violations(edges)
           if subpackage(e.source) == layer or (layer == "cli" and subpackage(e.target) == "cli")]
    allowed = "" if layer == "cli" else f" (may import {sorted(LAYERS[layer])})"
    assert not bad, (
        f"hts_z2.{layer} layering violated{allowed}:\n" + "\n".join(f"    {e}" for e in bad))


def test_allow_list_is_current(graph):
    """Every :data:`ALLOWED` exception still exists and still breaks a rule (else drop it)."""
    _, edges = graph
    present = {(e.source, e.target) for e in edges}
    stale = [pair for pair in ALLOWED if pair not in present]
    assert not stale, f"ALLOWED entries without such an import (remove them): {stale}"
    still = {(e.source, e.target) for e in layering_violations(edges, allowed={})}
    legal = [pair for pair in ALLOWED if pair not in still]
    assert not legal, f"ALLOWED entries that break no rule (remove them): {legal}"


def test_helpers_find_a_cycle_and_a_violation():
    """The checks themselves, on a made-up graph."""
    p = ROOT / "x.py"
    edges = [
        Edge("hts_z2.topology.a", "hts_z2.store.b", "function", p, 3),
        Edge("hts_z2.store.b", "hts_z2.topology.a", "module", p, 1),
        Edge("hts_z2.store.b", "hts_z2.cli.c", "module", p, 2),
    ]
    (component,) = find_cycles(["hts_z2.topology.a", "hts_z2.store.b", "hts_z2.cli.c"], edges)
    assert component == ["hts_z2.store.b", "hts_z2.topology.a"]
    assert [e.target for e in cycle_path(component, edges)] == component[::-1]
    assert layering_violations(edges) == [edges[0], edges[2]]
