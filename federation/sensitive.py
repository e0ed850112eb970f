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

from federation.validation import pointer, schema

Pattern = tuple[str, ...]  # property names, "*" for any array index
_SENSITIVE = re.compile(r"(^|[.;]\s*)sensitive\b")


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref: str = node["$ref"]
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _walk(node: dict[str, Any], root: dict[str, Any], path: Pattern) -> Iterator[Pattern]:
    node = _resolve(node, root)
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


def _leaves(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _leaves(child, (*path, i))
    else:
        yield pointer(path), value if isinstance(value, str) else str(value)


def _matches(
    value: Any, pattern: Pattern, path: tuple[str | int, ...]
) -> Iterator[tuple[str, str]]:
    if not pattern:
        yield from _leaves(value, path)
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        for i, item in enumerate(value if isinstance(value, list) else []):
            yield from _matches(item, rest, (*path, i))
    elif isinstance(value, dict) and head in value:
        yield from _matches(value[head], rest, (*path, head))


def sensitive_values(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(JSON pointer, text) of every sensitive leaf present in the record."""
    for pattern in sensitive_patterns():
        yield from _matches(record, pattern, ())


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
