"""The UI's palette meets WCAG 2.2 AA contrast: text 4.5:1, large text and graphics 3:1."""

from __future__ import annotations

import itertools
import json

import pytest

from .conftest import ROOT

PALETTE = json.loads((ROOT / "web" / "src" / "palette.json").read_text())
TEXT = 4.5  # WCAG 1.4.3, normal text
GRAPHICS = 3.0  # WCAG 1.4.11, chart segments, graph outlines, focus ring against its neighbours


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_wcags_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


TEXT_PAIRS = [
    ("text", "background"),
    ("text", "surface"),
    ("muted", "background"),
    ("muted", "surface"),
    ("link", "background"),
    ("error", "background"),
    ("onAccent", "accent"),
    ("accent", "background"),  # secondary buttons: accent text on the page
    ("background", "text"),  # the top bar: page colour on text colour
    ("text", "focus"),  # the focused skip link
]


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_colours_reach_4_5_to_1(fg: str, bg: str) -> None:
    assert contrast(PALETTE[fg], PALETTE[bg]) >= TEXT, (fg, bg)


@pytest.mark.parametrize("name", ["within", "dueSoon", "past"])
def test_chart_segments_stand_out_from_the_page(name: str) -> None:
    assert contrast(PALETTE["status"][name], PALETTE["background"]) >= GRAPHICS


@pytest.mark.parametrize("colour", PALETTE["forces"])
def test_force_colours_stand_out_from_the_page(colour: str) -> None:
    assert contrast(colour, PALETTE["background"]) >= GRAPHICS


def test_force_colours_are_distinct() -> None:
    forces = PALETTE["forces"]
    assert len(set(forces)) == len(forces) >= 5
    for a, b in itertools.combinations(forces, 2):
        difference = sum(abs(int(a[i : i + 2], 16) - int(b[i : i + 2], 16)) for i in (1, 3, 5))
        assert difference >= 60, (a, b)


def test_focus_ring_is_visible_on_the_page_and_the_bar() -> None:
    # the ring is the focus colour outlined by the text colour: one of them contrasts with
    # whatever surrounds a focused control
    for around in ("background", "surface", "text"):
        best = max(
            contrast(PALETTE["focus"], PALETTE[around]), contrast(PALETTE["text"], PALETTE[around])
        )
        assert best >= GRAPHICS, around
