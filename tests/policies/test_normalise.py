"""Normalisers and blind indexes: every notation of one identifier gives one index, different
identifiers give different indexes, and errors never repeat the value."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import stat
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from policies import normalise as n
from policies.blind_index import BlindIndex, load_linking_key
from policies.linking import load_linking_rules
from policies.scopes import PolicyFileError

KEY = bytes(range(32))
INDEX = BlindIndex(KEY)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

separators = st.sampled_from(["", " ", "-", "  "])


def spaced(digits: str, data: st.DataObject, allowed: str = " -") -> str:
    """`digits` with random separators between them."""
    out = []
    for digit in digits:
        out.append(digit)
        out.append(data.draw(st.sampled_from(["", "", "", *allowed])))
    return "".join(out).strip(" -/")


def random_case(text: str, data: st.DataObject) -> str:
    flags = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(text, flags, strict=True))


def in_use(national: str) -> bool:
    number = phonenumbers.PhoneNumber(country_code=44, national_number=int(national))
    return bool(phonenumbers.is_valid_number(number))


# UK mobile numbers in use: 07 then 9 digits (national significant number 7xxxxxxxxx).
uk_mobiles = st.from_regex(r"\A7[4-9][0-9]{8}\Z").filter(in_use)


@PROPERTY
@given(nsn=uk_mobiles, data=st.data())
def test_phone_notations_give_one_index(nsn: str, data: st.DataObject) -> None:
    notations = [
        "0" + spaced(nsn, data),
        "+44" + spaced(nsn, data),
        "+44 (0)" + spaced(nsn, data),
        "0044 " + spaced(nsn, data),
        "+44-" + nsn,
    ]
    assert {INDEX.index("phone", notation) for notation in notations} == {
        INDEX.of("phone", "+44" + nsn)
    }


@PROPERTY
@given(a=uk_mobiles, b=uk_mobiles)
def test_different_phones_give_different_indexes(a: str, b: str) -> None:
    assert (INDEX.index("phone", "0" + a) == INDEX.index("phone", "0" + b)) == (a == b)


local_parts = st.from_regex(r"\A[a-z0-9]{1,10}(\.[a-z0-9]{1,8}){0,2}\Z")
# Not the providers whose addresses lose dots or a `+tag` (see test_mailbox_...).
domains = st.from_regex(r"\A[a-z][a-z0-9]{0,10}\.(org|police\.uk|net|example)\Z")


@PROPERTY
@given(local=local_parts, domain=domains, data=st.data())
def test_email_notations_give_one_index(local: str, domain: str, data: st.DataObject) -> None:
    address = f"{local}@{domain}"
    notation = random_case(address, data)
    padded = data.draw(st.sampled_from(["", " ", "\t"])) + notation + " "
    assert INDEX.index("email", padded) == INDEX.of("email", address)


@PROPERTY
@given(a=st.tuples(local_parts, domains), b=st.tuples(local_parts, domains))
def test_different_emails_give_different_indexes(a: tuple[str, str], b: tuple[str, str]) -> None:
    same = INDEX.index("email", "@".join(a)) == INDEX.index("email", "@".join(b))
    assert same == (a == b)


RUNS = "0123456789" * 4


def placeholder(digits: str) -> bool:
    return len(set(digits)) == 1 or digits in RUNS or digits in RUNS[::-1]


imei_bodies = st.text(alphabet=string.digits, min_size=14, max_size=14).filter(
    lambda body: not placeholder(body)
)


@PROPERTY
@given(body=imei_bodies, data=st.data())
def test_imei_notations_give_one_index(body: str, data: st.DataObject) -> None:
    full = body + luhn.calc_check_digit(body)
    notations = [
        body,
        full,
        spaced(full, data, " -/"),
        f"{full[:2]}-{full[2:8]}-{full[8:14]}-{full[14]}",
        f"{body[:8]} {body[8:]}",
        body + "07",  # IMEISV: the same device's body with a software version
    ]
    assert {INDEX.index("imei", notation) for notation in notations} == {INDEX.of("imei", body)}


@PROPERTY
@given(a=imei_bodies, b=imei_bodies)
def test_different_imeis_give_different_indexes(a: str, b: str) -> None:
    assert (INDEX.index("imei", a) == INDEX.index("imei", b)) == (a == b)


@PROPERTY
@given(body=imei_bodies)
def test_imei_with_a_wrong_check_digit_is_refused(body: str) -> None:
    wrong = str((int(luhn.calc_check_digit(body)) + 1) % 10)
    with pytest.raises(n.InvalidIdentifier) as error:
        n.imei(body + wrong)
    assert body not in str(error.value)


def routable(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@PROPERTY
@given(address=st.ip_addresses().filter(routable), data=st.data())
def test_ip_notations_give_one_index(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, data: st.DataObject
) -> None:
    canonical = str(address)
    notations = [str(address), f" {address} "]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        canonical = str(address.ipv4_mapped)  # one host, whichever way it was written
        notations.append(canonical)
    if isinstance(address, ipaddress.IPv6Address):
        notations += [address.exploded, address.exploded.upper(), f"[{address}]"]
    else:
        notations.append(f"::ffff:{address}")
    assert {INDEX.index("ip", notation) for notation in notations} == {INDEX.of("ip", canonical)}


@PROPERTY
@given(a=st.ip_addresses(v=4).filter(routable), b=st.ip_addresses(v=4).filter(routable))
def test_different_ips_give_different_indexes(
    a: ipaddress.IPv4Address, b: ipaddress.IPv4Address
) -> None:
    assert (INDEX.index("ip", str(a)) == INDEX.index("ip", str(b))) == (a == b)


@PROPERTY
@given(digest=st.binary(min_size=20, max_size=20), other=st.binary(min_size=20, max_size=20))
def test_hash_notations_give_one_index(digest: bytes, other: bytes) -> None:
    text = digest.hex()
    assert INDEX.index("sha1", text.upper()) == INDEX.index("sha1", f" {text} ")
    assert INDEX.index("md5", text[:32].upper()) == INDEX.of("md5", text[:32])
    assert (INDEX.index("sha1", text) == INDEX.index("sha1", other.hex())) == (digest == other)
    # One digest as SHA-1 and as MD5 text are different identifiers.
    assert INDEX.of("sha1", text) != INDEX.of("md5", text)


@PROPERTY
@given(
    year=st.integers(0, 99),
    serial=st.integers(1, 9_999_999),
    letter=st.sampled_from(string.ascii_uppercase),
    data=st.data(),
)
def test_pnc_notations_give_one_index(
    year: int, serial: int, letter: str, data: st.DataObject
) -> None:
    yy = f"{year:02d}"
    notations = [
        f"{yy}/{serial}{letter}",
        f"20{yy}/{serial:07d}{letter}",
        f"19{yy}/{serial:07d}{letter.lower()}",
        f"{yy} / {serial:07d} {letter}",
    ]
    expected = f"{yy}/{serial}{letter}"
    assert {n.pnc_id(notation) for notation in notations} == {expected}
    other_serial = serial + 1 if serial < 9_999_999 else serial - 1
    assert n.pnc_id(f"{yy}/{other_serial}{letter}") != expected


def test_pnc_example_from_the_schema() -> None:
    assert n.pnc_id("2019/0123456A") == "19/123456A"


postcodes = st.from_regex(r"\A[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}\Z")


@PROPERTY
@given(code=postcodes, data=st.data())
def test_postcode_notations_give_one_index(code: str, data: st.DataObject) -> None:
    squashed = code.replace(" ", "")
    notations = [code, code.lower(), squashed, random_case(squashed, data), f"  {code}  "]
    assert {n.postcode(notation) for notation in notations} == {code}


names = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)
ACCENTED = str.maketrans("aeiouncAEIOUNC", "áéíóúñçÁÉÍÓÚÑÇ")


@PROPERTY
@given(given_name=names, family=names, day=st.dates(), data=st.data())
def test_person_notations_give_one_index(
    given_name: str, family: str, day: object, data: st.DataObject
) -> None:
    born = str(day)
    plain = n.person(given_name, family, born)
    assert n.person(given_name.translate(ACCENTED), family.upper(), born) == plain
    assert n.person(f"  {random_case(given_name, data)} ", f"\t{family}", born) == plain
    assert n.person(f"{given_name}  {family}", "x", born) == n.person(
        f"{given_name} {family}", "X", born
    )


@PROPERTY
@given(a=st.tuples(names, names, st.dates()), b=st.tuples(names, names, st.dates()))
def test_different_people_give_different_indexes(
    a: tuple[str, str, object], b: tuple[str, str, object]
) -> None:
    same = INDEX.of("person", n.person(a[0], a[1], str(a[2]))) == INDEX.of(
        "person", n.person(b[0], b[1], str(b[2]))
    )
    assert same == ((a[0].lower(), a[1].lower(), a[2]) == (b[0].lower(), b[1].lower(), b[2]))


handles = st.from_regex(r"\A[a-z0-9_.]{1,20}\Z")


@PROPERTY
@given(handle=handles, platform=st.sampled_from(["snapchat", "discord", "telegram"]))
def test_account_notations_give_one_index(handle: str, platform: str) -> None:
    expected = f"{platform}:{handle}"
    assert n.account(platform.upper(), f"@{handle.upper()}") == expected
    assert n.account(f" {platform} ", f" {handle} ") == expected


def test_email_accounts_meet_email_addresses() -> None:
    assert n.account("Email", "J.Doe@Example.com") == f"email:{n.email('j.doe@example.com')}"


def test_series_and_serials_fold_case_and_space() -> None:
    assert n.series_ref("  Series-7 ") == n.series_ref("SERIES-7") == "series-7"
    assert n.series_ref("Blue  Lagoon") == n.series_ref("blue lagoon")
    assert n.device_serial("Apple", "f2l-xq 1") == n.device_serial(" APPLE ", "F2LXQ1")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("phone", "not a number at all"),
        ("phone", "+44 12"),
        ("email", "jane.example-at-mail.example.org"),
        ("email", "two@@signs.example.org"),
        ("imei", "35209900176148123456"),
        ("imei", "35-2O99OO-176148"),
        ("ip", "300.1.2.3.example"),
        ("ip", "010.001.002.003"),
        ("sha1", "3f786850e387550fdab836ed7e6dc881de23001"),
        ("md5", "zz175b9c0f1b6a831c399e269772661"),
        ("pnc", "2019-0123456-A-extra"),
        ("pnc", "19/0000000A"),
        ("postcode", "QQ99 9QQ-extra"),
        ("postcode", "BS1 4CJ"),
        ("series", "Series " * 12),
    ],
)
def test_invalid_identifiers_are_refused_without_repeating_them(kind: str, value: str) -> None:
    with pytest.raises(n.InvalidIdentifier) as error:
        n.postcode(value) if kind == "postcode" else INDEX.index(kind, value)
    assert error.value.kind == kind
    assert value.strip() and value.strip() not in str(error.value)


# Every character the fixed messages use: a value made only of these could be a piece of the
# wording itself (Hypothesis found "ot a phone n" inside "not a phone number").
MESSAGE_ALPHABET = set(string.ascii_letters + string.digits + string.whitespace + ",.:;/-()'")


@PROPERTY
@given(
    value=st.text(min_size=12, max_size=60).filter(
        lambda v: len(v.strip()) >= 12 and not set(v.strip()) <= MESSAGE_ALPHABET
    )
)
def test_errors_never_contain_the_value(value: str) -> None:
    for kind in ("phone", "email", "imei", "ip", "sha1", "pnc", "postcode"):
        try:
            n.postcode(value) if kind == "postcode" else INDEX.index(kind, value)
        except n.InvalidIdentifier as error:
            assert value.strip() not in str(error)


def test_person_needs_a_real_date() -> None:
    with pytest.raises(n.InvalidIdentifier, match="YYYY-MM-DD"):
        n.person("John", "Doe", "12/04/1981")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(n.InvalidIdentifier):
        INDEX.index("shoe-size", "44")


def test_kinds_keys_and_encodings_separate_indexes(tmp_path: Path) -> None:
    assert INDEX.of("email", "a@b.example") != INDEX.of("account", "a@b.example")
    other = BlindIndex(bytes(reversed(KEY)))
    assert other.of("phone", "+447700900123") != INDEX.of("phone", "+447700900123")
    hexed = INDEX.of("phone", "+447700900123")
    b64 = BlindIndex(KEY, encoding="base64url").of("phone", "+447700900123")
    assert len(hexed) == 64 and int(hexed, 16) >= 0
    assert len(b64) == 43 and "=" not in b64
    with pytest.raises(ValueError):
        BlindIndex(b"short")


def test_linking_key_file_is_private_and_stable(tmp_path: Path) -> None:
    first = load_linking_key(tmp_path)
    path = tmp_path / "keys" / "linking.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_linking_key(tmp_path) == first
    assert len(first) == 32


# Fast paths: plain ASCII e-mail addresses and UK numbers skip the libraries' parsers. Whatever
# the normalisers answer must be what the libraries answer for the same text: held here against
# references written with the libraries alone, and each fast path shown taken by making the
# libraries' parsers unavailable while it runs.
FAST_PATH = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
email_like = st.one_of(
    st.from_regex(
        r"\A[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]{0,66}@"
        r"([A-Za-z0-9\-]{0,64}\.){0,3}(com|org|uk|local|localhost|arpa|test|x|c0m|xn--p1ai)\Z"
    ),
    st.text(alphabet="aZ9.-_@+\"'() é", min_size=1, max_size=30),
    st.tuples(local_parts, domains).map(lambda t: "@".join(t)),
)
phone_like = st.one_of(
    st.from_regex(r"\A(\+44|0044|0|\+44 \(0\)|\+1|\+)[ \-]{0,2}[0-9 \-]{6,16}\Z"),
    st.from_regex(r"\A(\+44|0)[ \-]?[0-9]([ \-]?[0-9]){8,10}\Z"),
    st.text(alphabet="0123456789 +-()x", min_size=1, max_size=20),
)
STRICT = n.LinkingRules(example_ranges=False)  # no Ofcom drama ranges: phonenumbers decides alone
# What the phone field accepts at all (its docstring): digits, spaces, ()-./ and a leading +.
PHONE_TEXT = re.compile(r"\+?[0-9 ().\-/]*[0-9][0-9 ().\-/]*")


@contextmanager
def without_parsers() -> Iterator[None]:
    """phonenumbers' and email-validator's parsers fail while this runs: a normaliser that still
    answers took its fast path."""

    def unavailable(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("the library's parser was called")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(phonenumbers, "parse", unavailable)
        patch.setattr(n, "validate_email", unavailable)
        yield


def reference_phone(text: str, rules: n.LinkingRules) -> str:
    """The phone normaliser as written against phonenumbers alone (without drama ranges)."""
    try:
        number = phonenumbers.parse(text, rules.country)
    except phonenumbers.NumberParseException:
        raise n.InvalidIdentifier("phone", "not a phone number") from None
    if number.extension or not phonenumbers.is_possible_number(number):
        raise n.InvalidIdentifier("phone", "not a possible phone number")
    if not phonenumbers.is_valid_number(number):
        raise n.Unlinkable("phone", "not a number in use")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def reference_email(text: str) -> str:
    """The e-mail normaliser as written against email-validator alone (for mailboxes that no
    provider rule reduces)."""
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise n.InvalidIdentifier("email", "not an e-mail address") from None


def kind_of(normaliser: Callable[[str], str], text: str) -> tuple[str, str | None]:
    """("ok", the value), or the error's class: the reasons' wording may differ."""
    try:
        return "ok", normaliser(text)
    except n.InvalidIdentifier as error:
        return type(error).__name__, None


REDUCED_DOMAINS = ("gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "icloud.com")


@FAST_PATH
@given(text=email_like)
def test_email_agrees_with_email_validator(text: str) -> None:
    text = text.strip()
    assume(text and "+" not in text and not text.lower().endswith(REDUCED_DOMAINS))
    assert kind_of(n.email, text) == kind_of(reference_email, text)


@PROPERTY
@given(local=local_parts, domain=domains, data=st.data())
def test_plain_addresses_take_the_email_fast_path(
    local: str, domain: str, data: st.DataObject
) -> None:
    address = random_case(f"{local}@{domain}", data)
    assume(not domain.lower().endswith(REDUCED_DOMAINS) and "+" not in local)
    with without_parsers():
        assert n.email(address) == address.lower()
    assert reference_email(address) == address.lower()


@pytest.mark.parametrize(
    "address", ["a@b.local", "x@mail.localhost", "a@xn--p1ai.com", "a@ab--cd.com", "a..b@c.org"]
)
def test_unusual_addresses_take_the_slow_path(address: str) -> None:
    with without_parsers(), pytest.raises(AssertionError, match="parser was called"):
        n.email(address)


@FAST_PATH
@given(text=phone_like)
def test_phone_agrees_with_phonenumbers(text: str) -> None:
    text = text.strip()
    assume(PHONE_TEXT.fullmatch(text))
    assert kind_of(lambda t: n.phone(t, STRICT), text) == kind_of(
        lambda t: reference_phone(t, STRICT), text
    )


@FAST_PATH
@given(text=phone_like)
def test_a_phone_in_a_drama_range_is_the_number_phonenumbers_reads(text: str) -> None:
    kind, value = kind_of(n.phone, text)
    if kind == "ok":
        number = phonenumbers.parse(text.strip(), "GB")
        assert value == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


uk_ten_digit = st.from_regex(r"\A[1237][0-9]{9}\Z").filter(in_use)


@PROPERTY
@given(nsn=uk_ten_digit, data=st.data())
def test_uk_ten_digit_numbers_take_the_phone_fast_path(nsn: str, data: st.DataObject) -> None:
    notations = ("0" + spaced(nsn, data), "+44" + spaced(nsn, data))
    with without_parsers():
        assert [n.phone(notation) for notation in notations] == ["+44" + nsn] * 2
    # Read in another country, the national notation is not this UK number.
    assert kind_of(lambda t: n.phone(t, n.LinkingRules(country="US")), "0" + nsn) != (
        "ok",
        "+44" + nsn,
    )


@FAST_PATH
@given(text=st.text(alphabet=string.printable + "é\u00a0\u2003İ", max_size=30))
def test_fold_of_ascii_text_matches_the_unicode_path(text: str) -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert n.fold(text) == " ".join(without_marks.casefold().split())


# What links: well-formed values that name no one person, device or file do not link
# (docs/policies.md, "What links"); junk that is no identifier is refused.


@pytest.mark.parametrize(
    "written", ["07911 100004#", "07911 100005#", "07911 1OOOO4", "07911 100004 ext 12", "*0791110"]
)
def test_phones_with_hashes_letters_or_junk_are_refused_not_truncated(written: str) -> None:
    with pytest.raises(n.InvalidIdentifier) as error:
        n.phone(written)
    assert not isinstance(error.value, n.Unlinkable)
    assert written not in str(error.value)


@pytest.mark.parametrize("written", ["(202) 555-0177", "020 2555 0177", "01632 96"])
def test_phones_not_in_use_in_the_region_do_not_link(written: str) -> None:
    with pytest.raises(n.Unlinkable):
        INDEX.index("phone", written)


def test_phones_without_a_country_code_are_read_in_the_regions_country() -> None:
    london = n.phone("020 7946 0177")
    assert n.phone("+1 202 555 0177") == "+12025550177" != london
    assert n.phone("(202) 555-0177", n.LinkingRules(country="US")) == "+12025550177"
    with pytest.raises(n.InvalidIdentifier):
        n.phone("020 7946 0177", n.LinkingRules(country="US"))


def test_drama_numbers_link_only_where_example_ranges_are_allowed() -> None:
    assert n.phone("07700 900123") == n.phone("+44 7700-900123") == "+447700900123"
    with pytest.raises(n.Unlinkable):
        n.phone("07700 900123", n.LinkingRules(example_ranges=False))


@pytest.mark.parametrize(
    "address",
    ["192.168.1.1", "10.0.0.1", "172.16.5.4", "127.0.0.1", "0.0.0.0", "169.254.1.1", "224.0.0.1",  # noqa: S104
     "100.64.0.1", "255.255.255.255", "240.0.0.1", "::1", "::", "fe80::1", "fe80::1%eth0",
     "fd00::1", "ff02::1", "::ffff:192.168.1.1"],
)  # fmt: skip
def test_private_reserved_and_special_addresses_do_not_link(address: str) -> None:
    with pytest.raises(n.Unlinkable) as error:
        INDEX.index("ip", address)
    assert address not in str(error.value)


def test_private_ranges_link_only_where_the_policy_allows() -> None:
    private = BlindIndex(KEY, rules=n.LinkingRules(private_addresses=True))
    for address in ("192.168.1.1", "10.0.0.1", "172.16.5.4", "fd00::1"):
        assert private.index("ip", address) == INDEX.of("ip", address)
    for address in ("127.0.0.1", "0.0.0.0", "169.254.1.1", "224.0.0.1", "::1"):  # noqa: S104
        with pytest.raises(n.Unlinkable):
            private.index("ip", address)


def test_documentation_addresses_link_only_where_example_ranges_are_allowed() -> None:
    assert n.ip_address("192.0.2.7") == "192.0.2.7"
    assert n.ip_address("2001:db8::1") == "2001:db8::1"
    with pytest.raises(n.Unlinkable):
        n.ip_address("192.0.2.7", n.LinkingRules(example_ranges=False))
    assert n.ip_address("81.2.69.160", n.LinkingRules(example_ranges=False)) == "81.2.69.160"


def with_check_digit(body: str) -> str:
    return body + luhn.calc_check_digit(body)


@pytest.mark.parametrize(
    "written",
    ["000000000000000", "00000000000000", "00-000000-000000-0", with_check_digit("1" * 14),
     with_check_digit("12345678901234"), with_check_digit("98765432109876")],
)  # fmt: skip
def test_placeholder_imeis_do_not_link(written: str) -> None:
    with pytest.raises(n.Unlinkable):
        INDEX.index("imei", written)


@pytest.mark.parametrize(
    "serial",
    ["0000", "unknown", "N/A", "n.a.", "None", "123456789", "AAAAAAA", "AB12", "Not known"],
)
def test_placeholder_serials_do_not_link(serial: str) -> None:
    with pytest.raises(n.Unlinkable):
        n.device_serial("Apple", serial)
    assert n.device_serial("Apple", "C02XK1ZJJG5H") == "apple:C02XK1ZJJG5H"


@pytest.mark.parametrize(
    ("kind", "digest"),
    [("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
     ("sha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"),
     ("md5", "d41d8cd98f00b204e9800998ecf8427e")],
)  # fmt: skip
def test_digests_of_the_empty_file_do_not_link(kind: str, digest: str) -> None:
    with pytest.raises(n.Unlinkable):
        INDEX.index(kind, digest)


def test_gmail_ignores_dots_and_plus_tags() -> None:
    mailbox = INDEX.index("email", "johnsmith@gmail.com")
    for written in (
        "john.smith+x@gmail.com",
        "John.Smith@GoogleMail.com",
        "j.o.h.n.smith@gmail.com",
    ):
        assert INDEX.index("email", written) == mailbox


def test_plus_tags_are_dropped_only_where_the_provider_ignores_them() -> None:
    assert n.email("Jane.Doe+chat@outlook.com") == "jane.doe@outlook.com"
    assert n.email("jane.doe+chat@example.org") == "jane.doe+chat@example.org"
    assert n.email("jane.doe@example.org") != n.email("janedoe@example.org")
    with pytest.raises(n.InvalidIdentifier):
        n.email("+tag@gmail.com")


def test_email_accounts_are_keyed_as_the_email_address() -> None:
    assert n.account_key("E-mail", "J.Smith+x@Gmail.com") == ("email", "jsmith@gmail.com")
    assert n.account_key("Snapchat", "@J.Smith") == ("account", "snapchat:j.smith")


def test_postcodes_are_no_linking_kind() -> None:
    with pytest.raises(n.InvalidIdentifier, match="unknown identifier kind"):
        INDEX.index("postcode", "BS1 4DJ")


def test_linking_rules_come_from_linking_yaml(tmp_path: Path) -> None:
    defaults = Path(__file__).parents[2] / "policies" / "defaults" / "linking.yaml"
    assert load_linking_rules(defaults) == n.DEFAULT_RULES
    assert load_linking_rules(tmp_path / "absent.yaml") == n.DEFAULT_RULES
    edited = tmp_path / "linking.yaml"
    edited.write_text(
        defaults.read_text().replace("privateAddresses: false", "privateAddresses: true")
    )
    rules = load_linking_rules(edited)
    assert BlindIndex(KEY, rules=rules).index("ip", "192.168.1.1") == INDEX.of("ip", "192.168.1.1")
    edited.write_text("version: 1\ncountry: Britain\n")
    with pytest.raises(PolicyFileError, match="country"):
        load_linking_rules(edited)


@pytest.mark.parametrize("written", ["07700 900123", "+441632960001", "0113 496 0999"])
def test_drama_numbers_take_the_phone_fast_path(written: str) -> None:
    number = phonenumbers.parse(written, "GB")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    with without_parsers():
        assert n.phone(written) == e164
    # Without the drama ranges a number phonenumbers does not know as in use does not link.
    assert kind_of(lambda t: n.phone(t, STRICT), written) == kind_of(
        lambda t: reference_phone(t, STRICT), written
    )


# Canonical forms: what a normaliser returns, given back to it, comes back unchanged and takes
# the fast path (no phonenumbers parse, no email-validator, no stdnum), with the same answer.
canonical_phones = st.one_of(
    uk_ten_digit.map(lambda nsn: "+44" + nsn),
    st.sampled_from(["+447700900123", "+441632960001", "+441134960999"]),
)


@FAST_PATH
@given(national=st.from_regex(r"\A[1-9][0-9]{9}\Z"))  # a national significant number: no 0 first
def test_a_uk_number_links_exactly_when_phonenumbers_knows_it_in_use(national: str) -> None:
    kind, value = kind_of(lambda t: n.phone(t, STRICT), "+44" + national)
    assert (kind == "ok") == in_use(national)
    if kind == "ok" and national[0] in "1237":
        with without_parsers():
            assert n.phone("+44" + national, STRICT) == value


@PROPERTY
@given(national=st.from_regex(r"\A(1481|1534|1624|7624|7781|7839|7911|7937|74576)[0-9]{5,6}\Z"))
def test_crown_dependency_numbers_agree_with_phonenumbers(national: str) -> None:
    national = national[:10]
    kind, _ = kind_of(lambda t: n.phone(t, STRICT), "+44" + national)
    assert (kind == "ok") == in_use(national)


@FAST_PATH
@given(written=canonical_phones)
def test_canonical_phones_come_back_unchanged_by_the_fast_path(written: str) -> None:
    with without_parsers():
        assert n.phone(written) == written


@PROPERTY
@given(local=local_parts, domain=domains)
def test_canonical_emails_come_back_unchanged(local: str, domain: str) -> None:
    canonical = n.email(f"{local}@{domain}")
    with without_parsers():
        assert n.email(canonical) == canonical


def reference_imei(written: str) -> str:
    """The IMEI normaliser as written against python-stdnum, to hold the faster one to."""
    from stdnum import imei as stdnum_imei
    from stdnum.exceptions import ValidationError

    text = written.strip()
    if not text:
        raise n.InvalidIdentifier("imei", "empty")
    if len(text) > 32:
        raise n.InvalidIdentifier("imei", "too long")
    digits = re.sub(r"[\s\-/.]", "", text)
    if not digits.isdigit() or not digits.isascii():
        raise n.InvalidIdentifier("imei", "must be digits")
    if len(digits) not in (14, 15, 16):
        raise n.InvalidIdentifier("imei", "must have 14, 15 or 16 digits")
    try:
        stdnum_imei.validate(digits)
    except ValidationError:
        raise n.InvalidIdentifier("imei", "check digit does not match") from None
    body, runs = digits[:14], "0123456789" * 5
    if len(set(body)) == 1 or body in runs or body in runs[::-1]:
        raise n.Unlinkable("imei", "a placeholder (one digit repeated or a run of digits)")
    return digits[:14]


def outcome(normaliser: object, written: str) -> tuple[str, str]:
    try:
        return "ok", normaliser(written)  # type: ignore[operator]
    except n.InvalidIdentifier as error:
        return type(error).__name__, error.reason


imei_like = st.one_of(
    st.from_regex(r"\A[0-9]{13,17}\Z"),
    st.from_regex(r"\A[0-9]{2}[ \-/.]?[0-9]{6}[ \-/.]?[0-9]{6}[ \-/.]?[0-9]{0,2}\Z"),
    st.text(alphabet="0123456789 -/.a\u0661", min_size=1, max_size=20),  # and an Arabic-Indic 1
)


@FAST_PATH
@given(written=imei_like)
def test_imei_normaliser_agrees_with_stdnum(written: str) -> None:
    assert outcome(n.imei, written) == outcome(reference_imei, written)


@FAST_PATH
@given(digits=st.from_regex(r"\A[0-9]{1,20}\Z"))
def test_luhn_check_agrees_with_stdnum(digits: str) -> None:
    assert n.luhn_valid(digits) == (luhn.checksum(digits) == 0)


@PROPERTY
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(sorted(n.NORMALISERS)), st.text(max_size=40)), max_size=6
    )
)
def test_blind_index_is_the_hmac_of_kind_and_text(pairs: list[tuple[str, str]]) -> None:
    """Indexes already in the graph must still match: the value is HMAC-SHA256 under the linking
    key over `kind:normalised`, whatever order kinds are indexed in."""
    import base64
    import hashlib
    import hmac

    url_safe = BlindIndex(KEY, encoding="base64url")
    for kind, text in pairs:
        digest = hmac.new(KEY, f"{kind}:{text}".encode(), hashlib.sha256).digest()
        assert INDEX.of(kind, text) == digest.hex()
        assert url_safe.of(kind, text) == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# Blind indexes are HMAC-SHA256 (RFC 2104) over `kind:normalised`: however `BlindIndex` computes
# them, every index stays the one the graph already holds.


@FAST_PATH
@given(
    key=st.binary(min_size=32, max_size=150),
    kind=st.sampled_from(["phone", "email", "ip", "imei", "account", "pdq", "é"]),
    text=st.text(max_size=80),
)
def test_blind_indexes_are_hmac_sha256_of_kind_and_text(key: bytes, kind: str, text: str) -> None:
    digest = hmac.new(key, f"{kind}:{text}".encode(), hashlib.sha256).digest()
    assert BlindIndex(key).of(kind, text) == digest.hex()
    encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert BlindIndex(key, encoding="base64url").of(kind, text) == encoded


def reference_ip(text: str, rules: n.LinkingRules) -> str:
    """What links of an IP address, by `ipaddress` alone (docs/policies.md, "What links")."""
    address = ipaddress.ip_address(text.strip().strip("[]"))
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address.scope_id:
            raise n.Unlinkable("ip", "link-local")
    documentation = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
    private = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")

    def within(networks: tuple[str, ...]) -> bool:
        return any(address in ipaddress.ip_network(network) for network in networks)

    if (
        (address.is_global and not address.is_multicast)
        or (rules.private_addresses and within(private))
        or (rules.example_ranges and within(documentation))
    ):
        return str(address)
    raise n.Unlinkable("ip", "special-purpose")


def ip_outcome(
    normaliser: Callable[[str, n.LinkingRules], str], text: str, rules: n.LinkingRules
) -> str | type[Exception]:
    """The normalised text, or the kind of refusal (`Unlinkable` or another invalid value)."""
    try:
        result = normaliser(text, rules)
    except n.Unlinkable:
        return n.Unlinkable
    except (n.InvalidIdentifier, ValueError):
        return n.InvalidIdentifier
    return result


ip_rules = st.builds(n.LinkingRules, private_addresses=st.booleans(), example_ranges=st.booleans())
octets = st.one_of(st.integers(0, 255).map(str), st.sampled_from(["00", "01", "256", "999", ""]))


@FAST_PATH
@given(
    address=st.ip_addresses(v=4),
    written=st.sampled_from(["{}", "::ffff:{}", "::FFFF:{}", "[{}]", " {} ", "::fffe:{}"]),
    rules=ip_rules,
)
def test_ipv4_addresses_link_as_ipaddress_reads_them(
    address: ipaddress.IPv4Address, written: str, rules: n.LinkingRules
) -> None:
    text = written.format(address)
    assert ip_outcome(n.ip_address, text, rules) == ip_outcome(reference_ip, text, rules)


@FAST_PATH
@given(parts=st.lists(octets, min_size=3, max_size=5), prefix=st.sampled_from(["", "::ffff:"]))
def test_near_ipv4_text_is_read_as_ipaddress_reads_it(parts: list[str], prefix: str) -> None:
    text = prefix + ".".join(parts)
    rules = n.DEFAULT_RULES
    assert ip_outcome(n.ip_address, text, rules) == ip_outcome(reference_ip, text, rules)


@PROPERTY
@given(nsn=uk_ten_digit, data=st.data())
def test_uk_numbers_with_0_in_brackets_or_00_take_the_phone_fast_path(
    nsn: str, data: st.DataObject
) -> None:
    rules = n.DEFAULT_RULES
    for notation in (
        "+44 (0)" + spaced(nsn, data),
        "+44(0)" + nsn,
        "0044 " + spaced(nsn, data),
        "0044" + nsn,
    ):
        with without_parsers():
            assert n.phone(notation, rules) == "+44" + nsn
        assert reference_phone(notation, STRICT) == "+44" + nsn
