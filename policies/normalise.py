"""Identifier normalisers: every notation of one identifier becomes one canonical string.

Blind indexes are computed over these strings, so two forces' records of one phone, e-mail,
device or person meet at one graph node however each force wrote them.

Every normaliser raises `InvalidIdentifier(kind, reason)` for what is not an identifier of its kind
(a force must correct it), and `Unlinkable(kind, reason)`, a subclass, for a well-formed value that
must not link cases: a placeholder, an address many networks share, a number not in use. Neither
message contains the value (it is personal data and would end up in logs and error answers).
What links and why is in docs/policies.md, "What links".
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

DEFAULT_REGION = "GB"


@dataclass(frozen=True)
class LinkingRules:
    """The region's choices on what links (`linking.yaml`, loaded by `policies.linking`).

    `country`: where a phone number written without a country code is read. `private_addresses`:
    RFC 1918 and IPv6 unique-local addresses link (off: the same private address in two cases is
    usually two different home networks). `example_ranges`: Ofcom's drama phone numbers and the
    documentation IP ranges link; synthetic data (the demo, tests) is written in them, and no real
    subscriber or host holds them. `pdq_distance`: two PDQ hashes this many bits apart or fewer
    are one image (resized, recompressed or lightly cropped); 31 is PDQ's recommended threshold.
    """

    country: str = DEFAULT_REGION
    private_addresses: bool = False
    example_ranges: bool = True
    pdq_distance: int = 31


DEFAULT_RULES = LinkingRules()


class InvalidIdentifier(ValueError):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"invalid {kind}: {reason}")
        self.kind = kind
        self.reason = reason


class Unlinkable(InvalidIdentifier):
    """A well-formed value that must not link cases. A subclass of `InvalidIdentifier`, so a
    caller that does not tell them apart refuses it rather than links it."""

    def __init__(self, kind: str, reason: str) -> None:
        ValueError.__init__(self, f"{kind} does not link: {reason}")
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


# What a force may write in a phone number: digits, the usual separators and a leading `+`
# (`+44 (0)7700-900123`). Anything else (`#`, `*`, letters, `ext. 12`) is refused rather than
# parsed: phonenumbers would read a tail after `#` as an extension and link on what is left.
_PHONE_TEXT = re.compile(r"\+?[0-9 ().\-/]+")
_DIGIT = re.compile(r"[0-9]")

# Ofcom's ranges for drama, in E.164: never given to a subscriber. phonenumbers calls the mobile
# and the 01632 ones invalid; they link only where the rules' `example_ranges` allow.
_DRAMA = (
    "+447700900", "+441632960", "+441134960", "+441144960", "+441154960", "+441164960",
    "+441174960", "+441184960", "+441214960", "+441314960", "+441414960", "+441514960",
    "+441614960", "+441914980", "+442079460", "+442896496", "+442920180", "+448081570",
    "+449098790", "+443069990",
)  # fmt: skip

# UK numbers of ten national digits starting 1, 2, 3 (geographic and non-geographic) or 7
# (mobiles), the usual case, in their everyday notations: `07700 900123`, `+441614960467`,
# `+44 (0)161 496 0467` and `0044 161 496 0467`, digits optionally grouped by single spaces or
# hyphens. They need no parsing, only the validity check: the answer is what phonenumbers gives
# (a property test holds the two paths equal).
_UK_NUMBER = re.compile(r"(?:\+44|\+44 ?\(0\)|0044|0)[ -]?[1237](?:[ -]?[0-9]){9}")
_E164_UK = re.compile(r"\+44[1237][0-9]{9}")  # the canonical form itself: nothing to remove


def _desc_pattern(descs: list[Any], length: int) -> re.Pattern[str] | None:
    """One pattern a national number of `length` digits matches in full exactly when it matches
    one of `descs` as phonenumbers' `_is_number_matching_desc` does (length, then pattern)."""
    alternatives = [
        f"(?:{d.national_number_pattern})"
        for d in descs
        if d is not None
        and d.national_number_pattern
        and (not d.possible_length or length in d.possible_length)
    ]
    return re.compile("|".join(alternatives)) if alternatives else None


_NUMBER_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
                 "uan", "voicemail", "fixed_line", "mobile")  # fmt: skip


def _regions_of_44(length: int) -> list[tuple[re.Pattern[str] | None, re.Pattern[str] | None,
                                              re.Pattern[str] | None]]:  # fmt: skip
    """(leading digits, general pattern, any-type pattern) of each region of +44, in the order
    phonenumbers' `region_code_for_number` tries them, for national numbers of `length` digits."""
    regions = []
    for code in COUNTRY_CODE_TO_REGION_CODE[44]:
        metadata = PhoneMetadata.metadata_for_region(code)
        if metadata is None:
            continue
        leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        general = _desc_pattern([metadata.general_desc], length)
        types = _desc_pattern([getattr(metadata, name) for name in _NUMBER_TYPES], length)
        regions.append((leading, general, types))
    return regions


_UK_REGIONS = _regions_of_44(10)


def _valid_uk(national: str) -> bool:
    """`phonenumbers.is_valid_number` of +44 and a ten-digit national number, from the same
    numbering plans without its per-call work: the region that claims the number (by leading
    digits, or the first whose plan knows it) must know its type."""
    for leading, general, types in _UK_REGIONS:
        known = bool(
            general and types and general.fullmatch(national) and types.fullmatch(national)
        )
        if leading is not None:
            if leading.match(national):
                return known
        elif known:
            return True
    return False


def _phone_fast(text: str, rules: LinkingRules) -> str | None:
    if _E164_UK.fullmatch(text):
        e164 = text
    elif rules.country == "GB" and _UK_NUMBER.fullmatch(text):
        e164 = "+44" + text.replace(" ", "").replace("-", "")[-10:]
    else:
        return None
    if rules.example_ranges and e164.startswith(_DRAMA):
        return e164
    if not _valid_uk(e164[3:]):
        return None  # the parsing path says why
    return e164


def phone(value: str, rules: LinkingRules = DEFAULT_RULES) -> str:
    """E.164, e.g. `07700 900123` and `+44 (0)7700-900123` both give `+447700900123`.

    A number without a country code is read in `rules.country`. Junk (`#`, letters, an
    extension) or an impossible length is invalid; a possible number that is not in use in its
    country (by phonenumbers' numbering plans) is unlinkable: `(202) 555-0177` read in GB is
    not a London number, and linking it would meet `020 2555 0177`.
    """
    text = _text("phone", value, 64)
    fast = _phone_fast(text, rules)
    if fast is not None:
        return fast
    if not _PHONE_TEXT.fullmatch(text) or not _DIGIT.search(text):
        raise InvalidIdentifier("phone", "must be digits, spaces, ()-./ and a leading +")
    return _phone_parsed(text, rules)


def _phone_parsed(text: str, rules: LinkingRules) -> str:
    try:
        number = phonenumbers.parse(text, rules.country)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier("phone", "not a phone number") from None
    if number.extension or not phonenumbers.is_possible_number(number):
        raise InvalidIdentifier("phone", "not a possible phone number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.is_valid_number(number):
        return e164
    if rules.example_ranges and e164.startswith(_DRAMA):
        return e164
    raise Unlinkable("phone", "not a number in use; write foreign numbers with their country code")


def email(value: str) -> str:
    """Syntax-checked, Unicode-normalised and lower-cased (local part included: in practice
    providers treat it case-insensitively, and linking must not miss on `J.Doe` vs `j.doe`), then
    reduced to the mailbox where the provider is known to ignore parts of the address: Gmail
    ignores dots and a `+tag` (`john.smith+x@googlemail.com` is `johnsmith@gmail.com`); the
    providers in `_PLUS_TAGS` ignore a `+tag`. Elsewhere `a.b` and `a+b` may be other mailboxes."""
    text = _text("email", value, 254)
    address = _email_fast(text)
    if address is None:
        address = _email_validated(text)
    return _mailbox(address)


_GMAIL = frozenset({"gmail.com", "googlemail.com"})
# Providers whose addresses cannot contain `+` and that deliver `name+tag@` to `name@`.
_PLUS_TAGS = frozenset(
    {
        "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com", "live.co.uk", "msn.com",
        "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me", "pm.me",
        "fastmail.com", "yandex.com", "yandex.ru",
    }
)  # fmt: skip


def _mailbox(address: str) -> str:
    local, _, domain = address.rpartition("@")
    if domain in _GMAIL:
        local, domain = local.split("+", 1)[0].replace(".", ""), "gmail.com"
    elif domain in _PLUS_TAGS:
        local = local.split("+", 1)[0]
    if not local:
        raise InvalidIdentifier("email", "no mailbox before the tag")
    return f"{local}@{domain}"


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
_SPECIAL_USE_LABELS = max(name.count(".") + 1 for name in _SPECIAL_USE)


def _email_fast(text: str) -> str | None:
    match = _PLAIN_EMAIL.fullmatch(text)
    if match is None or len(match["local"]) > 64 or "--" in match["domain"]:
        return None
    address = text.lower()
    labels = address.rsplit(".", _SPECIAL_USE_LABELS)
    # Every domain suffix of as many labels as a special-use name has (the domain's last
    # labels; the domain holds at least two, the local part none of these).
    if any(".".join(labels[i:]) in _SPECIAL_USE for i in range(1, len(labels))):
        return None
    return address


_IMEI_SEPARATORS = re.compile(r"[\s\-/.]")


def imei(value: str) -> str:
    """The 14-digit body (TAC + serial): 14 digits, 15 with a Luhn check digit, or a 16-digit
    IMEISV, in any grouping with spaces, hyphens, slashes or dots."""
    text = _text("imei", value, 32)
    digits = text if text.isdigit() else _IMEI_SEPARATORS.sub("", text)
    if not digits.isdigit() or not digits.isascii():
        raise InvalidIdentifier("imei", "must be digits")
    if len(digits) not in (14, 15, 16):
        raise InvalidIdentifier("imei", "must have 14, 15 or 16 digits")
    # Only the 15-digit form carries a check digit (the IMEISV's last two are a version).
    if len(digits) == 15 and not luhn_valid(digits):
        raise InvalidIdentifier("imei", "check digit does not match")
    body = digits[:14]
    if _placeholder_digits(body):
        raise Unlinkable("imei", "a placeholder (one digit repeated or a run of digits)")
    return body


# Each digit doubled and its digits summed, as Luhn counts every second digit from the right.
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a string of ASCII digits: the sum of the digits, every second one from
    the right doubled (its digits summed), ends in 0. Read as bytes, each digit is its code
    point less 48."""
    plain, doubled = digits[::-2], digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(plain.encode()) + sum(doubled.encode()) - 48 * len(digits)) % 10 == 0


_RUNS = "01234567890123456789012345678901234567890123456789"


def _placeholder_digits(text: str) -> bool:
    """One character repeated, or a run up or down the digits (`123456789`, `9876543210`)."""
    return len(set(text)) == 1 or text in _RUNS or text in _RUNS[::-1]


_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def ip_address(value: str, rules: LinkingRules = DEFAULT_RULES) -> str:
    """Canonical text of an IPv4 or IPv6 address; IPv4-mapped IPv6 becomes the IPv4 address.

    Only globally routable addresses (`is_global`) link: loopback, unspecified, link-local,
    multicast, reserved and shared (CGNAT) addresses name no one host across cases. Private
    ranges link where `rules.private_addresses` says so, documentation ranges where
    `rules.example_ranges` does.
    """
    text = _text("ip", value, 64).strip("[]")
    dotted = _IPV4.fullmatch(text)
    if dotted is not None:
        return _ipv4_allowed(dotted[1], rules)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidIdentifier("ip", "not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address.scope_id:
            raise Unlinkable("ip", "a link-local address")
    return _allowed(address, rules)


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, rules: LinkingRules) -> str:
    # `is_global` alone lets multicast through (it is not "private").
    allowed = address.is_global and not address.is_multicast
    allowed = allowed or (rules.private_addresses and any(address in n for n in _PRIVATE))
    allowed = allowed or (rules.example_ranges and any(address in n for n in _DOCUMENTATION))
    if not allowed:
        raise Unlinkable("ip", "a private, shared or special-purpose address")
    return str(address)


# Dotted-quad IPv4, bare or IPv4-mapped (`::ffff:192.0.2.1`), the usual notations: each octet
# without leading zeros, as `ipaddress` reads them, so the text is already canonical and only
# the ranges need checking (a property test holds this path equal to `ipaddress`'s).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?:::[fF]{{4}}:)?({_OCTET}(?:\.{_OCTET}){{3}})")
_DOCUMENTATION_V4 = tuple(
    (int(n.network_address), int(n.broadcast_address)) for n in _DOCUMENTATION if n.version == 4
)


def _ipv4_allowed(dotted: str, rules: LinkingRules) -> str:
    a, b, c, d = dotted.split(".")
    number = (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    if rules.example_ranges and any(low <= number <= high for low, high in _DOCUMENTATION_V4):
        return dotted
    return _allowed(ipaddress.IPv4Address(number), rules)


_HEX = re.compile(r"[0-9a-f]*")

# Digests of the empty file: every empty file anyone holds has them.
EMPTY_FILE_DIGESTS = frozenset(
    {
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # SHA-1
        "d41d8cd98f00b204e9800998ecf8427e",  # MD5
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # SHA-256
    }
)


def _hex_digest(kind: str, value: str, length: int) -> str:
    text = _text(kind, value, length + 8).lower()
    if len(text) != length or not _HEX.fullmatch(text):
        raise InvalidIdentifier(kind, f"must be {length} hexadecimal digits")
    if text in EMPTY_FILE_DIGESTS:
        raise Unlinkable(kind, "the digest of an empty file")
    return text


def sha1(value: str) -> str:
    return _hex_digest("sha1", value, 40)


def md5(value: str) -> str:
    return _hex_digest("md5", value, 32)


def pdq(value: str) -> str:
    """A PDQ perceptual hash as 64 lower-case hexadecimal digits. Near duplicates (a small
    Hamming distance) are found at ingest, by `federation/near_images.py`."""
    return _hex_digest("pdq", value, 64)


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


EMAIL_PLATFORMS = frozenset({"email", "e-mail", "mail"})


def account(platform: str, handle: str) -> str:
    """`platform:handle`, platform lower-case, handle case-folded without a leading `@`.
    E-mail accounts use the e-mail normaliser (see `account_key` for how they link)."""
    name = fold(_text("account", platform, 64))
    raw_handle = _text("account", handle, 256)
    if name in EMAIL_PLATFORMS:
        return f"email:{email(raw_handle)}"
    folded = fold(raw_handle).lstrip("@").strip()
    if not folded:
        raise InvalidIdentifier("account", "empty handle")
    return f"{name}:{folded}"


def account_key(platform: str, handle: str) -> tuple[str, str]:
    """The kind and normalised text an account is blind-indexed as. An e-mail account is the
    e-mail address itself (kind `email`), so it meets a suspect's e-mail at one entity; any other
    account is `account` over `platform:handle`."""
    if fold(_text("account", platform, 64)) in EMAIL_PLATFORMS:
        return "email", email(_text("account", handle, 256))
    return "account", account(platform, handle)


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


# Words forms put where a serial number is not known, compared without spaces or punctuation.
_PLACEHOLDER_SERIALS = frozenset(
    {
        "UNKNOWN", "UNK", "NA", "NONE", "NIL", "NULL", "TBC", "TBA", "NK", "NOTKNOWN",
        "NOSERIAL", "NOTAVAILABLE", "NOTRECORDED", "UNREADABLE", "DEFAULT", "SERIAL",
        "SERIALNUMBER", "NOTAPPLICABLE", "BLANK", "MISSING",
    }
)  # fmt: skip
MIN_SERIAL = 6  # shorter "serials" are model numbers, lot codes or typing slips, shared widely


def device_serial(make: str, serial: str) -> str:
    """`make:SERIAL`: make folded, serial upper-case without spaces or hyphens. Placeholders
    (`unknown`, `N/A`, `0000`, `123456789`, anything under `MIN_SERIAL` characters) do not link."""
    maker = fold(_text("serial", make, 64))
    raw = _text("serial", serial, 64)
    compact = re.sub(r"[^0-9A-Za-z]", "", raw).upper()
    if len(compact) < MIN_SERIAL or compact in _PLACEHOLDER_SERIALS or _placeholder_digits(compact):
        raise Unlinkable("serial", "a placeholder or too short to tell devices apart")
    number = re.sub(r"[\s\-]", "", raw).upper()
    if not (number.isascii() and number.isalnum()):
        raise InvalidIdentifier("serial", "must be letters and digits")
    return f"{maker}:{number}"


def _by_rules(normaliser: Callable[[str], str]) -> Callable[[str, LinkingRules], str]:
    return lambda value, _rules: normaliser(value)


# Normalisers of single-value identifiers, by the kind name used in blind indexes. Postcodes are
# normalised but are no kind here: they do not link (docs/policies.md, "What links").
NORMALISERS: dict[str, Callable[[str, LinkingRules], str]] = {
    "phone": phone,
    "email": _by_rules(email),
    "imei": _by_rules(imei),
    "ip": ip_address,
    "sha1": _by_rules(sha1),
    "md5": _by_rules(md5),
    "pdq": _by_rules(pdq),
    "pnc": _by_rules(pnc_id),
    "series": _by_rules(series_ref),
}
