"""The machine-readable API in the shape of the Atlassian Statuspage public API v2.

Same field names and value sets, so existing clients (dashboards, status
aggregators) can read the site: page, status (indicator none/minor/major/critical),
components (groups as components with ``group: true``), incidents with
``incident_updates`` (investigating/identified/monitoring/resolved) and
scheduled maintenances (scheduled/in_progress/completed).

Uptime, which Statuspage's API does not carry, is published beside it as
``api/uptime.json`` (``StatuspageApi.uptime``)::

    {"page": {...}, "degraded_counts_as_up": true, "windows": ["24h", "7d", "30d", "90d"],
     "components": [{"id": "api", "name": "API", "uptime": {"24h": 100.0, "7d": 99.9702, "30d": 99.99, "90d": null}}]}

Each figure is the time-weighted percentage up over the rolling window ending at
``page.updated_at`` (``generator.history.uptime``), rounded down to four decimals so
it never reads higher than it is; null when the window holds no counted time.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from typing import Any, Optional

from generator.models import Impact, Incident, Maintenance
from generator.secrets import mask
from generator.site import links
from generator.site.markup import plain_text
from generator.site.narrate import Story, story_of
from generator.site.views import WINDOWS, MonitorView, Overall, maintenance_state, sort_incidents
from generator.timeutil import parse_iso, to_iso

COMPONENT_STATUS = {
    "operational": "operational",
    "degraded": "degraded_performance",
    "down": "major_outage",
    "maintenance": "under_maintenance",
    # Statuspage has no "unknown": a monitor without data yet reads as operational there
    # (the HTML page says "no data"); see the report for the reasoning
    "unknown": "operational",
}
# worst first, for a group's status
_COMPONENT_RANK = ("major_outage", "partial_outage", "degraded_performance", "under_maintenance", "operational")

INDICATOR = {
    "operational": ("none", "All Systems Operational"),
    "unknown": ("none", "No Data Yet"),
    "maintenance": ("none", "Service Under Maintenance"),
    "degraded": ("minor", "Minor Service Outage"),
    "partial_outage": ("major", "Partial System Outage"),
    "major_outage": ("critical", "Major System Outage"),
    "delayed": ("minor", "Monitoring Delayed"),
}
IMPACT = {Impact.DOWN: "critical", Impact.DEGRADED: "minor"}
RECENT_INCIDENTS = 50  # incidents.json lists the most recent ones, as Statuspage does



def page_id(base_url: str, title: str) -> str:
    return hashlib.sha1((base_url or title or "statusgen").encode("utf-8")).hexdigest()[:12]


class StatuspageApi:
    def __init__(self, *, site_title: str, base_url: str, time_zone: str, now: datetime, views: list[MonitorView],
                 overall: Overall, incidents: list[Incident], maintenance: list[Maintenance],
                 stories: Optional[dict[str, Story]] = None):
        self.now = now
        self.base_url = base_url
        self.stories = stories or {}  # by incident key; without one, an incident's texts as stored
        self.id = page_id(base_url, site_title)
        self.page = {
            "id": self.id,
            "name": site_title,
            "url": base_url.rstrip("/") if base_url else "",
            "time_zone": time_zone,
            "updated_at": to_iso(now),
        }
        self.views = views
        self.overall = overall
        self.incidents = sort_incidents(incidents)
        self.maintenance = sorted(maintenance, key=lambda m: (m.start, m.key), reverse=True)
        self._components = self._build_components()

    # ---------------------------------------------------------------- components

    def _build_components(self) -> list[dict[str, Any]]:
        components: list[dict[str, Any]] = []
        group_ids: dict[str, str] = {}
        members: dict[str, list[dict[str, Any]]] = {}
        position = 0
        for view in self.views:
            group = view.monitor.group
            group_id = None
            if group:
                if group not in group_ids:
                    candidate = "group-" + links.slug(group)
                    while candidate in group_ids.values():
                        candidate += "-"
                    group_ids[group] = candidate
                    position += 1
                    components.append(
                        {
                            "id": candidate,
                            "name": group,
                            "status": "operational",  # filled below from its members
                            "created_at": None,
                            "updated_at": None,
                            "position": position,
                            "description": None,
                            "showcase": False,
                            "start_date": None,
                            "group_id": None,
                            "page_id": self.id,
                            "group": True,
                            "only_show_if_degraded": False,
                            "components": [],
                        }
                    )
                    members[candidate] = []
                group_id = group_ids[group]
            position += 1
            first_day = view.first_day
            created = parse_iso(first_day + "T00:00:00Z") if first_day else (view.since or self.now)
            if view.since and view.since < created:
                created = view.since
            updated = view.since or self.now
            description = mask(view.monitor.description) if view.monitor.description else None
            status = COMPONENT_STATUS[view.status]
            if view.stale and view.last_checked is not None:
                # Statuspage has no "no data": a monitor whose checks are late must not read as operational
                status = "degraded_performance" if view.status == "unknown" else status
                delayed = f"Checks delayed since {to_iso(view.last_checked)}: its status is not known."
                description = f"{delayed} {description}" if description else delayed
            component: dict[str, Any] = {
                "id": view.monitor.id,
                "name": view.monitor.name,
                "status": status,
                "created_at": to_iso(created),
                "updated_at": to_iso(updated),
                "position": position,
                "description": description,
                "showcase": True,
                "start_date": first_day,
                "group_id": group_id,
                "page_id": self.id,
                "group": False,
                "only_show_if_degraded": False,
            }
            components.append(component)
            if group_id:
                members[group_id].append(component)
        for component in components:
            if component["group"]:
                inside = members[component["id"]]
                component["components"] = [c["id"] for c in inside]
                component["status"] = min((c["status"] for c in inside), key=_COMPONENT_RANK.index)
                component["created_at"] = min(c["created_at"] for c in inside)
                component["updated_at"] = max(c["updated_at"] for c in inside)
        return components

    def components_of(self, monitor_ids: tuple[str, ...]) -> list[dict[str, Any]]:
        wanted = set(monitor_ids)
        return [c for c in self._components if not c["group"] and c["id"] in wanted]

    # ---------------------------------------------------------------- incidents

    def incident(self, incident: Incident) -> dict[str, Any]:
        """One incident with its updates: the same list, states and words as its page and its feed entry."""
        story = self.stories.get(incident.key) or story_of(None, incident)
        count = len(story.updates)
        updates = [self._update(incident.key, count - 1 - index, u.state, u.time, u.text)
                   for index, u in enumerate(story.updates)]  # newest first, as Statuspage lists them
        monitoring = [u.time for u in story.updates if u.state == "monitoring"]
        times = [incident.started] + [u.time for u in story.updates]
        if incident.updated:
            times.append(incident.updated)
        if incident.resolved:
            times.append(incident.resolved)
        return {
            "id": incident.key,
            "name": mask(story.title),
            "status": story.state,
            "created_at": to_iso(incident.started),
            "updated_at": to_iso(max(times)),
            "monitoring_at": to_iso(min(monitoring)) if monitoring else None,
            "resolved_at": to_iso(incident.resolved) if incident.resolved and not incident.is_open else None,
            "impact": IMPACT.get(incident.impact, "minor"),
            "shortlink": incident.url or links.public_url(self.base_url, links.incident_page(incident.key)),
            "started_at": to_iso(incident.started),
            "page_id": self.id,
            "incident_updates": updates,
            "components": self.components_of((incident.monitor_id,) if incident.monitor_id else ()),
        }

    def _update(self, key: str, index: int, status: str, moment: datetime, text: str) -> dict[str, Any]:
        stamp = to_iso(moment)
        return {
            "id": f"{key}-{index + 1}",
            "status": status,
            "body": plain_text(text, limit=2000),
            "incident_id": key,
            "created_at": stamp,
            "updated_at": stamp,
            "display_at": stamp,
            "affected_components": None,
        }

    def maintenance_item(self, item: Maintenance) -> dict[str, Any]:
        state = maintenance_state(item, self.now)
        stamp = to_iso(item.start)
        body = item.body or item.title
        updates = [
            {
                "id": f"{item.key}-1",
                "status": "scheduled",
                "body": plain_text(body, limit=2000),
                "incident_id": item.key,
                "created_at": stamp,
                "updated_at": stamp,
                "display_at": stamp,
                "affected_components": None,
            }
        ]
        if state != "scheduled":
            updates.insert(0, dict(updates[0], id=f"{item.key}-2", status="in_progress", body="In progress."))
        if state == "completed":
            end = to_iso(item.end)
            updates.insert(0, dict(updates[0], id=f"{item.key}-3", status="completed", body="Completed.",
                                   created_at=end, updated_at=end, display_at=end))
        monitors = item.monitors or tuple(v.monitor.id for v in self.views)
        return {
            "id": item.key,
            "name": mask(item.title),
            "status": state,
            "created_at": stamp,
            "updated_at": to_iso(item.end if state == "completed" else item.start),
            "monitoring_at": None,
            "resolved_at": to_iso(item.end) if state == "completed" else None,
            "impact": "maintenance",
            "shortlink": item.url or links.public_url(self.base_url, links.maintenance_page(item.key)),
            "started_at": stamp,
            "page_id": self.id,
            "incident_updates": updates,
            "components": self.components_of(tuple(monitors)),
            "scheduled_for": stamp,
            "scheduled_until": to_iso(item.end),
        }

    # ---------------------------------------------------------------- documents

    def status(self) -> dict[str, Any]:
        indicator, description = INDICATOR[self.overall.key]
        stale = [view for view in self.views if view.stale]
        if stale:
            if indicator == "none":
                indicator = "minor"
            newest = self.overall.newest_check
            since = f"; newest check {to_iso(newest)}" if newest is not None else ""
            late = f"checks delayed for {len(stale)} of {len(self.views)} components{since}"
            description = f"Monitoring Delayed: {late}" if self.overall.key == "delayed" else f"{description}; {late}"
        return {"indicator": indicator, "description": description}

    def uptime(self, degraded_counts_as_up: bool = True) -> dict[str, Any]:
        """``api/uptime.json``: every monitor's rolling-window uptime, as on its page and badges."""
        return {
            "page": self.page,
            "degraded_counts_as_up": degraded_counts_as_up,
            "windows": [name for name, _ in WINDOWS],
            "components": [
                {"id": view.monitor.id, "name": view.monitor.name,
                 "uptime": {name: _floor4(view.uptime.get(name)) for name, _ in WINDOWS}}
                for view in self.views
            ],
        }

    def documents(self) -> dict[str, Any]:
        """Every file under api/v2/, by path."""
        incidents = [self.incident(i) for i in self.incidents]
        unresolved = [i for i in incidents if i["status"] != "resolved"]
        maintenances = [self.maintenance_item(m) for m in self.maintenance]
        upcoming_or_active = [m for m in maintenances if m["status"] in ("scheduled", "in_progress")]
        upcoming_or_active.sort(key=lambda m: (m["scheduled_for"], m["id"]))
        return {
            "summary.json": {
                "page": self.page,
                "components": self._components,
                "incidents": unresolved,
                "scheduled_maintenances": upcoming_or_active,
                "status": self.status(),
            },
            "status.json": {"page": self.page, "status": self.status()},
            "components.json": {"page": self.page, "components": self._components},
            "incidents.json": {"page": self.page, "incidents": incidents[:RECENT_INCIDENTS]},
            "incidents/unresolved.json": {"page": self.page, "incidents": unresolved},
            "scheduled-maintenances.json": {"page": self.page, "scheduled_maintenances": maintenances},
            "scheduled-maintenances/upcoming.json": {
                "page": self.page,
                "scheduled_maintenances": [m for m in upcoming_or_active if m["status"] == "scheduled"],
            },
            "scheduled-maintenances/active.json": {
                "page": self.page,
                "scheduled_maintenances": [m for m in upcoming_or_active if m["status"] == "in_progress"],
            },
        }


def _floor4(value: float | None) -> float | None:
    return None if value is None else math.floor(value * 10_000 + 1e-7) / 10_000
