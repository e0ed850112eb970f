"""What links across forces, end to end: two forces sync cases through the federation API and an
analyst reads `case { links }`. Placeholders, shared addresses and junk never link two cases;
one mailbox however it is written does (docs/policies.md, "What links")."""

from __future__ import annotations

from typing import Any

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import after_sync_done, data, summary

LINKS = """
query L($caseRef: String!) { case(force: "AS", caseRef: $caseRef) { links { via force caseRef } } }
"""
SUSPECT = {"ref": "P1", "givenName": "Ann", "familyName": "Example", "dateOfBirth": "1980-02-03"}
OTHER_SUSPECT = {
    "ref": "P1",
    "givenName": "Bob",
    "familyName": "Sample",
    "dateOfBirth": "1975-06-07",
}


async def sync(hub: Hub, force: str, number: int, **fields: Any) -> dict[str, Any]:
    """Sync one case of `force`; the hub's answer for it."""
    response = await hub.sync(f"force-{force}", [summary(force, number, **fields)])
    assert response.status_code in (200, 422), response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


async def links_between(hub: Hub, as_fields: dict[str, Any], gl_fields: dict[str, Any]) -> set[str]:
    """Sync an AS and a GL case, both applied; the kinds of entity that link them."""
    assert (await sync(hub, "AS", 1, **as_fields))["status"] == "applied"
    assert (await sync(hub, "GL", 1, **gl_fields))["status"] == "applied"
    await after_sync_done(hub)
    case = (await data(hub, "analyst-AS", LINKS, {"caseRef": "AS-T-0001"}))["case"]
    assert all((link["force"], link["caseRef"]) == ("GL", "GL-T-0001") for link in case["links"])
    return {link["via"] for link in case["links"]}


def suspect(**identifiers: Any) -> list[dict[str, Any]]:
    return [SUSPECT | identifiers]


def other_suspect(**identifiers: Any) -> list[dict[str, Any]]:
    return [OTHER_SUSPECT | identifiers]


async def test_phones_with_a_hash_are_rejected_with_their_pointer_not_cut_short(hub: Hub) -> None:
    result = await sync(hub, "AS", 1, suspects=suspect(phones=["07911 100004#"]))
    assert result["status"] == "rejected"
    [error] = result["errors"]
    assert error["path"] == "/suspects/0/phones/0"
    assert "07911" not in error["message"]
    result = await sync(hub, "GL", 1, suspects=other_suspect(phones=["07911 100005#"]))
    assert result["status"] == "rejected"


async def test_a_us_number_without_country_code_does_not_meet_a_london_one(hub: Hub) -> None:
    found = await links_between(
        hub,
        {"suspects": suspect(phones=["(202) 555-0177"])},
        {"suspects": other_suspect(phones=["020 2555 0177"])},
    )
    assert found == set()


async def test_different_people_sharing_a_postcode_do_not_link(hub: Hub) -> None:
    found = await links_between(
        hub,
        {"suspects": suspect(postcodes=["BS1 4DJ"])},
        {"suspects": other_suspect(postcodes=["bs14dj"])},
    )
    assert found == set()


async def test_private_loopback_and_unspecified_addresses_do_not_link(hub: Hub) -> None:
    shared = [{"address": a} for a in ("192.168.1.1", "127.0.0.1", "0.0.0.0", "fe80::1")]  # noqa: S104
    assert await links_between(hub, {"ipAddresses": shared}, {"ipAddresses": shared}) == set()


async def test_a_public_address_links(hub: Hub) -> None:
    shared = [{"address": "81.2.69.160"}]
    found = await links_between(hub, {"ipAddresses": shared}, {"ipAddresses": shared})
    assert found == {"IP_ADDRESS"}


async def test_placeholder_devices_and_empty_file_hashes_do_not_link(hub: Hub) -> None:
    placeholders = {
        "devices": [
            {"ref": "D1", "type": "PHONE", "imei": "000000000000000"},
            {"ref": "D2", "type": "COMPUTER", "make": "Apple", "serial": "0000"},
            {"ref": "D3", "type": "STORAGE", "make": "Apple", "serial": "N/A"},
        ],
        "media": [
            {"sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
            {"md5": "d41d8cd98f00b204e9800998ecf8427e"},
        ],
    }
    assert await links_between(hub, placeholders, placeholders) == set()


async def test_an_email_account_meets_the_same_address_on_a_suspect(hub: Hub) -> None:
    found = await links_between(
        hub,
        {"accounts": [{"ref": "A1", "platform": "email", "handle": "Ann.Example@example.org"}]},
        {"suspects": other_suspect(emails=["ann.example@EXAMPLE.org"])},
    )
    assert found == {"PERSON"}


async def test_gmail_addresses_meet_without_dots_or_plus_tags(hub: Hub) -> None:
    found = await links_between(
        hub,
        {"suspects": suspect(emails=["ann.example+chat@gmail.com"])},
        {"suspects": other_suspect(emails=["annexample@googlemail.com"])},
    )
    assert found == {"PERSON"}
