"""Pages of a list field: how many items a client may ask for at once."""

from __future__ import annotations

from gateway.graphql.errors import BadInput

MAX_PAGE = 100


def checked_page(first: int) -> int:
    if not 0 < first <= MAX_PAGE:
        raise BadInput(f"first: between 1 and {MAX_PAGE}")
    return first
