"""Inline SVG charts drawn at build time: a 24 h sparkline and latency charts with axes.

Colours come from CSS classes (so the light and dark themes restyle them);
every number is written with a fixed format so builds are byte-identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional, Sequence

from markupsafe import Markup, escape

Point = tuple[datetime, float]


def _n(value: float) -> str:
    """Fixed, short number formatting: one decimal, no trailing '.0'."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def bucket_means(points: Sequence[tuple[float, float]], start: float, end: float, buckets: int) -> list[Optional[float]]:
    """Mean of the (epoch seconds, value) points in each of ``buckets`` equal slices of [start, end]."""
    span = end - start
    sums = [0.0] * buckets
    counts = [0] * buckets
    if span <= 0:
        return [None] * buckets
    scale = buckets / span
    last = buckets - 1
    for moment, value in points:
        offset = moment - start
        if offset < 0 or offset > span:
            continue
        index = int(offset * scale)
        if index > last:
            index = last
        sums[index] += value
        counts[index] += 1
    return [sums[i] / counts[i] if counts[i] else None for i in range(buckets)]


def _path(values: Sequence[Optional[float]], xs: Sequence[float], y_of: Callable[[float], float]) -> str:
    """An SVG path in whole units; a missing value breaks the line (no data is never drawn as a value)."""
    parts: list[str] = []
    pen_down = False
    for x, value in zip(xs, values):
        if value is None:
            pen_down = False
            continue
        parts.append(f"{' ' if pen_down else 'M'}{round(x)} {round(y_of(value))}")
        pen_down = True
    return "".join(parts)


def sparkline(points: Sequence[tuple[float, float]], start: float, end: float, label: str, *, width: int = 120, height: int = 28, buckets: int = 48) -> Markup:
    """A small latency line for the home page; ``label`` is its accessible name (the SVG's title).

    Whole-pixel coordinates and implicit line-tos keep it near 250 bytes: the home page
    carries one per monitor.
    """
    values = bucket_means(points, start, end, buckets)
    present = [v for v in values if v is not None]
    top = max(present) if present else 1.0
    top = top if top > 0 else 1.0
    step = width / (buckets - 1)
    pad = 2.0
    runs: list[list[str]] = []
    pen_down = False
    for index, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        point = f"{round(index * step)} {round(height - pad - (value / top) * (height - 2 * pad))}"
        if pen_down:
            runs[-1].append(point)
        else:
            runs.append([point])
            pen_down = True
    lines = [run for run in runs if len(run) > 1]
    dots = [run[0] for run in runs if len(run) == 1]  # a lone point has no length: draw it as a dot
    body = ""
    if lines:
        body += '<path d="' + "".join("M" + " ".join(run) for run in lines) + '"/>'
    for dot in dots:
        x, y = dot.split()
        body += f'<circle cx="{x}" cy="{y}" r="1.5"/>'
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
        f"<title>{escape(label)}</title>{body}</svg>"
    )


def nice_ceiling(value: float) -> tuple[float, float]:
    """A round axis top and step for ``value`` (e.g. 437 -> 500, step 100)."""
    if value <= 0:
        return 1.0, 0.25
    raw_step = value / 4
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step * 4 >= value:
            return step * 4, step
    return 10 * magnitude * 4, 10 * magnitude  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class Series:
    label: str
    css: str  # class name, e.g. "median" or "p95"
    values: Sequence[Optional[float]]  # one per x position
    xs: Sequence[float]  # 0..1 positions along the time axis


def line_chart(
    series: Sequence[Series],
    x_ticks: Sequence[tuple],
    title: str,
    description: str,
    unit: str,
    *,
    chart_id: str,
    x_title: str = "",
    width: int = 640,
    height: int = 230,
) -> Markup:
    """A latency chart with a labelled time axis, a value axis in ``unit`` and a legend.

    ``x_ticks`` are (position 0..1, label) or (position, label, minor): a minor label is
    hidden on narrow screens, where the stylesheet draws labels larger (the SVG is scaled
    down there, and its text with it). Values are plain numbers; the unit names the axis,
    above it, and ``x_title`` (e.g. "Time (CET)") names the time axis and its zone.
    """
    left, right, top_pad, bottom = 58.0, 12.0, 40.0, 50.0
    plot_w = width - left - right
    plot_h = height - top_pad - bottom
    values = [v for s in series for v in s.values if v is not None]
    top, step = nice_ceiling(max(values) if values else 0.0)

    def y_of(value: float) -> float:
        return top_pad + plot_h - (value / top) * plot_h

    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
        '<g class="grid">',
    ]
    ticks = int(round(top / step))
    for i in range(ticks + 1):
        value = i * step
        y = y_of(value)
        out.append(f'<line x1="{_n(left)}" x2="{_n(width - right)}" y1="{_n(y)}" y2="{_n(y)}"/>')
    out.append('</g><g class="axis">')
    out.append(f'<text class="unit" x="{_n(left - 8)}" y="{_n(top_pad - 20)}" text-anchor="end">{escape(unit)}</text>')
    for i in range(ticks + 1):
        value = i * step
        y = y_of(value)
        minor = ' class="minor"' if i % 2 and ticks > 2 else ""
        out.append(f'<text{minor} x="{_n(left - 8)}" y="{_n(y + 4)}" text-anchor="end">{_n(value)}</text>')
    base = top_pad + plot_h
    out.append(f'<line x1="{_n(left)}" x2="{_n(width - right)}" y1="{_n(base)}" y2="{_n(base)}"/>')
    for tick in x_ticks:
        position, label = tick[0], tick[1]
        minor = ' class="minor"' if len(tick) > 2 and tick[2] else ""
        x = left + position * plot_w
        out.append(f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(base)}" y2="{_n(base + 4)}"/>')
        anchor = "start" if position <= 0.02 else "end" if position >= 0.98 else "middle"
        out.append(f'<text{minor} x="{_n(x)}" y="{_n(base + 20)}" text-anchor="{anchor}">{escape(label)}</text>')
    if x_title:
        out.append(f'<text class="title" x="{_n(left + plot_w / 2)}" y="{_n(height - 6)}" text-anchor="middle">'
                   f"{escape(x_title)}</text>")
    out.append("</g>")
    for s in series:
        xs = [left + x * plot_w for x in s.xs]
        d = _path(s.values, xs, y_of)
        if d:
            out.append(f'<path class="line {s.css}" d="{d}"/>')
        # single points (e.g. one day of data) stay visible as dots
        present = [(x, v) for x, v in zip(xs, s.values) if v is not None]
        if len(present) <= 31:
            out.extend(f'<circle class="dot {s.css}" cx="{round(x)}" cy="{round(y_of(v))}" r="2.5"/>' for x, v in present)
    if not values:
        out.append(
            f'<text class="empty" x="{_n(left + plot_w / 2)}" y="{_n(top_pad + plot_h / 2)}" text-anchor="middle">'
            f"{escape(description)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))
