"""A case last synced before the hub kept each case's device list still shows the devices it
links by an identifier, read from those links; suspects are named by the links they make."""

from __future__ import annotations

from graph.cases import case_key
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, summary, sync_all

PARTS = """
query ($force: String!, $caseRef: String!) {
  case(force: $force, caseRef: $caseRef) {
    suspects { ref }
    devices { ref type make seizedAt examinedAt }
  }
}
"""

# What a hub before the device list left on a case: no `deviceItems` property.
FORGET_DEVICE_LIST = "MATCH (c:Case {key: $key}) REMOVE c.deviceItems"


async def test_devices_come_from_their_links_when_the_case_has_no_list(hub: Hub) -> None:
    record = summary(
        "AS", 7,
        suspects=[{"ref": "S1", "phones": ["07700 900123"]}, {"ref": "S2"}],
        devices=[
            {"ref": "D1", "type": "PHONE", "imei": "35-209900-176148-1", "make": "Nokia",
             "seizedAt": "2026-01-05T10:00:00Z"},
            {"ref": "D2", "type": "STORAGE", "make": "SanDisk"},
        ],
    )  # fmt: skip
    await sync_all(hub, [record])
    variables = {"force": "AS", "caseRef": record["caseRef"]}
    listed = await data(hub, "analyst-AS", PARTS, variables)

    await hub.store.write(FORGET_DEVICE_LIST, {"key": case_key("AS", record["caseRef"])})
    linked = await data(hub, "analyst-AS", PARTS, variables)

    # Only a suspect with an identifier links, so only its reference is known from the links.
    assert listed["case"]["suspects"] == linked["case"]["suspects"] == [
        {"ref": "S1"}, {"ref": None},
    ]  # fmt: skip
    d1, d2 = listed["case"]["devices"]
    assert (d1["ref"], d1["make"], d2["ref"], d2["make"]) == ("D1", "Nokia", "D2", "SanDisk")
    # D1 links by its IMEI, with its fields; D2 has no identifier: still counted, nothing known.
    assert linked["case"]["devices"] == [d1, dict.fromkeys(d2)]
