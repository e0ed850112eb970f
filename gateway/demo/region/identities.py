"""Fictitious people, devices, accounts, addresses and images, and the notations forces write
them in.

Every value is made up: phone numbers from Ofcom's drama ranges, e-mail at example.org, IP
addresses from the documentation ranges (RFC 5737, RFC 3849), IMEIs with the test reporting
body `00`, postcodes in the non-existent `ZZ` area, invented names and brands, random hashes.
Each identity gets its values from a counter through a fixed permutation of its space, so two
identities never share a value by accident; only deliberate overlap links cases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# --- value spaces --------------------------------------------------------------------------------

# Ofcom numbers reserved for drama: (national prefix, first local number of 1000).
_DRAMA_RANGES: tuple[tuple[str, int], ...] = (
    ("07700", 900000),
    ("01632", 960000),
    ("0113", 4960000),
    ("0114", 4960000),
    ("0115", 4960000),
    ("0116", 4960000),
    ("0117", 4960000),
    ("0118", 4960000),
    ("0121", 4960000),
    ("0131", 4960000),
    ("0141", 4960000),
    ("0151", 4960000),
    ("0161", 4960000),
    ("0191", 4980000),
    ("020", 79460000),
    ("028", 96496000),
    ("029", 20180000),
)
PHONE_SPACE = len(_DRAMA_RANGES) * 1000
_TEST_NETS = ("192.0.2", "198.51.100", "203.0.113")
IPV4_SPACE = len(_TEST_NETS) * 256
_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
POSTCODE_SPACE = 90 * 10 * len(_POSTCODE_LETTERS) ** 2

GIVEN_NAMES = (
    "Aldric", "Bramwell", "Cedric", "Dorian", "Ellery", "Fenwick", "Garrick", "Hadley", "Ivor",
    "Jasper", "Kendrick", "Lysander", "Merrick", "Nevin", "Osric", "Peregrine", "Quillon",
    "Roderick", "Sebastian", "Tobias", "Ulric", "Vance", "Wystan", "Yorick", "Zeb", "Alaric",
    "Barnaby", "Caspian", "Desmond", "Evander", "Fitzroy", "Gideon", "Hector", "Idris", "Jethro",
    "Kester", "Leopold", "Montague", "Nathaniel", "Orson", "Percival", "Rufus", "Silas",
    "Thaddeus", "Umberto", "Valentine", "Wilfred", "Xander", "Ambrose", "Benedict", "Crispin",
    "Dashiell", "Edmund", "Florian", "Gervase", "Horatio", "Inigo", "Jolyon", "Lucian", "Marius",
    "Aveline", "Briony", "Clemency", "Delphine", "Elowen", "Fenella", "Ginevra", "Honora",
    "Isolde", "Juniper", "Kerensa", "Lavinia", "Marigold", "Nerys", "Ottoline", "Primrose",
    "Rosamund", "Saffron", "Tamsin", "Ursula", "Verity", "Wenna", "Yseult", "Zinnia",
)  # fmt: skip
FAMILY_NAMES = (
    "Ashcombe", "Blackthorne", "Carrow", "Dunmore", "Elsworth", "Fairweather", "Gorringe",
    "Hollowell", "Ingleby", "Jessop", "Kettlewell", "Lockridge", "Marchbank", "Netherby",
    "Oakhurst", "Pendleford", "Quarrington", "Ravenscroft", "Stanwick", "Thornaby", "Underhill",
    "Vellacott", "Wetherell", "Yarrowby", "Ambleside", "Bradwell", "Coldridge", "Dewhurst",
    "Eastcott", "Fallowfield", "Greystoke", "Hartington", "Ilsworth", "Kingsley", "Larkhill",
    "Mortlake", "Northam", "Ormsby", "Penhallow", "Redmayne", "Saltash", "Tregarthen", "Upcott",
    "Wadebridge", "Winterbourne", "Ashdown", "Birtwhistle", "Chudleigh", "Dimmock", "Entwistle",
    "Frobisher", "Gillingham", "Heathcote", "Illingworth", "Jellicoe", "Kingswell", "Lambourne",
    "Mallinson", "Nettlefold", "Ollerenshaw", "Pettigrew", "Quenby", "Rowbotham", "Shufflebottom",
    "Treloar", "Uttley", "Vosper", "Whitlock", "Youngblood", "Ashworth", "Braithwaite",
    "Cattermole", "Dankworth", "Eggleston", "Fothergill", "Gristwood", "Hinchcliffe", "Inchbald",
    "Kilbride", "Longbottom", "Mottram", "Nuttall", "Openshaw", "Pilkington", "Ramsbottom",
    "Sowerby", "Tattersall", "Wigglesworth", "Ackroyd", "Bottomley", "Crabtree", "Duckworth",
)  # fmt: skip
MAKES = ("Northwind", "Zephyra", "Kestrel", "Orbis", "Lumen", "Quanta", "Vireo", "Halcyon")
PLATFORMS = ("snapchat", "instagram", "discord", "telegram", "kik", "whatsapp", "tiktok", "email")
HANDLE_WORDS = (
    "shadow", "river", "pixel", "falcon", "ember", "nova", "drift", "static", "lunar", "vapor",
    "cobalt", "echo", "frost", "orbit", "quartz", "raven", "sable", "tango", "vertex", "zen",
)  # fmt: skip
_PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"


class Permutation:
    """k -> (a*k + b) mod n with a coprime to n: a fixed shuffle of [0, n) without a table."""

    def __init__(self, rng: random.Random, n: int) -> None:
        self.n = n
        a = rng.randrange(1, n) | 1
        while _gcd(a, n) != 1:
            a += 2
        self.a, self.b = a, rng.randrange(n)

    def __call__(self, k: int) -> int:
        return (self.a * k + self.b) % self.n


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_digit(body: str) -> str:
    """The Luhn check digit of a digit string (IMEI's 15th digit)."""
    digits = [ord(c) - 48 for c in reversed(body)]
    total = sum(_DOUBLED[d] for d in digits[::2]) + sum(digits[1::2])
    return str((10 - total % 10) % 10)


# --- notations -----------------------------------------------------------------------------------
# Each writer takes a canonical value and a style number; different styles of one value
# normalise to the same identifier (policies/normalise.py), which is what links forces.


def _grouped(local: str) -> str:
    """Local numbers as printed: `900123`, `496 0123`, `7946 0123`."""
    if len(local) == 7:
        return f"{local[:3]} {local[3:]}"
    if len(local) == 8:
        return f"{local[:4]} {local[4:]}"
    return local


def phone_text(index: int, style: int) -> str:
    prefix, first = _DRAMA_RANGES[index // 1000]
    local = str(first + index % 1000)
    international = prefix[1:] + " " + _grouped(local)
    match style % 6:
        case 0:
            return prefix + " " + _grouped(local)
        case 1:
            return "+44 " + international
        case 2:
            return "+44" + international.replace(" ", "")
        case 3:
            return prefix + local
        case 4:
            return "0044 " + international
        case _:
            return f"+44 (0){international}"


PHONE_STYLES = 6


def email_text(local: str, style: int) -> str:
    address = f"{local}@example.org"
    match style % 3:
        case 0:
            return address
        case 1:
            return address.lower()
        case _:
            return address.upper()


EMAIL_STYLES = 3


def imei_text(body: str, style: int) -> str:
    full = body + luhn_digit(body)
    match style % 5:
        case 0:
            return full
        case 1:
            return f"{full[:2]}-{full[2:8]}-{full[8:14]}-{full[14]}"
        case 2:
            return f"{full[:2]} {full[2:8]} {full[8:14]} {full[14]}"
        case 3:
            return body
        case _:
            return f"{full[:8]}/{full[8:14]}/{full[14]}"


IMEI_STYLES = 5


def ip_text(index: int, style: int) -> str:
    if index < IPV4_SPACE:
        address = f"{_TEST_NETS[index // 256]}.{index % 256}"
        return address if style % 2 == 0 else "::ffff:" + address
    k = index - IPV4_SPACE
    groups = [0x2001, 0xDB8, (k >> 32) & 0xFFFF, (k >> 16) & 0xFFFF, k & 0xFFFF, 0, 0, 0x1]
    if style % 2 == 0:
        return ":".join(f"{g:x}" for g in groups[:5]) + "::1"
    return ":".join(f"{g:04X}" for g in groups)


IP_STYLES = 2


def hash_text(value: str, style: int) -> str:
    return value.upper() if style % 2 else value


def series_text(number: int, style: int) -> str:
    return (f"SERIES-{number:04d}", f"series-{number:04d}", f"Series-{number:04d}")[style % 3]


def handle_text(handle: str, style: int) -> str:
    return (handle, "@" + handle, handle.upper())[style % 3]


def postcode_text(index: int) -> str:
    district, rest = divmod(index, 10 * len(_POSTCODE_LETTERS) ** 2)
    sector, units = divmod(rest, len(_POSTCODE_LETTERS) ** 2)
    first, second = divmod(units, len(_POSTCODE_LETTERS))
    letters = _POSTCODE_LETTERS[first] + _POSTCODE_LETTERS[second]
    return f"ZZ{district + 10} {sector}{letters}"


def pnc_text(year: int, serial: int, style: int) -> str:
    letter = _PNC_LETTERS[int(f"{year % 100:02d}{serial:07d}") % 23]
    if style % 2 == 0:
        return f"{year}/{serial:07d}{letter}"
    return f"{year % 100:02d}/{serial}{letter}"


# --- identities ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Person:
    given: str
    family: str
    born: str | None
    pnc: tuple[int, int] | None  # year, serial
    phone: int | None  # index into the drama ranges
    email: str | None  # local part
    postcode: int | None
    style: int  # how the force that first held this person wrote it


@dataclass(slots=True)
class Device:
    kind: str
    imei: str | None  # 14-digit body
    make: str | None
    serial: str | None
    style: int


@dataclass(slots=True)
class Account:
    platform: str
    handle: str
    style: int


@dataclass(slots=True)
class Image:
    sha1: str | None
    md5: str | None
    category: str
    style: int


class SharedPool:
    """The latest `size` identities each force held; overlap picks another force's from here.

    A ring buffer, so memory stays flat however many cases the region has."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: list[tuple[int, object]] = []
        self._next = 0

    def add(self, force: int, item: object) -> None:
        if len(self._items) < self._size:
            self._items.append((force, item))
        else:
            self._items[self._next] = (force, item)
            self._next = (self._next + 1) % self._size

    def other_force(self, rng: random.Random, force: int) -> object | None:
        """An identity some other force holds, or None when none turns up in a few tries."""
        items = self._items
        if not items:
            return None
        for _ in range(4):
            owner, item = items[int(rng.random() * len(items))]
            if owner != force:
                return item
        return None
