"""Charts as SVG text, for the scrutiny board's report: a force's backlog day by day (lines),
and the time its cases took to their first enforcement (bars by band).

Written by hand rather than with a plotting library: two or three lines over days, with axes and
a legend, are a few dozen elements, and SVG text embeds in HTML and prints in the PDF as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
COLOURS = ("#1f4e79", "#c0392b", "#7f8c8d")  # dark blue, red, grey: legible in black and white
TICKS = 4


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def _nice_top(highest: int) -> int:
    """A round top for the value axis, at or above `highest`."""
    top = max(highest, 1)
    step = 1
    while step * 10 <= top:
        step *= 10
    for multiple in (1, 2, 5, 10):
        if step * multiple >= top:
            return step * multiple
    return step * 10


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """An SVG chart of `series` over `labels` (dates, say): one line each, the first and last
    labels under the axis, the value axis from 0 in round steps, a legend above."""
    count = len(labels)
    top = _nice_top(max((max(s.values, default=0) for s in series), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        _svg_open(title, HEIGHT),
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#bbb"/>',
        *_value_ticks(top, y, first=0),
    ]
    if labels:
        below = HEIGHT - BOTTOM + 14
        parts.append(
            f'<text x="{LEFT}" y="{below}" font-size="11">{escape(labels[0])}</text>'
            f'<text x="{WIDTH - RIGHT}" y="{below}" font-size="11" text-anchor="end">'
            f"{escape(labels[-1])}</text>"
        )
    for n, line in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(line.values))
        if points:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
            )
        parts.append(
            f'<rect x="{LEFT + 8 + n * 170}" y="{HEIGHT - 12}" width="10" height="10" '
            f'fill="{colour}"/><text x="{LEFT + 22 + n * 170}" y="{HEIGHT - 3}" '
            f'font-size="11">{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


BAR_HEIGHT = 200


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int]) -> str:
    """An SVG chart of one bar per label (bands, say), each with its count above it and its
    label under the axis, the value axis from 0 in round steps."""
    top = _nice_top(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, BAR_HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        _svg_open(title, BAR_HEIGHT),
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#bbb"/>',
        *_value_ticks(top, y, first=1),
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + i * slot + slot * 0.15
        width = slot * 0.7
        parts.append(
            f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{width:.1f}" '
            f'height="{y(0) - y(value):.1f}" fill="{COLOURS[0]}"/>'
            f'<text x="{x + width / 2:.1f}" y="{y(value) - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{value}</text>'
            f'<text x="{x + width / 2:.1f}" y="{BAR_HEIGHT - BOTTOM + 14}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(title: str, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )


def _value_ticks(top: float, y: Callable[[float], float], *, first: int) -> list[str]:
    """The value axis's grid lines and labels, from tick `first` to the top."""
    ticks = []
    for tick in range(first, TICKS + 1):
        value = top * tick / TICKS
        ticks.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#eee"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{value:g}</text>"
        )
    return ticks
