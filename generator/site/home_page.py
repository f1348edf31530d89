"""The home page, and on a large site one page per group.

Up to ``site.collapse_groups_from`` monitors (200 by default) the home page shows every
monitor with its bars. From there on it shows each group folded (a ``<details>`` with the
group's worst status, its counts by status and the monitors that are not operational) and
each group gets a page of its own with its monitors' bars, so the home page stays small
(under 100 KB gzipped at 10,000 monitors) whatever the number of monitors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from generator.site import links
from generator.site.listing import Group, Listed, group_of
from generator.site.output import SiteWriter

if TYPE_CHECKING:
    from generator.site.renderer import Renderer

PROBLEMS_SHOWN = 10  # monitors named inside a folded group on the home page; the group page has them all


def grouped(listed: list[Listed]) -> list[tuple[Optional[str], list[Listed]]]:
    """Monitors by group, in the order groups first appear in monitors.yaml (the user's order)."""
    found: dict[Optional[str], list[Listed]] = {}
    for item in listed:
        found.setdefault(item.monitor.group, []).append(item)
    return list(found.items())


def groups(renderer: Renderer) -> list[Group]:
    """Every group with its page; the monitors without a group last, under "other services"."""
    pairs = grouped(renderer.listed)
    pairs.sort(key=lambda pair: pair[0] is None)  # stable: the user's order, ungrouped last
    names = [name if name is not None else renderer.strings("group.ungrouped") for name, _ in pairs]
    keys = [f"{index:06d}" for index in range(len(pairs))]
    pages = renderer._unique_pages([(key, links.group_page(name)) for key, name in zip(keys, names)])
    return [group_of(name, pages[key], members) for key, name, (_, members) in zip(keys, names, pairs)]


def render(renderer: Renderer, writer: SiteWriter, **context: Any) -> None:
    sparks = {item.id: item.spark for item in renderer.listed}  # for themes written before Listed.spark
    if len(renderer.listed) < renderer.config.site.collapse_groups_from:
        renderer.page(writer, "index.html", "home.html", groups=grouped(renderer.listed), folded=None,
                      sparks=sparks, **context)
        return
    folded = groups(renderer)
    renderer.page(writer, "index.html", "home.html", groups=[], folded=folded, sparks=sparks,
                  problems_shown=PROBLEMS_SHOWN, **context)
    for group in folded:
        renderer.page(writer, group.page, "group.html", group=group, sparks=sparks,
                      days_shown=context["days_shown"], days_narrow=context["days_narrow"])
