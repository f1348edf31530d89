"""The engine's commands, built from its steps: ``statusgen probe``, ``merge``, ``run``, ``build``.

``run`` is the main job, one pass as data flows: load -> probe every monitor -> record -> step
the status machine and act on the transitions (tracker, notify, recovery) -> publish the site.
Each step's failure is contained: a tracker that stays unavailable does not lose the checks (they
are recorded first) nor stop the site build; the run reports it and returns an :class:`Outcome`
that the CLI maps to exit 3, and the next run reconciles.

Failures that end a command early are raised as typed errors (``generator.errors``) carrying the
message to print; the CLI prints them and chooses the exit code.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence, TextIO

from generator.errors import BadInput, DataError, Outcome, StatusgenError, TrackerUnavailable
from generator.history import HistoryError
from generator.incidents.base import TrackerError
from generator.report import Console
from generator.run import loading, recording
from generator.run.engine import Engine
from generator.run.options import Options
from generator.run.probing import run_probes
from generator.run.publishing import build as build_site
from generator.run.publishing import publish
from generator.run.shard import ShardError, parse_shard, read_partial, select_region, select_shard, write_partial
from generator.run.shard import merge as merge_partials
from generator.site import SiteError
from generator.timeutil import utcnow


def probe(options: Options, *, shard: Optional[str] = None, region: Optional[str] = None,
          partial_out: Optional[str] = None) -> Outcome:
    """``statusgen probe``: load, probe (a shard, from a region), then record or write a partial."""
    out = Console(options.environ)
    config = loading.load(options)
    monitors = list(config.monitors)
    if shard is not None:  # --shard "" is a bad argument, not "no shard"
        try:
            index, total = parse_shard(shard)
        except ShardError as error:
            raise BadInput(str(error)) from None
        monitors = select_shard(monitors, index, total)
    if region:
        monitors = select_region(monitors, region)  # a monitor with regions: is probed only from those
    started = utcnow()
    checks = run_probes(monitors, config.settings).checks
    if region:
        checks = [replace(c, region=region) for c in checks]
    out.checks(checks, config.monitors)
    if partial_out:
        try:
            write_partial(partial_out, checks, shard=shard, region=region, started=started, finished=utcnow())
        except OSError as error:  # --out names a folder, or a place that cannot be written
            raise BadInput(f"{partial_out}: cannot write the results: {error.strerror or error}") from None
        out.line(f"wrote {len(checks)} results to {partial_out}")
    else:
        recording.record(loading.open_history(config, options), checks, options.data_dir)
    out.flush_summary()
    return Outcome()


def merge(options: Options, partials: Sequence[Path], merged_out: Path) -> Outcome:
    """``statusgen merge``: shard and region partials into one result per monitor, for ``run --checks``."""
    out = Console(options.environ)
    config = loading.load(options)
    try:
        loaded = [read_partial(p) for p in partials]
        checks = merge_partials(loaded, list(config.monitors), quorum=config.settings.quorum)
    except ShardError as error:
        raise BadInput(str(error)) from None
    try:
        write_partial(merged_out, checks, started=min(p.started for p in loaded),
                      finished=max(p.finished for p in loaded))
    except OSError as error:
        raise BadInput(f"{merged_out}: cannot write the merged results: {error.strerror or error}") from None
    out.line(f"merged {len(loaded)} partial results into {merged_out}: {len(checks)} monitors")
    return Outcome()


def run(options: Options, *, stream: Optional[TextIO] = None) -> Outcome:
    """``statusgen run``: one pass of the engine over every monitor, then the site."""
    out = Console(options.environ, stream)
    with Engine.open(options, out) as engine:
        config = engine.config
        if options.checks_file:
            checks, unknown = loading.read_checks(options.checks_file, config, options)
            if unknown:
                out.error(f"warning: {options.checks_file}: ignoring results for monitors not in "
                          f"{options.config_path}: {', '.join(unknown)}")
        else:
            checks = engine.probe(config.monitors).checks
        checks = engine.record(checks)
        engine.prune(utcnow())
        out.checks(checks, config.monitors)
        tick = engine.act(checks)
        settled = engine.drain()

    notes = list(tick.acts.notes) + [note for unit in settled for note in unit.acts.notes]
    tracker_errors = (list(engine.notices.tracker_errors) + list(tick.acts.tracker_errors)
                      + [error for unit in settled for error in unit.acts.tracker_errors])
    failure: Optional[StatusgenError] = None
    if options.build:
        published = publish(config, options, engine.history, engine.tracker, engine.notices, out)
        if published.tracker_error:
            tracker_errors.append(published.tracker_error)
        failure = published.failure

    if engine.tracker.request_count():
        out.line(f"{engine.tracker.name}: {engine.tracker.request_count()} requests this run")
    out.notes(notes)
    out.flush_summary()
    if tracker_errors:
        for message in tracker_errors:
            out.error(f"tracker: {message}")
        return Outcome(TrackerUnavailable("\n".join(f"tracker: {m}" for m in tracker_errors)))
    return Outcome(failure)


def build(options: Options) -> Outcome:
    """``statusgen build``: the publish step alone, from the history and the incidents."""
    out = Console(options.environ)
    config = loading.load(options)
    history = loading.open_history(config, options)
    tracker = loading.open_tracker(config, options, history)
    notices = loading.load_notices(tracker, options)  # maintenance the tracker cannot give is left out
    try:
        build_site(config, options, history, tracker, notices, out)
    except TrackerError as error:
        raise TrackerUnavailable(f"tracker: {error}") from None
    except HistoryError as error:
        raise DataError(f"{options.data_dir}: {error}") from None
    except (SiteError, OSError) as error:
        raise BadInput(f"site: {error}") from None
    return Outcome()
