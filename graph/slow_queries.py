"""One log line per slow statement: its name and its time, never its text's values or parameters.

Every statement is a module-level constant somewhere in `graph/` (most in `graph/queries/`), so
its name is where it is defined: `queries.cases.UPSERT`. The names are found once, by reading
which constants each module assigns (not those it imports), so callers keep passing the text
and no call site changes. A statement built at call time (a path query with its hop count) is
named `adhoc:` and a digest of its text, stable across processes.

Parameters carry blind indexes and sealed values: the line holds neither them nor the text.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import logging
import pkgutil
from functools import cache
from pathlib import Path

from graph.port import Engine

log = logging.getLogger("crossforce.graph")

_PACKAGE = Path(__file__).resolve().parent


def _assigned(source: Path) -> list[str]:
    """Upper-case names a module assigns at top level."""
    names: list[str] = []
    for node in ast.parse(source.read_text()).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        names += [t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()]
    return names


@cache
def _catalogue() -> dict[str, str]:
    names: dict[str, str] = {}
    for info in pkgutil.walk_packages([str(_PACKAGE)], prefix="graph."):
        if info.ispkg:
            continue
        module = importlib.import_module(info.name)
        if module.__file__ is None:
            continue
        for attr in _assigned(Path(module.__file__)):
            value = getattr(module, attr, None)
            if isinstance(value, str):
                names.setdefault(value, f"{info.name.removeprefix('graph.')}.{attr}")
    return names


def statement_name(query: str) -> str:
    """The stable name of a statement: its constant's, or a digest of a text built at run time."""
    name = _catalogue().get(query)
    if name is not None:
        return name
    return "adhoc:" + hashlib.sha256(query.encode()).hexdigest()[:12]


class SlowQueryLog:
    """Logs a statement that took `threshold` seconds or more (None: never)."""

    def __init__(self, engine: Engine, threshold: float | None) -> None:
        self._engine = engine
        self._threshold = threshold

    def observe(self, query: str, seconds: float, *, call: str) -> None:
        if self._threshold is None or seconds < self._threshold:
            return
        log.warning(
            "slow graph statement",
            extra={
                "statement": statement_name(query),
                "seconds": round(seconds, 4),
                "engine": self._engine,
                "call": call,
            },
        )
