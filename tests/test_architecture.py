"""Cypher and the rows it returns stay in `graph/`: no module outside it runs a statement of
`graph.queries` through a store's `read` or `write` and picks the rows apart by hand. Callers
use the typed repositories in `graph/` instead.

The modules still doing it are listed below, and the list only shrinks: a listed module that no
longer does it fails the test until it is taken off."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_GRAPH = ("gateway", "federation", "policies")
STORE_CALLS = {"read", "write"}


def _statement_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names a module binds to `graph.queries` modules, and to statements taken from them."""
    modules: set[str] = set()
    statements: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module == "graph.queries":
                modules.update(alias.asname or alias.name for alias in node.names)
            elif node.module.startswith("graph.queries."):
                statements.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("graph.queries") and alias.asname:
                    modules.add(alias.asname)
    return modules, statements


def _is_statement(node: ast.expr, modules: set[str], statements: set[str]) -> bool:
    if isinstance(node, ast.Subscript):  # a statement picked from a table, `HOLDERS_OF[label]`
        return _is_statement(node.value, modules, statements)
    if isinstance(node, ast.Name):
        return node.id in statements
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in modules
    )


def runs_statements(path: Path) -> list[int]:
    """The lines where the module passes a `graph.queries` statement to `read` or `write`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    modules, statements = _statement_names(tree)
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in STORE_CALLS
        and node.args
        and _is_statement(node.args[0], modules, statements)
    )


def modules_running_statements() -> dict[str, list[int]]:
    found = {}
    for package in OUTSIDE_GRAPH:
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = runs_statements(path)
            if lines:
                found[path.relative_to(ROOT).as_posix()] = lines
    return found


def test_no_module_outside_graph_runs_cypher_itself() -> None:
    assert modules_running_statements() == {}, "use (or add) a typed repository in graph/"


def test_the_scan_finds_each_way_a_statement_is_named(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        textwrap.dedent(
            """\
            from graph.queries import reading
            from graph.queries import links as lq
            from graph.queries.holders import HOLDERS_OF
            from graph.queries.explore import CASE_HEADS as HEADS
            import graph.queries.cases as cq
            async def f(store, other, label, handle):
                await store.read(reading.CASES, {})
                await store.read(lq.HELD_FORCES)
                await other.graph.read(HOLDERS_OF[label], {})
                await store.read(HEADS, {})
                await store.write(cq.UPSERT, {})
                await store.read("MATCH (n) RETURN n")  # not a statement of graph.queries
                handle.write(line)  # not a statement at all
                await reading.read(store)  # a call on the module, not a store's read
            """
        )
    )
    assert runs_statements(sample) == [7, 8, 9, 10, 11]
