"""Officer contacts are opened only behind the sharing decision: a case the caller may only know
exists gives no contact, and of a case it may know, only the officer fields shown in clear are
opened. Seals already read are used as they are, without asking the graph again."""

from __future__ import annotations

import json
from pathlib import Path

from federation.contacts import officer_contacts
from graph import GraphStore
from graph.case_seals import CaseSeal
from graph.cases import insert_cases
from graph.keyring_store import GraphKeyStore
from policies.audit import AuditLog, MemoryAuditStore
from policies.crypto import FieldCipher
from policies.keys import KeyRing, LocalKeyFile
from policies.principal import Principal
from policies.sharing import PolicyHolder
from tests.graph.builders import case_row

SHARING = """
version: 1
agreements:
  cases:read:
    own:
      fields: {case: {"*": clear}, officer: {"*": clear}}
    other:
      fields: {case: {force: clear}, officer: {"*": clear}}
    pairs:
      - viewer: AS
        owner: GL
        fields: {case: {caseRef: clear}, officer: {name: clear, email: clear, phone: masked}}
"""

OFFICERS = {
    "GL": ("DC Gwen Jones", "gwen.jones@gl.example", "01452 000111"),
    "WI": ("DS Ünal Wright", "u.wright@wi.example", "01225 000222"),
}
ANALYST_AS = Principal("analyst-AS", frozenset({"cases:read"}), "AS", "tok")


async def sealed_cases(store: GraphStore, cipher: FieldCipher) -> None:
    rows = []
    for force, (name, email, phone) in OFFICERS.items():
        ref = f"{force}-1"
        sealed = {
            f"/officer/{field}": await cipher.seal(force, ref, f"/officer/{field}", value)
            for field, value in (("name", name), ("email", email), ("phone", phone))
        }
        row = case_row(force, ref, persons=("p-shared",))
        row["props"]["sealed"] = json.dumps(sealed)
        rows.append(row)
    await insert_cases(store, rows)


async def test_contacts_open_only_what_the_agreement_shows_in_clear(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    cipher = FieldCipher(KeyRing(GraphKeyStore(graph_store), LocalKeyFile(tmp_path / "kek.key")))
    (tmp_path / "sharing.yaml").write_text(SHARING)
    sharing = PolicyHolder(tmp_path / "sharing.yaml", AuditLog(MemoryAuditStore()))
    await sealed_cases(graph_store, cipher)

    contacts = await officer_contacts(
        graph_store, cipher, sharing, ANALYST_AS, ["GL:GL-1", "WI:WI-1", "DO:DO-9"]
    )

    # GL's case is known in full, its phone only masked; WI's case only exists for AS.
    name, email, _ = OFFICERS["GL"]
    assert contacts == {"GL:GL-1": f"{name} <{email}>"}
    own = Principal("analyst-WI", frozenset({"cases:read"}), "WI", "tok")
    wi = await officer_contacts(graph_store, cipher, sharing, own, ["WI:WI-1"])
    assert wi == {"WI:WI-1": "DS Ünal Wright <u.wright@wi.example> 01225 000222"}


async def test_seals_already_read_are_not_read_again(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    cipher = FieldCipher(KeyRing(GraphKeyStore(graph_store), LocalKeyFile(tmp_path / "kek.key")))
    (tmp_path / "sharing.yaml").write_text(SHARING)
    sharing = PolicyHolder(tmp_path / "sharing.yaml", AuditLog(MemoryAuditStore()))
    # A case the graph does not hold: its contact can only come from the seal handed over.
    name = "DC Read Before"
    sealed = {"/officer/name": await cipher.seal("GL", "GL-7", "/officer/name", name)}
    read = {"GL:GL-7": CaseSeal("GL:GL-7", "GL", "GL-7", json.dumps(sealed))}

    contacts = await officer_contacts(
        graph_store, cipher, sharing, ANALYST_AS, ["GL:GL-7"], read=read
    )

    assert contacts == {"GL:GL-7": name}
    # A seal of a force AS may only know exists opens nothing, though it would open.
    own = {"/officer/name": await cipher.seal("WI", "WI-7", "/officer/name", name)}
    hidden = {"WI:WI-7": CaseSeal("WI:WI-7", "WI", "WI-7", json.dumps(own))}
    assert (
        await officer_contacts(graph_store, cipher, sharing, ANALYST_AS, ["WI:WI-7"], read=hidden)
        == {}
    )
