"""The static site: history + incidents + maintenance -> ``_site/`` (pages, JSON API, badges, feeds).

Entry point: :func:`build_site`. The boundary is :class:`SiteInput` (plain data);
``source.collect`` is the only part that reads a History. Templates, CSS and
interface strings live in the top-level ``site/`` theme folder.
"""

from generator.site.builder import build_site, render_site
from generator.site.i18n import SiteError
from generator.site.model import BuildReport, MonitorData, Recent, SiteInput
from generator.site.source import collect

__all__ = ["BuildReport", "MonitorData", "Recent", "SiteError", "SiteInput", "build_site", "collect", "render_site"]
