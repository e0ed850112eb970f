"""Which fields of a case summary are sensitive: read from the public schema's descriptions.

A property whose description says "sensitive" is sealed field by field, every leaf beneath it
included (the officer object, each phone of a suspect). Deriving this from the schema keeps the
contract and the encryption from drifting apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from federation.validation import resolve, schema

Pattern = tuple[str, ...]  # property names, "*" for any array index
_SENSITIVE = re.compile(r"(^|[.;]\s*)sensitive\b")


def _walk(node: dict[str, Any], root: dict[str, Any], path: Pattern) -> Iterator[Pattern]:
    node = resolve(node, root)
    if node.get("type") == "array" and "items" in node:
        yield from _walk(node["items"], root, (*path, "*"))
        return
    for name, child in node.get("properties", {}).items():
        description = child.get("description", "")
        if _SENSITIVE.search(description):
            yield (*path, name)
        else:
            yield from _walk(child, root, (*path, name))


@cache
def sensitive_patterns() -> tuple[Pattern, ...]:
    root = schema()
    return tuple(_walk(root, root, ()))


# The patterns compiled into a tree, walked once per record: each step names the property to
# take (its JSON-pointer segment escaped once, here), its subtree (None: every leaf beneath it),
# and whether the property is an array whose every item the subtree applies to (a "*").
_Step = tuple[str, str, "_Tree | None", bool]
_Tree = list[_Step]


def _segment(name: str) -> str:
    return "/" + name.replace("~", "~0").replace("/", "~1")


@cache
def _tree() -> _Tree:
    nested: dict[str, Any] = {}
    for pattern in sensitive_patterns():
        node = nested
        for part in pattern[:-1]:
            node = node.setdefault(part, {})
        node[pattern[-1]] = None

    def compile_(node: dict[str, Any]) -> _Tree:
        steps: _Tree = []
        for name, sub in node.items():
            each = sub is not None and "*" in sub
            if each:
                if len(sub) != 1 or not isinstance(sub["*"], dict) or "*" in sub["*"]:
                    raise ValueError(f"sensitive fields under {name!r}: arrays of objects only")
                sub = sub["*"]
            steps.append((name, _segment(name), None if sub is None else compile_(sub), each))
        return steps

    return compile_(nested)


def _leaves(value: Any, path: str, out: list[tuple[str, str]]) -> None:
    if isinstance(value, str):
        out.append((path, value))
    elif isinstance(value, dict):
        for key, child in value.items():
            _leaves(child, path + _segment(key), out)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            _leaves(child, f"{path}/{i}", out)
    elif value is not None:
        out.append((path, str(value)))


def _collect(value: Any, tree: _Tree, path: str, out: list[tuple[str, str]]) -> None:
    if not isinstance(value, dict):
        return
    for name, segment, sub, each in tree:
        child = value.get(name)
        if child is None:
            continue
        if sub is None:
            if isinstance(child, str):  # most sensitive values: one text
                out.append((path + segment, child))
            else:
                _leaves(child, path + segment, out)
        elif each:
            if isinstance(child, list):
                at = path + segment
                for i, item in enumerate(child):
                    _collect(item, sub, f"{at}/{i}", out)
        else:
            _collect(child, sub, path + segment, out)


def sensitive_values(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON pointer, text) of every sensitive leaf present in the record."""
    out: list[tuple[str, str]] = []
    _collect(record, _tree(), "", out)
    return out


def is_sensitive(field: str) -> bool:
    """Whether a JSON pointer (e.g. `/suspects/0/familyName`) names a sensitive field."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in field.split("/")[1:]]
    for pattern in sensitive_patterns():
        if len(parts) >= len(pattern) and all(
            (want == "*" and got.isdigit()) or want == got
            for want, got in zip(pattern, parts, strict=False)
        ):
            return True
    return False
