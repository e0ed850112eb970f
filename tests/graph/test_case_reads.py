"""The case read repository on both engines: cases written as the federation API prepares them
come back typed, sealed fields still sealed, every key asked answered once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from federation.prepare import tombstone
from graph import GraphStore
from graph.case_reads import (
    CaseParts,
    CaseReads,
    MediaGrades,
    StoredCase,
    StoredDevice,
    StoredVictim,
)
from graph.case_seals import CaseSeal
from graph.cases import case_key, tombstone_cases, upsert_cases
from graph.queries import intake
from tests.graph.summaries import ENTITY_LISTS, Prepared, bare, entity_keys, millis, two_forces

UNICODE = bare(
    "AS", "AS-UNI-1",
    summary="Résumé : l'enfant 子供 a parlé 🚸",
    officer={"name": "DC Zoë Łukasiewicz", "phone": "+44 117 496 0000"},
    suspects=[{"ref": "S1", "givenName": "Zoë", "familyName": "Ñúñez-Ørsted"}],
    devices=[{"ref": "D1", "type": "CAMERA", "make": "Ōlympus 光学",
              "seizedAt": "2026-11-03T09:00:00Z"}],
    victims=[{"ref": "V1", "identified": True, "ageBand": "4-7", "givenName": "Amélie",
              "safeguarding": [{"referredTo": "NSPCC", "referredAt": "2026-11-04T08:00:00Z"},
                               {"referredTo": "MASH", "referredAt": "2026-11-05T08:00:00Z"}]}],
)  # fmt: skip


def key_of(record: dict[str, Any]) -> str:
    return case_key(record["force"], record["caseRef"])


def at_pointer(record: dict[str, Any], pointer: str) -> Any:
    value: Any = record
    for part in pointer.lstrip("/").split("/"):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def device(index: int, item: dict[str, Any]) -> StoredDevice:
    return StoredDevice(
        index=index, ref=item["ref"], type=item["type"], make=item.get("make"),
        seized_at=millis(item["seizedAt"]) if item.get("seizedAt") else None,
        examined_at=millis(item["examinedAt"]) if item.get("examinedAt") else None,
    )  # fmt: skip


def expected_case(record: dict[str, Any]) -> StoredCase:
    """What the repository should say of a record, figured from the record alone (bar `sealed`,
    checked by opening it)."""
    instant = {name: record.get(name) for name in ("lastActivityAt", "closedAt")}
    return StoredCase(
        key=key_of(record), force=record["force"], case_ref=record["caseRef"],
        version=record["version"], risk_level=record["risk"]["level"], status=record["status"],
        referral_source=record["referral"]["source"],
        received_at=millis(record["referral"]["receivedAt"]),
        opened_at=millis(record["openedAt"]), enforcement_at=None,
        last_activity_at=millis(instant["lastActivityAt"]) if instant["lastActivityAt"] else None,
        closed_at=millis(instant["closedAt"]) if instant["closedAt"] else None,
        offences=tuple(record.get("offences") or ()), has_officer="officer" in record,
        suspect_count=len(record.get("suspects") or []),
        device_count=len(record.get("devices") or []),
        device_items=tuple(device(i, d) for i, d in enumerate(record.get("devices") or [])),
        sealed={},
    )  # fmt: skip


async def test_cases_come_back_typed_with_their_fields_still_sealed(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    prepared = Prepared.under(tmp_path)
    first, _ = two_forces()
    await prepared.write(graph_store, first, UNICODE)
    reads = CaseReads(graph_store)

    found = await reads.cases([key_of(first), key_of(UNICODE), "AS:nothing-here"])

    assert set(found) == {key_of(first), key_of(UNICODE)}
    for record in (first, UNICODE):
        stored = found[key_of(record)]
        assert replace(stored, sealed={}) == expected_case(record)
        assert {"/officer/name", "/summary", "/suspects/0/givenName"} <= set(stored.sealed)
        for pointer, ciphertext in stored.sealed.items():
            plain = str(at_pointer(record, pointer))
            assert plain not in ciphertext
            opened = await prepared.cipher.open(record["force"], record["caseRef"], pointer,
                                                ciphertext)  # fmt: skip
            assert opened == plain
    assert found[key_of(UNICODE)].device_items == (
        StoredDevice(0, "D1", "CAMERA", "Ōlympus 光学", millis("2026-11-03T09:00:00Z")),
    )


async def test_a_removed_case_is_gone_and_a_later_version_replaces_the_earlier(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    prepared = Prepared.under(tmp_path)
    first, second = two_forces()
    await prepared.write(graph_store, first, second)
    newer = second | {"version": second["version"] + 1, "status": "ENFORCED", "suspects": []}
    await prepared.write(graph_store, newer)
    gone = tombstone(first | {"version": first["version"] + 1})
    assert await tombstone_cases(graph_store, [gone]) == {key_of(first)}
    reads = CaseReads(graph_store)

    found = await reads.cases([key_of(first), key_of(second)])

    assert list(found) == [key_of(second)]
    assert found[key_of(second)].version == newer["version"]
    assert found[key_of(second)].status == "ENFORCED"
    assert found[key_of(second)].suspect_count == 0
    assert (await reads.parts([key_of(second)]))[key_of(second)].suspect_refs == {}
    keys = [key_of(first)]
    empty = CaseParts(suspect_refs={}, devices={})
    assert await reads.parts(keys) == {key_of(first): empty}
    assert await reads.victims(keys) == {key_of(first): []}
    assert await reads.links(keys) == {key_of(first): []}
    assert await reads.media_graded_elsewhere(keys) == {key_of(first): []}


async def test_parts_victims_and_images_answer_every_key_asked(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    prepared = Prepared.under(tmp_path)
    first, second = two_forces()
    empty = bare("GL", "GL/26/0001")
    await prepared.write(graph_store, first, second, empty, UNICODE)
    reads = CaseReads(graph_store)
    keys = [key_of(r) for r in (first, second, empty, UNICODE)] + ["GL:unknown"]

    parts = await reads.parts(keys)
    victims = await reads.victims(keys)
    media = await reads.media_graded_elsewhere(keys)

    assert list(parts) == list(victims) == list(media) == keys
    for record in (first, second):
        suspects = record["suspects"]
        devices = record["devices"]
        assert parts[key_of(record)] == CaseParts(
            suspect_refs={i: s["ref"] for i, s in enumerate(suspects)},
            devices={i: device(i, d) for i, d in enumerate(devices) if d.get("imei")},
        )
    # Neither suspect nor device has an identifier that links: nothing to read them by.
    nothing = CaseParts(suspect_refs={}, devices={})
    assert parts[key_of(empty)] == parts[key_of(UNICODE)] == parts["GL:unknown"] == nothing

    assert victims[key_of(first)] == [
        StoredVictim(key=f"{key_of(first)}:{v['ref']}", index=i, ref=v["ref"],
                     identified=v["identified"], age_band=v["ageBand"], safeguarding_to=())
        for i, v in enumerate(first["victims"])
    ]  # fmt: skip
    referred_to = tuple(sorted(r["referredTo"] for r in UNICODE["victims"][0]["safeguarding"]))
    assert victims[key_of(UNICODE)] == [
        StoredVictim(key=f"{key_of(UNICODE)}:V1", index=0, ref="V1", identified=True,
                     age_band="4-7", safeguarding_to=referred_to)
    ]  # fmt: skip
    assert victims[key_of(second)] == victims[key_of(empty)] == victims["GL:unknown"] == []

    # The image both forces hold: graded A by one, not yet by the other.
    shared = first["media"][0]
    assert shared["sha1"].lower() == second["media"][0]["sha1"].lower()
    assert media[key_of(second)] == [
        MediaGrades(item=0, category=second["media"][0]["category"],
                    elsewhere=(shared["category"],))
    ]  # fmt: skip
    assert sorted(media[key_of(first)], key=lambda m: m.item) == [
        MediaGrades(item=i, category=m["category"], elsewhere=())  # UNGRADED elsewhere: no grade
        for i, m in enumerate(first["media"])
    ]
    assert media[key_of(empty)] == media[key_of(UNICODE)] == media["GL:unknown"] == []


async def test_a_case_synced_before_the_device_list_reads_its_devices_from_their_links(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    prepared = Prepared.under(tmp_path)
    first, _ = two_forces()
    row = await prepared.row(first)
    del row["props"]["deviceItems"]
    assert await upsert_cases(graph_store, [row]) == {row["key"]}
    reads = CaseReads(graph_store)

    stored = (await reads.cases([row["key"]]))[row["key"]]

    assert stored.device_items is None
    assert stored.device_count == len(first["devices"])
    linked = (await reads.parts([row["key"]]))[row["key"]].devices
    assert linked == {0: device(0, first["devices"][0])}


async def test_links_name_the_other_case_with_its_seal_and_the_forces_held(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    prepared = Prepared.under(tmp_path)
    first, second = two_forces()
    rows = await prepared.write(graph_store, first, second, bare("WI", "WI-1"))
    reads = CaseReads(graph_store)
    a, b = key_of(first), key_of(second)
    shared = sorted(
        label
        for kind, (label, _) in ENTITY_LISTS.items()
        if entity_keys(rows[a], kind) & entity_keys(rows[b], kind)
    )
    assert shared  # the two examples are written to link

    links = await reads.links([a, b, "WI:WI-1"])

    sealed = rows[b]["props"]["sealed"]
    other = CaseSeal(key=b, force="GL", case_ref=second["caseRef"], sealed=sealed)
    assert sorted(link.label for link in links[a]) == shared
    assert {(link.case, link.case_force, link.other) for link in links[a]} == {(a, "AS", other)}
    assert {link.other.key for link in links[b]} == {a}
    assert links["WI:WI-1"] == []
    assert all(link.held == frozenset() for link in links[a] + links[b])
    assert await reads.held_forces() == frozenset()

    await graph_store.write(intake.HOLD, {"force": "GL", "now": 1})

    assert await reads.held_forces() == {"GL"}
    assert all(link.held == {"GL"} for link in (await reads.links([a]))[a])
