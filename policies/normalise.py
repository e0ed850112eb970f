"""Identifier normalisers: every notation of one identifier becomes one canonical string.

Blind indexes are computed over these strings, so two forces' records of one phone, e-mail,
device or person meet at one graph node however each force wrote them.

Every normaliser raises `InvalidIdentifier(kind, reason)`; the message never contains the value
(it is personal data and would end up in logs and error answers).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from datetime import date

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from stdnum import imei as stdnum_imei
from stdnum.exceptions import ValidationError as StdnumError

DEFAULT_REGION = "GB"


class InvalidIdentifier(ValueError):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"invalid {kind}: {reason}")
        self.kind = kind
        self.reason = reason


def _text(kind: str, value: object, limit: int = 320) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, "not a string")
    stripped = value.strip()
    if not stripped:
        raise InvalidIdentifier(kind, "empty")
    if len(stripped) > limit:
        raise InvalidIdentifier(kind, "too long")
    return stripped


# UK numbers of ten national digits starting 1, 2, 3 (geographic and non-geographic) or 7
# (mobiles), the usual case, in their two everyday notations: `07700 900123` and
# `+441614960467`, digits optionally grouped by single spaces or hyphens. They need no parsing:
# the answer is what phonenumbers gives (a property test holds the two paths equal).
_UK_NUMBER = re.compile(r"(?:\+44|0)[ -]?[1237](?:[ -]?[0-9]){9}")


def _phone_fast(text: str, region: str) -> str | None:
    if region != "GB" or not _UK_NUMBER.fullmatch(text):
        return None
    digits = text.replace(" ", "").replace("-", "")
    return "+44" + digits[-10:]


def phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164, e.g. `07700 900123` and `+44 (0)7700-900123` both give `+447700900123`."""
    text = _text("phone", value, 64)
    fast = _phone_fast(text, region)
    if fast is not None:
        return fast
    return _phone_parsed(text, region)


def _phone_parsed(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier("phone", "not a phone number") from None
    # "Possible" (length and shape), not "valid": numbering plans change faster than metadata.
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentifier("phone", "not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email(value: str) -> str:
    """Syntax-checked, Unicode-normalised and lower-cased (local part included: in practice
    providers treat it case-insensitively, and linking must not miss on `J.Doe` vs `j.doe`)."""
    text = _text("email", value, 254)
    fast = _email_fast(text)
    if fast is not None:
        return fast
    return _email_validated(text)


def _email_validated(text: str) -> str:
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidIdentifier("email", "not an e-mail address") from None
    return result.normalized.lower()


# Plain ASCII addresses, the usual case: a dot-atom local part of at most 64 characters at a
# host name of letter-digit-hyphen labels (no Punycode, no `ab--` labels) ending in a letter TLD.
# For these email-validator's answer is the address lower-cased; a property test holds the two
# paths equal, and anything else (quoted or Unicode parts, special-use domains) takes the slow one.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(
    rf"(?P<local>{_ATEXT}+(?:\.{_ATEXT}+)*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})"
)
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _email_fast(text: str) -> str | None:
    match = _PLAIN_EMAIL.fullmatch(text)
    if match is None or len(match["local"]) > 64 or "--" in match["domain"]:
        return None
    labels = match["domain"].lower().split(".")
    if any(".".join(labels[i:]) in _SPECIAL_USE for i in range(len(labels))):
        return None
    return text.lower()


_IMEI_SEPARATORS = re.compile(r"[\s\-/.]")


def imei(value: str) -> str:
    """The 14-digit body (TAC + serial): 14 digits, 15 with a Luhn check digit, or a 16-digit
    IMEISV, in any grouping with spaces, hyphens, slashes or dots."""
    digits = _IMEI_SEPARATORS.sub("", _text("imei", value, 32))
    if not digits.isdigit() or not digits.isascii():
        raise InvalidIdentifier("imei", "must be digits")
    if len(digits) not in (14, 15, 16):
        raise InvalidIdentifier("imei", "must have 14, 15 or 16 digits")
    try:
        stdnum_imei.validate(digits)
    except StdnumError:
        raise InvalidIdentifier("imei", "check digit does not match") from None
    return digits[:14]


def ip_address(value: str) -> str:
    """Canonical text of an IPv4 or IPv6 address; IPv4-mapped IPv6 becomes the IPv4 address."""
    text = _text("ip", value, 64).strip("[]")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidIdentifier("ip", "not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if address.scope_id:
            raise InvalidIdentifier("ip", "scoped addresses are link-local")
    return str(address)


_HEX = re.compile(r"[0-9a-f]*")


def _hex_digest(kind: str, value: str, length: int) -> str:
    text = _text(kind, value, length + 8).lower()
    if len(text) != length or not _HEX.fullmatch(text):
        raise InvalidIdentifier(kind, f"must be {length} hexadecimal digits")
    return text


def sha1(value: str) -> str:
    return _hex_digest("sha1", value, 40)


def md5(value: str) -> str:
    return _hex_digest("md5", value, 32)


_PNC = re.compile(r"^(\d{2}|\d{4})\s*/\s*(\d{1,7})\s*([A-Z])$")


def pnc_id(value: str) -> str:
    """Police National Computer id as `YY/serialC`: `2019/0123456A` and `19/123456a` both give
    `19/123456A`. The check letter is kept as given, not recomputed."""
    match = _PNC.match(_text("pnc", value, 24).upper())
    if match is None:
        raise InvalidIdentifier("pnc", "expected year/serial and check letter, e.g. 19/123456A")
    year, serial, letter = match.groups()
    serial_number = int(serial)
    if serial_number == 0:
        raise InvalidIdentifier("pnc", "serial must not be zero")
    return f"{year[-2:]}/{serial_number}{letter}"


_POSTCODE = re.compile(r"^(GIR0AA|[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2})$")


def postcode(value: str) -> str:
    """UK postcode, upper case with one space before the inward code: `bs14dj` gives `BS1 4DJ`."""
    compact = re.sub(r"\s+", "", _text("postcode", value, 16)).upper()
    if not _POSTCODE.match(compact):
        raise InvalidIdentifier("postcode", "not a UK postcode")
    return f"{compact[:-3]} {compact[-3:]}"


def fold(text: str) -> str:
    """Case, accents (NFKD, combining marks dropped) and whitespace folded."""
    if text.isascii():  # NFKD changes no ASCII text, and casefold is lower there
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(without_marks.casefold().split())


def account(platform: str, handle: str) -> str:
    """`platform:handle`, platform lower-case, handle case-folded without a leading `@`.
    E-mail accounts use the e-mail normaliser, so they meet the suspects' e-mail addresses."""
    name = fold(_text("account", platform, 64))
    raw_handle = _text("account", handle, 256)
    if name in ("email", "e-mail", "mail"):
        return f"email:{email(raw_handle)}"
    folded = fold(raw_handle).lstrip("@").strip()
    if not folded:
        raise InvalidIdentifier("account", "empty handle")
    return f"{name}:{folded}"


def person(given_name: str, family_name: str, date_of_birth: str) -> str:
    """Name and date of birth, the linking key of a person without a stronger identifier."""
    given = fold(_text("person", given_name, 100))
    family = fold(_text("person", family_name, 100))
    try:
        born = date.fromisoformat(_text("person", date_of_birth, 10))
    except ValueError:
        raise InvalidIdentifier("person", "date of birth must be YYYY-MM-DD") from None
    if not given or not family:
        raise InvalidIdentifier("person", "names must not be empty")
    return f"{given}|{family}|{born.isoformat()}"


def series_ref(value: str) -> str:
    """Known image series reference, case and whitespace folded."""
    return fold(_text("series", value, 64))


def device_serial(make: str, serial: str) -> str:
    """`make:SERIAL`: make folded, serial upper-case without spaces or hyphens."""
    maker = fold(_text("serial", make, 64))
    number = re.sub(r"[\s\-]", "", _text("serial", serial, 64)).upper()
    if not (number.isascii() and number.isalnum()):
        raise InvalidIdentifier("serial", "must be letters and digits")
    return f"{maker}:{number}"


# Normalisers of single-value identifiers, by the kind name used in blind indexes.
NORMALISERS: dict[str, Callable[[str], str]] = {
    "phone": phone,
    "email": email,
    "imei": imei,
    "ip": ip_address,
    "sha1": sha1,
    "md5": md5,
    "pnc": pnc_id,
    "postcode": postcode,
    "series": series_ref,
}
