"""Instants in referral files, read one way whatever the format.

A referral's times are ISO 8601 date-times with an offset, kept as UTC `...Z` to the second as
every case summary time is. A date-time without an offset is refused rather than guessed: a
referral from another country read as local time would shift its capture times by hours, and an
IP address's capture time is what its subscriber check rests on.
"""

from __future__ import annotations

from datetime import UTC, datetime

from federation.referrals.errors import Unmappable


def instant(value: str | None, name: str) -> str | None:
    """`value` as UTC `YYYY-MM-DDTHH:MM:SSZ`, or None when it is empty. Raises `Unmappable`
    naming the element or column `name` (never the value) when it is not such a date-time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Unmappable(f"{name} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise Unmappable(f"{name} has no time zone offset")
    return iso(parsed)


def iso(moment: datetime) -> str:
    """An aware `moment` as UTC `YYYY-MM-DDTHH:MM:SSZ`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
