"""Every device of a case comes back to its own force, identifier or not, on both engines."""

from __future__ import annotations

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, summary, sync_all

DEVICES = """
query ($force: String!, $caseRef: String!) {
  case(force: $force, caseRef: $caseRef) {
    devices { ref type make seizedAt examinedAt }
  }
}
"""


async def test_devices_without_an_identifier_come_back_with_their_fields(hub: Hub) -> None:
    record = summary(
        "AS",
        1,
        suspects=[{"ref": "S1"}],
        devices=[
            {"ref": "D1", "type": "PHONE", "imei": "35-209900-176148-1",
             "seizedAt": "2026-01-05T10:00:00Z", "examinedAt": "2026-02-01T09:00:00Z"},
            {"ref": "D2", "type": "STORAGE", "make": "SanDisk",
             "seizedAt": "2026-01-05T10:00:00Z"},
            {"ref": "D3", "type": "COMPUTER", "usedBy": ["S1"]},
        ],
    )  # fmt: skip
    await sync_all(hub, [record])

    found = await data(hub, "analyst-AS", DEVICES, {"force": "AS", "caseRef": record["caseRef"]})

    assert found["case"]["devices"] == [
        {"ref": "D1", "type": "PHONE", "make": None,
         "seizedAt": "2026-01-05T10:00:00+00:00", "examinedAt": "2026-02-01T09:00:00+00:00"},
        {"ref": "D2", "type": "STORAGE", "make": "SanDisk",
         "seizedAt": "2026-01-05T10:00:00+00:00", "examinedAt": None},
        {"ref": "D3", "type": "COMPUTER", "make": None, "seizedAt": None, "examinedAt": None},
    ]  # fmt: skip
