"""Render a SiteInput into ``_site/``: pages, Statuspage-style JSON API, badges, feeds and a calendar.

Deterministic: the same SiteInput gives the same bytes in every file except
``build.json``'s ``built_at`` (the wall-clock time of the build). Pages show
"data as of" ``now``, which is part of the input.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

from generator import __version__
from generator.secrets import mask
from generator.site import publish
from generator.site.listing import Listed
from generator.site.model import BuildReport, SiteInput
from generator.site.output import Counts, Entry, SiteWriter
from generator.site.renderer import Renderer
from generator.site.source import collect
from generator.site.theme import static_files, theme_dirs
from generator.timeutil import to_iso, utcnow

log = logging.getLogger("statusgen.site")


PARALLEL_FROM = 200  # monitors; below this, forking workers costs more than it saves

_job: Any = None  # (renderer, writer, feed index): set just before forking, inherited by the workers

Streamed = list[tuple[int, Listed]]


def _stream(renderer: Renderer, writer: SiteWriter, feeds: publish.FeedIndex, indices: Iterable[int]) -> Streamed:
    """Each monitor in turn: read its history, write its page, badges and feeds, keep only its listing."""
    monitors = renderer.config.monitors
    found = []
    for index in indices:
        view = renderer.view_of(monitors[index])
        renderer.monitor(writer, view)
        publish.monitor_badges(renderer, writer, view)
        publish.monitor_feeds(renderer, writer, feeds, view.monitor)
        found.append((index, renderer.listed_of(view)))
    return found


def _render_monitors(indices: list[int]) -> tuple[Streamed, dict[str, Entry], Counts]:
    """In a forked worker: some monitors, written straight into the site; their listings and files go back."""
    renderer, parent, feeds = _job
    writer = SiteWriter.worker(parent)
    found = _stream(renderer, writer, feeds, indices)
    return (found, *writer.result())


def _monitor_workers(renderer: Renderer, writer: SiteWriter, feeds: publish.FeedIndex) -> Any:
    """Start forked workers for the monitors when there are many; None to render them here."""
    global _job
    workers = min(os.cpu_count() or 1, 4)
    count = len(renderer.config.monitors)
    if count < PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    _job = (renderer, writer, feeds)
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
        chunks = [list(range(i, count, workers * 2)) for i in range(workers * 2)]
        futures = [pool.submit(_render_monitors, chunk) for chunk in chunks]  # forks now, before any writer thread
        return pool, futures
    except (OSError, RuntimeError):
        return None
    finally:
        _job = None


def _masked(value: Optional[str]) -> Optional[str]:
    return mask(value) if value else value


def without_secrets(site: SiteInput) -> SiteInput:
    """The input with secret values masked in every text the pages show from monitors.yaml.

    ``${NAME}`` may stand in a monitor's name, group or description and in the site's title
    (config resolves it everywhere); those texts reach pages, badges, the API and the feeds
    through many paths, so they are masked once, here, before any of them is built.
    """
    config = site.config
    monitors = tuple(
        dataclasses.replace(m, name=mask(m.name), group=_masked(m.group), description=_masked(m.description))
        if mask(f"{m.name}\n{m.group}\n{m.description}") != f"{m.name}\n{m.group}\n{m.description}" else m
        for m in config.monitors
    )
    page = config.site
    page = dataclasses.replace(page, title=mask(page.title), description=mask(page.description), logo=_masked(page.logo))
    return dataclasses.replace(site, config=dataclasses.replace(config, site=page, monitors=monitors))


def _local_logo(site: SiteInput, warnings: list[str]) -> SiteInput:
    """A logo on another host would be requested by every visit (the site promises none): not shown."""
    logo = site.config.site.logo
    if not logo or not (urlsplit(logo.strip()).scheme or logo.strip().startswith("//")):
        return site
    warnings.append(f"site.logo: {logo!r} is not a file of the site, so it is not shown (pages make no request "
                    f"to other hosts): put the image in site/static/ and write logo: assets/<file name>")
    log.warning("%s", warnings[-1])
    page = dataclasses.replace(site.config.site, logo=None)
    return dataclasses.replace(site, config=dataclasses.replace(site.config, site=page))


def render_site(site: SiteInput, out_dir: Path | str, *, theme_dir: Optional[Path | str] = None) -> BuildReport:
    """Write the site for ``site`` into ``out_dir``, in place: only files whose bytes changed are
    written (each atomically) and only files no longer produced are removed (``output``).

    Monitors are streamed (``_stream``); with many, forked workers (one per core) take them
    while this process writes everything else.
    """
    started = time.perf_counter()
    folders = theme_dirs(theme_dir)
    warnings: list[str] = []
    site = _local_logo(without_secrets(site), warnings)
    renderer = Renderer(site, folders)
    renderer.check_templates()
    feeds = publish.feed_index(renderer)
    writer = SiteWriter(Path(out_dir))
    report = BuildReport(out_dir=Path(out_dir), overall=renderer.overall.key, warnings=warnings)
    workers = None
    try:
        workers = _monitor_workers(renderer, writer, feeds)
        streamed = _stream(renderer, writer, feeds, range(len(site.config.monitors))) if workers is None else []
        for incident in renderer.incidents:
            renderer.incident(writer, incident)
        for item in renderer.maintenance:
            renderer.maintenance_page(writer, item)
        renderer.history(writer)
        renderer.page(writer, "404.html", "404.html")
        for name, source in static_files(folders):
            writer.copy("assets/" + name, source)
        writer.write(".nojekyll", b"")
        writer.write(
            "build.json",
            publish.json_bytes({"built_at": to_iso(utcnow().replace(microsecond=0)), "data_as_of": to_iso(site.now),
                   "generator": f"statusgen {__version__}"}),
        )
        if workers is not None:
            pool, futures = workers
            try:
                for future in futures:
                    found, entries, counts = future.result()
                    streamed.extend(found)
                    writer.merge(entries, counts)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        renderer.listed = [item for _, item in sorted(streamed, key=lambda pair: pair[0])]
        # the pages that list many monitors, once every monitor is listed
        renderer.home(writer)
        renderer.subscribe(writer)
        publish.site_badges(renderer, writer)
        api = publish.write_api(renderer, writer)
        publish.site_feeds(renderer, writer, feeds)
        publish.write_calendar(renderer, writer, api)
        writer.commit()
    except BaseException:
        if workers is not None:
            workers[0].shutdown(wait=True, cancel_futures=True)
        writer.abort()
        raise
    report.pages, report.files, report.bytes = writer.pages, writer.files, writer.bytes
    report.written, report.removed = writer.changed, writer.removed
    report.render_seconds = time.perf_counter() - started
    report.seconds = report.render_seconds
    return report


def build_site(
    config,
    history,
    incidents,
    maintenance,
    out_dir: Path | str,
    *,
    now: Optional[datetime] = None,
    theme_dir: Optional[Path | str] = None,
) -> BuildReport:
    """Read what the site needs from ``history`` (one monitor at a time, as the build reaches it) and
    render it with the incidents and maintenance windows."""
    started = time.perf_counter()
    site = collect(config, history, incidents, maintenance, now)
    collected = time.perf_counter()
    report = render_site(site, out_dir, theme_dir=theme_dir)
    report.collect_seconds = collected - started
    report.seconds = time.perf_counter() - started
    return report
