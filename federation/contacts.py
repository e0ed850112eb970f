"""Whom to call about another force's case: its officer, as far as the agreement allows.

The one place outside the GraphQL guard where a contact is decrypted, for the change feed (HTTP
and subscriptions) and `CaseLink.contact`. It asks the same two decisions the guard does: the
case's `record_view` (a contact names whom to call about one case, so only at `FULL`), then each
officer field's `visibility` (only `clear` fields are opened)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from graph import GraphStore
from graph.case_seals import CaseSeal, CaseSeals
from policies.crypto import DecryptionFailed, FieldCipher
from policies.keys import KeyringError
from policies.principal import Principal
from policies.sharing import PolicyHolder, RecordView, Visibility

OFFICER_FIELDS = ("name", "email", "phone")


async def officer_contacts(
    store: GraphStore,
    cipher: FieldCipher,
    sharing: PolicyHolder,
    principal: Principal,
    case_keys: Iterable[str],
    *,
    read: Mapping[str, CaseSeal] | None = None,
) -> dict[str, str]:
    """`name <email> phone` of each case's officer, with only the fields the caller may see.

    `read` holds the seals of cases already read, which the graph is not asked for again."""
    read = read or {}
    keys = sorted(set(case_keys))
    seals = [read[key] for key in keys if key in read]
    unread = [key for key in keys if key not in read]
    if unread:
        seals += (await CaseSeals(store).of(unread)).values()
    contacts: dict[str, str] = {}
    for seal in seals:
        if sharing.record_view(principal, seal.force) != RecordView.FULL:
            continue  # nothing opened of a case the caller may not know
        sealed = json.loads(seal.sealed or "{}")
        parts = []
        for name in OFFICER_FIELDS:
            pointer = f"/officer/{name}"
            allowed = sharing.visibility(principal, seal.force, "officer", name)
            if pointer not in sealed or allowed < Visibility.CLEAR:
                continue
            try:
                value = await cipher.open(seal.force, seal.case_ref, pointer, sealed[pointer])
            except (DecryptionFailed, KeyringError):
                continue  # shredded or damaged: the contact is simply not there
            parts.append(f"<{value}>" if name == "email" else value)
        if parts:
            contacts[seal.key] = " ".join(parts)
    return contacts
