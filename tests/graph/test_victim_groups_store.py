"""The victim groups' repository on both engines: claims taken once, handed on and released;
identifications recorded once across the region; steps and referrals read back typed."""

from __future__ import annotations

from graph import GraphStore
from graph.victim_groups import ClaimRecord, Referral, StepRecord, VictimGroupStore

DAY = 86_400_000


async def test_a_claim_is_one_forces_until_handed_on_or_stale(graph_store: GraphStore) -> None:
    groups = VictimGroupStore(graph_store)
    now = 100 * DAY
    assert await groups.take_claim("g1", "AS", "officer-1", "sealed", now, now - 3 * DAY)
    assert not await groups.take_claim("g1", "GL", "officer-2", None, now + 1, now - 3 * DAY)
    assert await groups.claims(["g1", "g2"]) == [
        ClaimRecord("g1", "AS", "officer-1", "sealed", now)
    ]
    assert await groups.held(now - 3 * DAY) == ["g1"]

    assert not await groups.hand_claim("g1", "GL", "WI", None, now + 2, now - 3 * DAY)
    assert await groups.hand_claim("g1", "AS", "GL", "officer-2", now + 2, now - 3 * DAY)
    assert await groups.claims(["g1"]) == [ClaimRecord("g1", "GL", "officer-2", None, now + 2)]

    assert not await groups.release_claim("g1", "AS", now - 3 * DAY)
    assert await groups.release_claim("g1", "GL", now - 3 * DAY)
    assert await groups.claims(["g1"]) == []
    # Left untouched past the stale age, anyone may take it.
    assert await groups.take_claim("g1", "AS", None, None, now, now - 3 * DAY)
    assert await groups.take_claim("g1", "GL", None, None, now + 4 * DAY, now + DAY)
    assert [c.force for c in await groups.claims(["g1"])] == ["GL"]


async def test_a_victim_is_identified_once_across_the_region(graph_store: GraphStore) -> None:
    groups = VictimGroupStore(graph_store)
    first = StepRecord(id="s1", group="g1", kind="IDENTIFIED", force="AS", at=5, victim="AS:1:V")
    second = StepRecord(id="s2", group="g1", kind="IDENTIFIED", force="GL", at=6, victim="AS:1:V")
    assert await groups.identify(first)
    assert not await groups.identify(second)
    assert await groups.identified_by("AS:1:V") == "AS"
    assert await groups.identified_by("AS:1:W") is None
    assert await groups.identified(["AS:1:V", "AS:1:W", "AS:1:V"]) == {"AS:1:V"}
    assert [s.id for s in await groups.steps(["g1"])] == ["s1"]


async def test_steps_come_back_typed_oldest_first(graph_store: GraphStore) -> None:
    groups = VictimGroupStore(graph_store)
    referral = StepRecord(id="r1", group="g1", kind="SAFEGUARDING_REFERRAL", force="AS", at=20,
                          victim="AS:1:V", referred_to="NSPCC", outcome="PENDING")  # fmt: skip
    handed = StepRecord(id="h1", group="g1", kind="HANDED_OVER", force="AS", at=10,
                        officer="o1", sealed="{}", to_force="GL", to_officer="o2")  # fmt: skip
    await groups.record(referral)
    await groups.record(handed)
    assert await groups.steps(["g1"]) == [handed, referral]

    assert await groups.referral("r1") == Referral("r1", "g1", "AS", "AS:1:V", "NSPCC")
    assert await groups.referral("h1") is None  # not a referral
    assert not await groups.mark_referral_updated("r1", "GL", 30)  # only the force that made it
    assert await groups.mark_referral_updated("r1", "AS", 30)
