"""The federation API's OpenAPI 3.1 document, served at `GET /openapi.json`.

Written by hand in `openapi.yaml`, beside the code it describes; it refers to the case summary
schema by its file (`./schema/case-summary.v1.schema.json`). Served, that schema is inlined
under `components/schemas/CaseSummary` (its own `#/$defs/...` references rewritten to point
there), so the document stands alone for a client generator.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "openapi.yaml"
CASE_SUMMARY_FILE = "./schema/case-summary.v1.schema.json"
CASE_SUMMARY_REF = "#/components/schemas/CaseSummary"


def _rewrite(node: Any, refs: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: refs.get(value, value) if key == "$ref" and isinstance(value, str) else
            _rewrite(value, refs)
            for key, value in node.items()
        }  # fmt: skip
    if isinstance(node, list):
        return [_rewrite(item, refs) for item in node]
    return node


def case_summary_schema() -> dict[str, Any]:
    """The case summary JSON Schema as a component: no `$id` (it would change how references
    resolve), internal references made absolute within the document."""
    schema: dict[str, Any] = json.loads((HERE / CASE_SUMMARY_FILE).read_text())
    schema.pop("$id", None)
    inner = {f"#/$defs/{name}": f"{CASE_SUMMARY_REF}/$defs/{name}" for name in schema["$defs"]}
    rewritten: dict[str, Any] = _rewrite(schema, inner)
    return rewritten


@cache
def openapi_document() -> dict[str, Any]:
    """The served document: `openapi.yaml` with the case summary schema inlined."""
    document: dict[str, Any] = yaml.safe_load(SOURCE.read_text())
    document["components"]["schemas"]["CaseSummary"] = case_summary_schema()
    resolved: dict[str, Any] = _rewrite(document, {CASE_SUMMARY_FILE: CASE_SUMMARY_REF})
    return resolved


async def _openapi(_: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


def openapi_route() -> Route:
    return Route("/openapi.json", _openapi, methods=["GET"])
