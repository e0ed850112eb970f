"""Sharing agreements: one visibility decision, default deny, the defaults' promises (no personal
data for coordinators; other forces' suspects only as existence), pair agreements, audited
reloads, and validation errors that point at the YAML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policies.audit import AuditLog, AuditUnavailable, MemoryAuditStore
from policies.devidp import DEFAULT_POLICY_DIR
from policies.principal import Principal
from policies.scopes import PolicyFileError
from policies.sharing import (
    FIELDS,
    SENSITIVE,
    PolicyHolder,
    RecordView,
    SharingPolicy,
    UnknownField,
    Visibility,
    field_of_pointer,
    load_sharing,
    parse_sharing,
)

REPO = Path(__file__).resolve().parents[2]
FORCES = ("AS", "GL", "WI", "DC", "DO")
ANALYST_SCOPES = frozenset({"cases:read", "sensitive:reveal", "victim-id:write"})
CASE_METADATA = {
    ("case", f)
    for f in (
        "schema",
        "force",
        "caseRef",
        "version",
        "deleted",
        "status",
        "openedAt",
        "enforcementAt",
        "lastActivityAt",
        "closedAt",
        "offences",
    )
} | {("referral", "source"), ("referral", "receivedAt"), ("risk", "level"), ("risk", "assessedAt")}
ALL_FIELDS = [(t, f) for t, fields in FIELDS.items() for f in fields]


def analyst(force: str) -> Principal:
    return Principal(f"analyst-{force}", ANALYST_SCOPES, force, "t")


COORDINATOR = Principal("coordinator", frozenset({"oversight:read"}))


@pytest.fixture(scope="module")
def policy() -> SharingPolicy:
    return load_sharing(DEFAULT_POLICY_DIR / "sharing.yaml")


def schema_path() -> Path:
    candidates = [
        REPO / "federation" / "schema" / "case-summary.v1.schema.json",
        REPO.parent / "shared" / "contract" / "case-summary.v1.schema.json",
    ]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise AssertionError("case-summary.v1.schema.json not found in the repo or shared/")


def schema_fields() -> Iterator[tuple[str, str, bool]]:
    """(type, field, sensitive) for every leaf of the case summary schema."""
    schema = json.loads(schema_path().read_text())
    defs = schema["$defs"]
    lists = {"suspects", "devices", "accounts", "ipAddresses", "victims", "media"}

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref") or (node.get("items") or {}).get("$ref")
        return defs[ref.rsplit("/", 1)[1]] if ref else node

    def sensitive(node: dict[str, Any], parent: bool) -> bool:
        return parent or "sensitive" in node.get("description", "")

    for name, node in schema["properties"].items():
        if name in lists:
            item = resolve(node)
            for field, sub in item["properties"].items():
                if field == "safeguarding":
                    for inner, leaf in sub["items"]["properties"].items():
                        yield (
                            *field_of_pointer(f"/victims/0/safeguarding/0/{inner}"),
                            sensitive(leaf, False),
                        )
                    continue
                yield (*field_of_pointer(f"/{name}/0/{field}"), sensitive(sub, False))
        elif node.get("type") == "object":
            for field, sub in node["properties"].items():
                yield (
                    *field_of_pointer(f"/{name}/{field}"),
                    sensitive(sub, sensitive(node, False)),
                )
        else:
            yield (*field_of_pointer(f"/{name}"), sensitive(node, False))


def test_field_catalogue_matches_the_schema() -> None:
    found = list(schema_fields())
    assert {(t, f) for t, f, _ in found} == set(ALL_FIELDS)
    assert {(t, f) for t, f, s in found if s} == SENSITIVE


@pytest.mark.parametrize("owner", FORCES)
def test_coordinators_see_no_personal_field_at_all(policy: SharingPolicy, owner: str) -> None:
    for type_name, field_name, _ in schema_fields():
        level = policy.visibility(COORDINATOR, owner, type_name, field_name)
        if (type_name, field_name) in CASE_METADATA:
            assert level == Visibility.CLEAR, (type_name, field_name)
        else:
            assert level == Visibility.HIDDEN, (type_name, field_name)
    for type_name, field_name in SENSITIVE:
        assert policy.visibility(COORDINATOR, owner, type_name, field_name) == Visibility.HIDDEN
    assert not policy.can_reveal(COORDINATOR, owner, "/summary")


@pytest.mark.parametrize("viewer", FORCES)
def test_analysts_see_other_forces_suspects_and_victims_only_as_existence(
    policy: SharingPolicy, viewer: str
) -> None:
    for owner in FORCES:
        if owner == viewer:
            continue
        for type_name in ("suspect", "victim"):
            for field_name in FIELDS[type_name]:
                level = policy.visibility(analyst(viewer), owner, type_name, field_name)
                assert level == Visibility.EXISTENCE, (owner, type_name, field_name)
        for pointer in ("/suspects/0/familyName", "/suspects/3/phones/0", "/victims/0/givenName"):
            assert not policy.can_reveal(analyst(viewer), owner, pointer)
        for field_name in ("name", "email", "phone"):
            assert (
                policy.visibility(analyst(viewer), owner, "officer", field_name) == Visibility.CLEAR
            )
        assert policy.visibility(analyst(viewer), owner, "case", "summary") == Visibility.HIDDEN
        assert policy.visibility(analyst(viewer), owner, "risk", "level") == Visibility.CLEAR


def test_own_force_analysts_see_sensitive_fields_masked_and_revealable(
    policy: SharingPolicy,
) -> None:
    me = analyst("AS")
    for type_name, field_name in SENSITIVE:
        level = policy.visibility(me, "AS", type_name, field_name)
        if type_name == "officer":
            assert level == Visibility.CLEAR  # the colleague to call: clear for every force
        else:
            assert level == Visibility.MASKED, (type_name, field_name)
    for type_name, field_name in set(ALL_FIELDS) - SENSITIVE:
        assert policy.visibility(me, "AS", type_name, field_name) == Visibility.CLEAR
    assert policy.can_reveal(me, "AS", "/suspects/0/familyName")
    assert policy.can_reveal(me, "AS", "/victims/1/safeguarding/0/outcome")
    assert not policy.can_reveal(me, "AS", "/status")  # clear already: nothing to reveal


def test_reveal_needs_the_reveal_scope(policy: SharingPolicy) -> None:
    reader = Principal("reader", frozenset({"cases:read"}), "AS")
    assert policy.visibility(reader, "AS", "suspect", "familyName") == Visibility.MASKED
    assert not policy.can_reveal(reader, "AS", "/suspects/0/familyName")


@pytest.mark.parametrize(
    "principal",
    [
        Principal("nobody", frozenset(), "AS"),
        Principal("admin", frozenset({"admin"})),
        Principal("revealer", frozenset({"sensitive:reveal", "victim-id:write"}), "AS"),
        Principal("custom", frozenset({"made:up"}), "AS"),
    ],
)
def test_default_deny(policy: SharingPolicy, principal: Principal) -> None:
    for type_name, field_name in ALL_FIELDS:
        assert policy.visibility(principal, "AS", type_name, field_name) == Visibility.HIDDEN
    assert policy.visibility(analyst("AS"), "AS", "weapon", "calibre") == Visibility.HIDDEN
    assert policy.visibility(analyst("AS"), "AS", "suspect", "shoeSize") == Visibility.HIDDEN


def test_force_systems_see_only_whom_to_call_in_other_forces(policy: SharingPolicy) -> None:
    system = Principal("force-AS", frozenset({"sync:write"}), "AS")
    assert policy.visibility(system, "GL", "officer", "phone") == Visibility.CLEAR
    assert policy.visibility(system, "GL", "case", "caseRef") == Visibility.CLEAR
    assert policy.visibility(system, "GL", "suspect", "ref") == Visibility.HIDDEN
    assert policy.visibility(system, "GL", "case", "summary") == Visibility.HIDDEN


PAIR_POLICY = """
version: 1
agreements:
  cases:read:
    other:
      fields:
        suspect: {"*": existence}
    pairs:
      - between: [AS, GL]
        fields:
          suspect: {givenName: masked}
        revealable: [suspect.familyName]
      - viewer: WI
        owner: DO
        fields:
          suspect: {"*": clear}
  sensitive:reveal: {}
"""


def test_pair_agreements_override_other_force_rules() -> None:
    policy = parse_sharing(PAIR_POLICY)
    # AS <-> GL both ways: givenName masked (revealable), familyName existence but revealable.
    for viewer, owner in (("AS", "GL"), ("GL", "AS")):
        assert (
            policy.visibility(analyst(viewer), owner, "suspect", "givenName") == Visibility.MASKED
        )
        assert policy.can_reveal(analyst(viewer), owner, "/suspects/0/givenName")
        assert policy.visibility(analyst(viewer), owner, "suspect", "familyName") == (
            Visibility.EXISTENCE
        )
        assert policy.can_reveal(analyst(viewer), owner, "/suspects/0/familyName")
        assert not policy.can_reveal(analyst(viewer), owner, "/suspects/0/pncId")
    # WI -> DO one way only.
    assert policy.visibility(analyst("WI"), "DO", "suspect", "pncId") == Visibility.CLEAR
    assert policy.visibility(analyst("DO"), "WI", "suspect", "pncId") == Visibility.EXISTENCE
    # Forces outside the agreements keep the general rule.
    assert policy.visibility(analyst("DC"), "GL", "suspect", "givenName") == Visibility.EXISTENCE
    assert not policy.can_reveal(analyst("DC"), "GL", "/suspects/0/familyName")
    # `own` was not written: default deny, even for the force's own records.
    assert policy.visibility(analyst("AS"), "AS", "suspect", "givenName") == Visibility.HIDDEN


RECORD_POLICY = """
version: 1
agreements:
  cases:read:
    own:
      fields: {case: {"*": clear}}
    other:
      fields: {case: {"*": clear}}
    pairs:
      - viewer: AS
        owner: WI
        fields: {case: {caseRef: existence}}
      - viewer: AS
        owner: DO
        fields: {case: {caseRef: hidden, force: hidden}}
  oversight:read:
    other:
      fields: {case: {force: clear}}
"""


@pytest.mark.parametrize("owner", FORCES)
def test_defaults_let_every_reader_know_every_forces_cases(
    policy: SharingPolicy, owner: str
) -> None:
    system = Principal("force-AS", frozenset({"sync:write"}), "AS")
    for reader in (analyst("AS"), analyst("GL"), COORDINATOR, system):
        assert policy.record_view(reader, owner) == RecordView.FULL
    nobody = Principal("admin", frozenset({"admin"}))
    assert policy.record_view(nobody, owner) == RecordView.NONE


def test_record_view_follows_the_case_reference_rule() -> None:
    policy = parse_sharing(RECORD_POLICY)
    assert policy.record_view(analyst("AS"), "AS") == RecordView.FULL
    assert policy.record_view(analyst("AS"), "GL") == RecordView.FULL
    assert policy.record_view(analyst("AS"), "WI") == RecordView.EXISTENCE
    assert policy.record_view(analyst("AS"), "DO") == RecordView.NONE
    assert policy.record_view(analyst("WI"), "AS") == RecordView.FULL  # a pair is one-way
    # The force without the reference: that it holds a case, not which.
    assert policy.record_view(COORDINATOR, "GL") == RecordView.EXISTENCE


def test_entities_are_identified_only_where_an_owner_shows_the_identifying_field(
    policy: SharingPolicy,
) -> None:
    assert policy.entity_identified(analyst("AS"), "Person", ["AS", "GL"])
    assert not policy.entity_identified(analyst("AS"), "Person", ["GL", "WI"])
    assert not policy.entity_identified(COORDINATOR, "Device", ["AS"])


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("/summary", ("case", "summary")),
        ("/caseRef", ("case", "caseRef")),
        ("/officer/phone", ("officer", "phone")),
        ("/referral/reference", ("referral", "reference")),
        ("/risk/rationale", ("risk", "rationale")),
        ("/suspects/0/familyName", ("suspect", "familyName")),
        ("/suspects/12/phones/3", ("suspect", "phones")),
        ("/devices/0/imei", ("device", "imei")),
        ("/accounts/2/handle", ("account", "handle")),
        ("/ipAddresses/0/address", ("ipAddress", "address")),
        ("/victims/0/safeguarding/1/outcome", ("victim", "safeguarding.outcome")),
        ("/media/99/sha1", ("media", "sha1")),
    ],
)
def test_pointers_map_to_fields(pointer: str, expected: tuple[str, str]) -> None:
    assert field_of_pointer(pointer) == expected


@pytest.mark.parametrize(
    "pointer",
    [
        "",
        "summary",
        "/",
        "/nothing",
        "/suspects/familyName",
        "/suspects/01/familyName",
        "/suspects/-1/familyName",
        "/suspects/0/shoeSize",
        "/suspects/0/familyName/0",
        "/officer",
        "/officer/rank",
        "/victims/0/safeguarding/x/outcome",
        "/summary/0",
    ],
)
def test_bad_pointers_are_refused(pointer: str, policy: SharingPolicy) -> None:
    with pytest.raises(UnknownField):
        field_of_pointer(pointer)
    with pytest.raises(UnknownField):
        policy.can_reveal(analyst("AS"), "AS", pointer)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (
            "version: 1\nagreements:\n  cases:read:\n    own:\n      fields:\n"
            "        suspect: {givenName: visible}\n",
            "agreements.cases:read.own.fields.suspect.givenName",
        ),
        (
            "version: 1\nagreements:\n  cases:read:\n    own:\n      fields:\n"
            "        suspect: {nickname: clear}\n",
            "unknown field suspect.nickname",
        ),
        (
            "version: 1\nagreements:\n  cases:read:\n    other:\n      fields:\n"
            "        weapon: {calibre: clear}\n",
            "unknown type 'weapon'",
        ),
        ("version: 1\nagreements:\n  everything: {}\n", "unknown scope(s): everything"),
        ("version: 2\nagreements: {}\n", "version"),
        (
            "version: 1\nagreements:\n  cases:read:\n    pairs:\n      - between: [AS]\n",
            "agreements.cases:read.pairs.0",
        ),
        (
            "version: 1\nagreements:\n  cases:read:\n    pairs:\n      - between: [AS, GL]\n"
            "      - viewer: AS\n        owner: GL\n",
            "AS -> GL is agreed twice",
        ),
        (
            "version: 1\nagreements:\n  cases:read:\n    other:\n      revealable: [suspect]\n",
            "agreements.cases:read.other.revealable",
        ),
        (
            "version: 1\nagreements:\n  cases:read:\n    sideways: {}\n",
            "agreements.cases:read.sideways",
        ),
        ("version: [1\n", "not valid YAML"),
    ],
)
def test_invalid_agreements_name_the_yaml_path(text: str, path: str) -> None:
    with pytest.raises(PolicyFileError) as error:
        parse_sharing(text)
    assert path in str(error.value)


VALID = """version: 1
agreements:
  oversight:read:
    other:
      fields:
        case: {force: clear}
"""


async def test_reload_is_audited_and_swaps_the_agreements(tmp_path: Path) -> None:
    path = tmp_path / "sharing.yaml"
    path.write_text(VALID)
    store = MemoryAuditStore()
    holder = PolicyHolder(path, AuditLog(store))
    assert holder.visibility(COORDINATOR, "AS", "case", "caseRef") == Visibility.HIDDEN

    path.write_text(VALID.replace("{force: clear}", "{force: clear, caseRef: clear}"))
    admin = Principal("admin", frozenset({"admin"}), None, "tok-9")
    policy = await holder.reload(admin)

    assert holder.visibility(COORDINATOR, "AS", "case", "caseRef") == Visibility.CLEAR
    entry = store.rows[-1]
    assert (entry["action"], entry["actor"], entry["token_id"], entry["outcome"]) == (
        "policy.reload",
        "admin",
        "tok-9",
        "ok",
    )
    assert entry["target"] == f"policy:sharing.yaml@sha256:{policy.digest}"


async def test_invalid_reload_keeps_the_old_agreements_and_is_audited(tmp_path: Path) -> None:
    path = tmp_path / "sharing.yaml"
    path.write_text(VALID)
    store = MemoryAuditStore()
    holder = PolicyHolder(path, AuditLog(store))
    before = holder.current
    path.write_text("version: 1\nagreements:\n  oversight:read:\n    other: {fields: {x: {}}}\n")
    with pytest.raises(PolicyFileError):
        await holder.reload("admin")
    assert holder.current is before
    assert store.rows[-1]["outcome"] == "failed"


async def test_reload_without_audit_is_refused(tmp_path: Path) -> None:
    class Down(MemoryAuditStore):
        async def head(self) -> tuple[int, str]:
            raise ConnectionError("down")

    path = tmp_path / "sharing.yaml"
    path.write_text(VALID)
    holder = PolicyHolder(path, AuditLog(Down()))
    before = holder.current
    path.write_text(VALID.replace("{force: clear}", "{force: clear, caseRef: clear}"))
    with pytest.raises(AuditUnavailable):
        await holder.reload("admin")
    assert holder.current is before
