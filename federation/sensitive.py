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
# take (its JSON-pointer segment escaped once, here), or "*" for every item of an array.
_Step = tuple[str, str, "_Tree | None"]  # property, escaped segment, subtree (None: take all)
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
        return [
            (name, _segment(name), None if sub is None else compile_(sub))
            for name, sub in node.items()
        ]

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
    for name, segment, sub in tree:
        if name == "*":  # never last in a pattern, so `sub` is a tree here
            if isinstance(value, list) and sub is not None:
                for i, item in enumerate(value):
                    _collect(item, sub, f"{path}/{i}", out)
        elif isinstance(value, dict) and name in value:
            if sub is None:
                _leaves(value[name], path + segment, out)
            else:
                _collect(value[name], sub, path + segment, out)


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
