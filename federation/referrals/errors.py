"""What makes a whole referral file unreadable, whatever its format."""

from __future__ import annotations


class MalformedFile(Exception):
    """The file is not well-formed in its format: nothing of it can be trusted or imported."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class Unmappable(Exception):
    """One referral that cannot become a case summary (the others of its file may): a required
    element or column missing or unreadable. The reason names it, never its value; the importer
    adds the referral's line."""
