"""One run, as data flows through it: config -> probes -> history -> status machine ->
tracker -> recovery -> notify -> site.

Every arrow goes one way. Each step's failure is contained: a tracker that stays
unavailable does not lose the checks (they are recorded first) nor stop the site
build; the run says so with its exit code and reconciles on the next run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional, TextIO

from generator.exitcodes import BAD_INPUT as EXIT_BAD_INPUT
from generator.exitcodes import DATA as EXIT_DATA
from generator.exitcodes import OK as EXIT_OK
from generator.exitcodes import TRACKER as EXIT_TRACKER
from generator.incidents.select import choose_tracker, local_notices, site_url
from generator.incidents.sync import PENDING_CACHE, advance, apply_transition, comment
from generator.models import (
    Check,
    CheckStatus,
    Config,
    Maintenance,
    Monitor,
    MonitorState,
    TimelineEntry,
    TransitionKind,
)
from generator.report import Console, RunReport
from generator.timeutil import duration_between, format_duration, utcnow


@dataclass
class Options:
    config_path: Path = Path("monitors.yaml")
    data_dir: Path = Path("data")
    incidents_dir: Path = Path("incidents")
    site_dir: Path = Path("_site")
    theme_dir: Optional[Path] = None
    tracker: Optional[str] = None  # "github", "files" or None (auto)
    environ: dict = field(default_factory=lambda: dict(os.environ))
    checks_file: Optional[Path] = None
    build: bool = True
    recovery: bool = True


# --------------------------------------------------------------------------- loading


def load(options: Options, out: Console) -> Optional[Config]:
    from generator.config import ConfigError, format_problems, load_config

    try:
        return load_config(options.config_path, environ=options.environ)
    except ConfigError as error:
        out.error(format_problems(error.problems, github=options.environ.get("GITHUB_ACTIONS") == "true"))
        return None


def open_history(config: Config, options: Options):
    from generator.history import History

    return History(options.data_dir, retention_days=config.settings.retention_days)


# --------------------------------------------------------------------------- probing


def mark_maintenance(checks: list[Check], windows: list[Maintenance]) -> list[Check]:
    """A check inside a maintenance window is neither up nor down: record it as maintenance."""
    from dataclasses import replace

    marked = []
    for check in checks:
        if any(w.covers(check.monitor_id, check.time) for w in windows) and check.status is not CheckStatus.NO_DATA:
            details = dict(check.details)
            details["observed"] = check.status.value
            check = replace(check, status=CheckStatus.MAINTENANCE, details=details)
        marked.append(check)
    return marked


def _probe_all(config: Config, monitors) -> list[Check]:
    from generator.runner import run_probes

    return run_probes(list(monitors), config.settings)


def _print_checks(out: Console, config: Config, checks: list[Check]) -> None:
    from generator.runner import format_markdown_table, format_table

    out.line(format_table(checks, list(config.monitors)))
    out.md("### Checks\n")
    out.md(format_markdown_table(checks, list(config.monitors)))


def probe(options: Options, *, shard: Optional[str] = None, region: Optional[str] = None,
          partial_out: Optional[str] = None) -> int:
    out = Console(options.environ)
    config = load(options, out)
    if config is None:
        return EXIT_BAD_INPUT
    monitors = list(config.monitors)
    if shard is not None:  # --shard "" is a bad argument, not "no shard"
        from generator.shard import ShardError, parse_shard, select_shard

        try:
            index, total = parse_shard(shard)
        except ShardError as error:
            out.error(str(error))
            return EXIT_BAD_INPUT
        monitors = select_shard(monitors, index, total)
    if region:
        from generator.shard import select_region

        monitors = select_region(monitors, region)  # a monitor with regions: is probed only from those
    started = utcnow()
    checks = _probe_all(config, monitors)
    if region:
        from dataclasses import replace

        checks = [replace(c, region=region) for c in checks]
    _print_checks(out, config, checks)
    if partial_out:
        from generator.shard import write_partial

        try:
            write_partial(partial_out, checks, shard=shard, region=region, started=started, finished=utcnow())
        except OSError as error:  # --out names a folder, or a place that cannot be written
            out.error(f"{partial_out}: cannot write the results: {error.strerror or error}")
            return EXIT_BAD_INPUT
        out.line(f"wrote {len(checks)} results to {partial_out}")
    else:
        from generator.history import HistoryError

        try:
            open_history(config, options).record(checks)
        except (OSError, HistoryError) as error:
            out.error(f"{options.data_dir}: cannot write history: {error}")
            return EXIT_DATA
    out.flush_summary()
    return EXIT_OK


def merge(options: Options, partials: list[Path], merged_out: Path) -> int:
    from generator.shard import ShardError, merge as merge_partials, read_partial, write_partial

    out = Console(options.environ)
    config = load(options, out)
    if config is None:
        return EXIT_BAD_INPUT
    try:
        loaded = [read_partial(p) for p in partials]
    except ShardError as error:
        out.error(str(error))
        return EXIT_BAD_INPUT
    checks = merge_partials(loaded, list(config.monitors), quorum=config.settings.quorum)
    try:
        write_partial(merged_out, checks, started=min(p.started for p in loaded),
                      finished=max(p.finished for p in loaded))
    except OSError as error:
        out.error(f"{merged_out}: cannot write the merged results: {error.strerror or error}")
        return EXIT_BAD_INPUT
    out.line(f"merged {len(loaded)} partial results into {merged_out}: {len(checks)} monitors")
    return EXIT_OK


# --------------------------------------------------------------------------- the main job


def run(options: Options, *, stream: TextIO | None = None) -> int:
    out = Console(options.environ, stream)
    config = load(options, out)
    if config is None:
        return EXIT_BAD_INPUT
    try:
        history = open_history(config, options)
        states = history.load_states()
    except Exception as error:  # HistoryError, OSError: never overwrite what we could not read
        out.error(f"{options.data_dir}: {error}")
        return EXIT_DATA
    report = RunReport()
    tracker = choose_tracker(config, options.tracker, options.environ, history, options.incidents_dir)
    from generator.incidents.base import TrackerError

    # Maintenance first: it decides how this run's checks are recorded.
    windows: list[Maintenance] = []
    try:
        windows = list(tracker.maintenance())
    except TrackerError as error:
        report.tracker_errors.append(str(error))
    extra_incidents, extra_windows = local_notices(options.incidents_dir, tracker)
    windows += extra_windows

    if options.checks_file:
        from generator.shard import ShardError, read_partial

        try:
            checks = read_partial(options.checks_file).checks
        except ShardError as error:
            out.error(str(error))
            return EXIT_BAD_INPUT
        unknown = sorted({c.monitor_id for c in checks} - {m.id for m in config.monitors})
        if unknown:  # results from an older monitors.yaml: recording them would grow orphan history
            out.error(f"warning: {options.checks_file}: ignoring results for monitors not in "
                      f"{options.config_path}: {', '.join(unknown)}")
            checks = [c for c in checks if c.monitor_id not in unknown]
    else:
        checks = _probe_all(config, config.monitors)
    checks = mark_maintenance(checks, windows)
    from generator.history import HistoryError

    try:
        history.record(checks)
        history.prune(utcnow())
    except (OSError, HistoryError) as error:
        out.error(f"{options.data_dir}: cannot write history: {error}")
        return EXIT_DATA
    report.checks = checks
    _print_checks(out, config, checks)

    try:
        # The ledgers below decide what the tracker, the restart hooks and the notifications do:
        # read them all before acting, so a broken one stops the run before anything half-happens.
        for name in ledgers():
            history.read_json(name)
        states = advance(config, states, checks, windows, tracker, history, report)
        history.save_states(states)

        if options.recovery:
            states = recover(config, states, tracker, history, report, out, windows)
            history.save_states(states)

        notify(config, report, history, tracker, out)
    except (OSError, HistoryError) as error:  # the checks are recorded; nothing was overwritten
        out.error(f"{options.data_dir}: {error}")
        return EXIT_DATA

    build_failed = data_failed = False
    if options.build:
        from generator.site import SiteError

        try:
            _build(config, options, history, tracker, extra_incidents, windows, out)
        except TrackerError as error:
            report.tracker_errors.append(str(error))
        except HistoryError as error:  # a broken roll-up: say which, overwrite nothing
            out.error(f"site: {error}")
            data_failed = True
        except (SiteError, OSError) as error:  # a broken theme override, a bad time zone, a full disk
            out.error(f"site: {error}")
            build_failed = True

    if tracker.request_count():
        out.line(f"{tracker.name}: {tracker.request_count()} requests this run")
    _print_summary(report, out)
    out.flush_summary()
    if report.tracker_errors:
        for message in report.tracker_errors:
            out.error(f"tracker: {message}")
        return EXIT_TRACKER
    if data_failed:
        return EXIT_DATA
    return EXIT_BAD_INPUT if build_failed else EXIT_OK


def ledgers() -> tuple[str, ...]:
    """The cache files in data/cache/ a run acts on (pending tracker updates, restarts, notifications)."""
    from generator.notify import CACHE_NAME as NOTIFY_CACHE
    from generator.recovery import CACHE_NAME as RESTART_CACHE

    return (PENDING_CACHE, RESTART_CACHE, NOTIFY_CACHE)


# --------------------------------------------------------------------------- recovery and notifications


VERIFY_THREADS = 16  # services restarted in the same run are watched side by side, not one after another


def recover(config: Config, states: dict[str, MonitorState], tracker, history, report: RunReport, out: Console,
            windows: list[Maintenance]) -> dict[str, MonitorState]:
    """Ask failing services to restart, watch them come back, and resolve in the same run.

    Restart requests go out one after another (each is bounded by its timeout and the
    attempt ledger is one file); the verification loops, up to ``verify_for`` each, run
    concurrently, so ten services restarted together still take one window, not ten.
    Tracker calls stay on this thread.
    """
    candidates = [m for m in config.monitors if m.restart and states.get(m.id) and states[m.id].incident_open]
    if not candidates:
        return states
    from concurrent.futures import ThreadPoolExecutor

    from generator.recovery import Recovery
    from generator.runner import probe_with_retries

    recovery = Recovery(history)
    states = dict(states)
    last_checks = {c.monitor_id: c for c in report.checks}
    accepted: list[tuple[Monitor, datetime]] = []
    for monitor in candidates:
        state = states[monitor.id]
        now = utcnow()
        if not recovery.due(monitor, state, now):
            continue
        attempt = recovery.attempt(monitor, state, last_checks.get(monitor.id), state.incident_key, now)
        report.notes.append(f"restart requested for {monitor.id}: {'accepted' if attempt.ok else 'failed'}")
        comment(tracker, state.incident_key, TimelineEntry(now, "restart", recovery.timeline_text(attempt)), report, monitor)
        if attempt.ok:
            accepted.append((monitor, utcnow()))
    if not accepted:
        return states
    with ThreadPoolExecutor(max_workers=min(VERIFY_THREADS, len(accepted)), thread_name_prefix="verify") as pool:
        watching = [(monitor, started, pool.submit(recovery.verify, monitor, probe_with_retries, monitor.success_threshold))
                    for monitor, started in accepted]
        outcomes = [(monitor, started, future.result()) for monitor, started, future in watching]
    failed: set[str] = set()
    for monitor, verify_started, verification in outcomes:
        verification = mark_maintenance(verification, windows)
        history.record(verification)
        states[monitor.id], ok = _settle(config, monitor, states[monitor.id], verification, verify_started,
                                         tracker, report)
        if not ok:
            failed.add(monitor.id)
    if failed:
        history.write_json(PENDING_CACHE, sorted(set(history.read_json(PENDING_CACHE, []) or []) | failed))
    return states


def _settle(config: Config, monitor: Monitor, state: MonitorState, verification: list[Check],
            verify_started: datetime, tracker, report: RunReport) -> tuple[MonitorState, bool]:
    """Feed the verification checks to the status machine; a recovery resolves the incident now."""
    from generator.status import step

    ok = True
    for vcheck in verification:
        key_before = state.incident_key  # step() moves it to last_incident_key on resolve
        state, transitions = step(monitor, state, vcheck, flap_window=config.settings.flap_window)
        for transition in transitions:
            report.transitions.append(transition)
            if transition.kind is TransitionKind.RESOLVED:
                took = duration_between(verify_started, vcheck.time).total_seconds()
                since_start = duration_between(transition.started or verify_started, vcheck.time).total_seconds()
                comment(tracker, key_before, TimelineEntry(
                    vcheck.time, "recovered",
                    f"Recovered after the restart: answering again {took:.1f}s after the restart request "
                    f"({format_duration(since_start)} after the incident started)."), report, monitor)
            state, applied = apply_transition(monitor, state, transition, tracker, report)
            ok = ok and applied
    return state, ok


def notify(config: Config, report: RunReport, history, tracker, out: Console) -> None:
    if not report.transitions or not any(m.notify for m in config.monitors):
        return
    from generator.notify import Notifier

    notifier = Notifier(history)
    base = site_url(config)
    issue_urls = {i.key: i.url for i in tracker.cached_incidents() if i.url}  # no request: already synced
    for transition in report.transitions:
        monitor = config.monitor(transition.monitor_id)
        if monitor is None or not monitor.notify:
            continue
        page = f"{base}monitors/{monitor.id}/" if base else None
        url = issue_urls.get(transition.incident_key or report.keys.get(monitor.id, ""))
        for line in notifier.notify(monitor, transition, incident_url=url, site_url=page):
            out.line(f"notified {line} ({transition.kind.value} {monitor.id})")


# --------------------------------------------------------------------------- site


def _build(config: Config, options: Options, history, tracker, extra_incidents, windows, out: Console) -> None:
    """Build the site; when the tracker is unreachable, from what it last cached, then re-raise."""
    from generator.incidents.base import TrackerError
    from generator.site import build_site

    failure: Optional[TrackerError] = None
    try:
        known = list(tracker.incidents())
    except TrackerError as error:
        failure = error
        known = list(tracker.cached_incidents())
        out.error(f"tracker unavailable: building the site from {len(known)} cached incidents")
    incidents = known + list(extra_incidents)
    incidents.sort(key=lambda i: (i.started, i.key), reverse=True)
    result = build_site(config, history, incidents, windows, options.site_dir, theme_dir=options.theme_dir)
    out.line(f"built {options.site_dir}/ ({getattr(result, 'pages', '?')} pages)")
    if failure is not None:
        raise failure


def build(options: Options) -> int:
    from generator.history import HistoryError
    from generator.incidents.base import TrackerError
    from generator.site import SiteError

    out = Console(options.environ)
    config = load(options, out)
    if config is None:
        return EXIT_BAD_INPUT
    history = open_history(config, options)
    tracker = choose_tracker(config, options.tracker, options.environ, history, options.incidents_dir)
    extra_incidents, extra_windows = local_notices(options.incidents_dir, tracker)
    code = EXIT_OK
    try:
        try:
            windows = list(tracker.maintenance()) + extra_windows
        except TrackerError:
            windows = extra_windows
        _build(config, options, history, tracker, extra_incidents, windows, out)
    except TrackerError as error:
        out.error(f"tracker: {error}")
        code = EXIT_TRACKER
    except HistoryError as error:
        out.error(f"{options.data_dir}: {error}")
        code = EXIT_DATA
    except (SiteError, OSError) as error:
        out.error(f"site: {error}")
        code = EXIT_BAD_INPUT
    return code


def _print_summary(report: RunReport, out: Console) -> None:
    """What opened, changed and resolved (the check table already gave the counts)."""
    if not report.notes:
        out.line("no incident opened, changed or resolved")
        return
    for note in report.notes:
        out.line(note)
    out.md("\n### Incidents\n")
    out.md("\n".join(f"- {note}" for note in report.notes))
