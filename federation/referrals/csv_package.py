"""Referral packages as CSV (NCA packages, ROCU referrals, Child Protection System exports).

Those bodies send spreadsheets whose columns differ by sender; the hub reads one documented
layout (docs/intake.md), one referral a row, which an intake team fills from any of them. The
header names the columns, in any order; a column the layout does not know is reported once per
row that fills it, as not mapped. Lists (`offences`, `phones`, `emails`, `md5`, `sha1`) are
separated by `;`.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from federation.referrals.errors import MalformedFile, Unmappable
from federation.referrals.times import instant, iso
from federation.validation import V1_1

REQUIRED = ("reference", "source", "receivedAt")
COLUMNS = (
    *REQUIRED,
    "risk",
    "offences",
    "summary",
    "givenName",
    "familyName",
    "dateOfBirth",
    "phones",
    "emails",
    "platform",
    "handle",
    "ipAddress",
    "ipSeenAt",
    "imei",
    "md5",
    "sha1",
)
SOURCES = {"NCA": "NCA", "ROCU": "ROCU", "CPS": "CHILD_PROTECTION_SYSTEM",
           "CHILD_PROTECTION_SYSTEM": "CHILD_PROTECTION_SYSTEM"}  # fmt: skip
PREFIXES = {"NCA": "NCA", "ROCU": "ROCU", "CHILD_PROTECTION_SYSTEM": "CPS"}
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,55}$")
MAX_FIELD = 64 * 1024


class RowProblem(Unmappable):
    """A row that cannot become a case summary; the reason names the column, never a value."""


def rows(chunks: Iterable[bytes]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each data row with its line, by header name. Raises `MalformedFile` for a file that is
    not UTF-8 CSV with the required columns."""
    lines = _lines(chunks)
    reader = csv.reader(lines, strict=True)
    csv.field_size_limit(MAX_FIELD)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise MalformedFile(1, "the file is empty") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise MalformedFile(1, f"not a CSV file ({_reason(error)})") from None
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise MalformedFile(1, f"the header lacks {', '.join(missing)}")
    while True:
        start = reader.line_num + 1  # a quoted cell may span lines: a row is where it starts
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as error:
            reason = f"not well-formed CSV from this line on ({_reason(error)})"
            raise MalformedFile(start, reason) from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise MalformedFile(start, "more cells than the header names")
        yield start, dict(zip(header, (c.strip() for c in row), strict=False))


def _reason(error: Exception) -> str:
    return "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error)


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Text lines with their endings, from byte chunks split anywhere."""
    pending = ""
    for text in codecs.iterdecode(chunks, "utf-8-sig"):
        pending += text
        *complete, pending = pending.splitlines(keepends=True) or [""]
        if pending.endswith(("\n", "\r")):
            complete.append(pending)
            pending = ""
        yield from complete
    if pending:
        yield pending


def map_row(
    row: dict[str, str], *, force: str, now: datetime
) -> tuple[str, dict[str, Any], list[str]]:
    """The reference, case summary and what was not mapped, of one row."""
    reference = row.get("reference", "")
    if not reference:
        raise RowProblem("reference is empty")
    if not REFERENCE.match(reference):
        raise RowProblem("reference must be letters, digits and / _ . - (at most 56)")
    source = SOURCES.get(row.get("source", "").strip().upper())
    if source is None:
        raise RowProblem(f"source must be one of {', '.join(sorted(SOURCES))}")
    received = instant(row.get("receivedAt", ""), "receivedAt")
    if received is None:
        raise RowProblem("receivedAt is empty")
    summary: dict[str, Any] = {
        "schema": V1_1,
        "force": force,
        "caseRef": _case_ref(PREFIXES[source], reference),
        "version": 1,
        "referral": {"source": source, "reference": reference, "receivedAt": received},
        "risk": {"level": (row.get("risk") or "MEDIUM").upper(), "assessedAt": received},
        "status": "NEW",
        "openedAt": max(received, iso(now)),
    }
    if row.get("offences"):
        summary["offences"] = sorted({o.strip().upper() for o in _list(row["offences"])})
    if row.get("summary"):
        summary["summary"] = row["summary"]
    suspect: dict[str, Any] = {"ref": "P1"}
    for name in ("givenName", "familyName", "dateOfBirth"):
        if row.get(name):
            suspect[name] = row[name]
    for name in ("phones", "emails"):
        if row.get(name):
            suspect[name] = _list(row[name])
    refs = ["P1"]
    if row.get("handle") and row.get("platform"):
        summary["accounts"] = [{"ref": "A1", "platform": row["platform"].lower(),
                                "handle": row["handle"], "usedBy": ["P1"]}]  # fmt: skip
        refs = ["A1"]
    if row.get("ipAddress"):
        ip: dict[str, Any] = {"address": row["ipAddress"], "usedBy": refs}
        seen = instant(row.get("ipSeenAt", ""), "ipSeenAt")
        if seen:
            ip["seenAt"] = seen
        summary["ipAddresses"] = [ip]
    if row.get("imei"):
        summary["devices"] = [{"ref": "D1", "type": "PHONE", "imei": row["imei"], "usedBy": ["P1"]}]
    media = [{"md5": h} for h in _list(row.get("md5", ""))]
    media += [{"sha1": h} for h in _list(row.get("sha1", ""))]
    if media:
        summary["media"] = media
    if (
        len(suspect) > 1
        or "accounts" in summary
        or "devices" in summary
        or "ipAddresses" in summary
    ):
        summary["suspects"] = [suspect]
    unmapped = [f"{name}: not a column of the layout" for name, value in row.items()
                if value and name not in COLUMNS]  # fmt: skip
    if row.get("handle") and not row.get("platform"):
        unmapped.append("handle: no platform given")
    return reference, summary, unmapped


def _case_ref(prefix: str, reference: str) -> str:
    """The sender's prefix keeps two senders' references apart; not doubled when present."""
    return reference if reference.upper().startswith(f"{prefix}-") else f"{prefix}-{reference}"


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]
