"""Pages of a list field: how many items a client may ask for at once, and cursors that are a
position in an ordered list (opaque to clients: base64 of a prefix naming the list, and the
position)."""

from __future__ import annotations

import base64

from gateway.graphql.errors import BadInput

MAX_PAGE = 100


def checked_page(first: int) -> int:
    if not 0 < first <= MAX_PAGE:
        raise BadInput(f"first: between 1 and {MAX_PAGE}")
    return first


def position_cursor(position: int, prefix: str = "n") -> str:
    return base64.urlsafe_b64encode(f"{prefix}:{position}".encode()).decode()


def after_position(cursor: str | None, prefix: str = "n") -> int:
    """The position after the cursor's item; 0 without a cursor; `BadInput` for one that is not
    from this list."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith(f"{prefix}:"):
            return int(text[len(prefix) + 1 :]) + 1
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadInput("after: not a cursor from this list")
