"""The home page: every monitor with its bars, by group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from generator.site.listing import Listed
from generator.site.output import SiteWriter

if TYPE_CHECKING:
    from generator.site.renderer import Renderer


def grouped(listed: list[Listed]) -> list[tuple[Optional[str], list[Listed]]]:
    """Monitors by group, in the order groups first appear in monitors.yaml (the user's order)."""
    found: dict[Optional[str], list[Listed]] = {}
    for item in listed:
        found.setdefault(item.monitor.group, []).append(item)
    return list(found.items())


def render(renderer: Renderer, writer: SiteWriter, **context: Any) -> None:
    sparks = {item.id: item.spark for item in renderer.listed}  # for themes written before Listed.spark
    renderer.page(writer, "index.html", "home.html", groups=grouped(renderer.listed), sparks=sparks, **context)
