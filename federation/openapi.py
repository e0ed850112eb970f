"""The federation API's OpenAPI 3.1 document, served at `GET /openapi.json`.

Written by hand in `openapi.yaml`, beside the code it describes; it refers to the case summary
schemas by their files (`./schema/case-summary.v1.schema.json` and `...v1.1...`). Served,
they are inlined under `components/schemas/CaseSummary` and `CaseSummaryV1_1` (their own
`#/$defs/...` references rewritten to point there), so the document stands alone for a client
generator.
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
# Each case summary schema the hub accepts, by its file, and the component it is inlined as.
CASE_SUMMARY_FILES = {
    "./schema/case-summary.v1.schema.json": "CaseSummary",
    "./schema/case-summary.v1.1.schema.json": "CaseSummaryV1_1",
}


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


def case_summary_schema(file: str, component: str) -> dict[str, Any]:
    """A case summary JSON Schema as a component: no `$id` (it would change how references
    resolve), internal references made absolute within the document."""
    schema: dict[str, Any] = json.loads((HERE / file).read_text())
    schema.pop("$id", None)
    ref = f"#/components/schemas/{component}"
    inner = {f"#/$defs/{name}": f"{ref}/$defs/{name}" for name in schema["$defs"]}
    rewritten: dict[str, Any] = _rewrite(schema, inner)
    return rewritten


@cache
def openapi_document() -> dict[str, Any]:
    """The served document: `openapi.yaml` with the case summary schemas inlined."""
    document: dict[str, Any] = yaml.safe_load(SOURCE.read_text())
    for file, component in CASE_SUMMARY_FILES.items():
        document["components"]["schemas"][component] = case_summary_schema(file, component)
    refs = {file: f"#/components/schemas/{c}" for file, c in CASE_SUMMARY_FILES.items()}
    resolved: dict[str, Any] = _rewrite(document, refs)
    return resolved


async def _openapi(_: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


def openapi_route() -> Route:
    return Route("/openapi.json", _openapi, methods=["GET"])
