"""Badges: shields.io endpoint JSON and self-contained flat SVG badges.

The SVG needs text widths without a font engine, so each character gets an
approximate advance width (Verdana-like, 11 px); wide scripts (CJK) count as a
full em. Close enough that labels never overflow their box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from markupsafe import escape

# shields.io named colours and the hex used in our own SVGs
COLORS = {
    "brightgreen": "#2b8a1f",
    "green": "#5c8a00",
    "yellow": "#9a7b00",
    "orange": "#c2520c",
    "red": "#c9302c",
    "blue": "#1f6fb2",
    "lightgrey": "#6b6b6b",
}
LABEL_COLOR = "#4a4a4a"

# approximate advance widths in px at 11 px; anything not listed uses DEFAULT_WIDTH
_WIDTHS: dict[str, float] = {}
for chars, width in (
    ("ijl|!'.,:;", 3.1),
    ("frt()[]{}I/\\ ", 4.4),
    ("Jsz-\"", 5.6),
    ("abcdeghknopquvxy?_*", 6.8),
    ("0123456789$#+<>=~^", 7.0),
    ("ABCEFKLPRSTVXYZ", 7.6),
    ("DGHNOQU&", 8.4),
    ("mwM", 10.6),
    ("W%@", 11.8),
):
    for char in chars:
        _WIDTHS[char] = width
DEFAULT_WIDTH = 7.0
WIDE_WIDTH = 11.0  # CJK and other full-width characters


def text_width(text: str) -> float:
    total = 0.0
    for char in text:
        if char in _WIDTHS:
            total += _WIDTHS[char]
        elif ord(char) >= 0x1100:
            total += WIDE_WIDTH
        else:
            total += DEFAULT_WIDTH
    return total


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    color: str  # a key of COLORS

    def endpoint(self) -> dict:
        """The shields.io endpoint schema (https://shields.io/badges/endpoint-badge)."""
        return {"schemaVersion": 1, "label": self.label, "message": self.message, "color": self.color}

    def svg(self) -> str:
        pad = 6
        label_w = int(round(text_width(self.label))) + 2 * pad
        message_w = int(round(text_width(self.message))) + 2 * pad
        total = label_w + message_w
        fill = COLORS.get(self.color, COLORS["lightgrey"])
        label = escape(self.label)
        message = escape(self.message)
        title = escape(f"{self.label}: {self.message}")
        label_x = label_w / 2
        message_x = label_w + message_w / 2
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{title}">'
            f"<title>{title}</title>"
            f'<clipPath id="r"><rect width="{total}" height="20" rx="3"/></clipPath>'
            f'<g clip-path="url(#r)"><rect width="{label_w}" height="20" fill="{LABEL_COLOR}"/>'
            f'<rect x="{label_w}" width="{message_w}" height="20" fill="{fill}"/></g>'
            f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
            f'<text x="{label_x:.1f}" y="14">{label}</text><text x="{message_x:.1f}" y="14">{message}</text></g></svg>\n'
        )


def status_color(status: str) -> str:
    return {
        "operational": "brightgreen",
        "degraded": "yellow",
        "partial_outage": "orange",
        "down": "red",
        "major_outage": "red",
        "maintenance": "blue",
    }.get(status, "lightgrey")


def uptime_color(value: Optional[float]) -> str:
    if value is None:
        return "lightgrey"
    for floor, color in ((99.9, "brightgreen"), (99.0, "green"), (97.0, "yellow"), (95.0, "orange")):
        if value >= floor:
            return color
    return "red"


def latency_color(value: Optional[float]) -> str:
    if value is None:
        return "lightgrey"
    for ceiling, color in ((200.0, "brightgreen"), (500.0, "green"), (1000.0, "yellow"), (2000.0, "orange")):
        if value < ceiling:
            return color
    return "red"
