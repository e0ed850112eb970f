"""Who is sweeping identifier search: distinct values within a window, then a cool-off."""

from __future__ import annotations

import pytest

from policies.limits import SearchRules
from policies.search_watch import SearchWatch, Sweeping


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_only_distinct_values_within_the_window_count_towards_a_sweep() -> None:
    clock = Clock()
    watch = SearchWatch(SearchRules(window=60, sweep=3, cooloff=300), clock)
    for _ in range(10):  # one value looked up again and again is not enumeration
        assert watch.note("c", "k1") is None
    assert watch.note("c", "k2") is None and watch.note("c", "k3") is None
    clock.now += 61  # k1..k3 have left the window
    assert watch.note("c", "k4") is None and watch.note("c", "k5") is None
    assert watch.note("c", "k6") is None
    assert watch.note("c", "k7") == 4  # the fourth distinct value in a minute makes a sweep


def test_a_sweeper_is_refused_until_its_cool_off_ends_and_others_are_not() -> None:
    clock = Clock()
    watch = SearchWatch(SearchRules(window=60, sweep=1, cooloff=300), clock)
    watch.note("c", "k1")
    assert watch.note("c", "k2") == 2
    with pytest.raises(Sweeping) as refused:
        watch.check("c")
    assert refused.value.retry_after_header == "300"
    watch.check("other")
    clock.now += 299
    with pytest.raises(Sweeping):
        watch.check("c")
    clock.now += 2
    watch.check("c")
    assert watch.note("c", "k3") is None  # counting starts afresh
