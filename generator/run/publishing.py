"""Step 6, publish: the static site from the history, the incidents and the maintenance windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from generator.errors import BadInput, DataError, StatusgenError
from generator.history import History, HistoryError
from generator.incidents.base import Tracker, TrackerError
from generator.models import Config, Incident
from generator.report import Console
from generator.run.loading import Notices
from generator.run.options import Options
from generator.site import SiteError, build_site


def gather(tracker: Tracker, notices: Notices, out: Console) -> tuple[list[Incident], Optional[TrackerError]]:
    """The incidents to show, newest first: the tracker's (from its cache when it is unreachable,
    with the error) and the hand-written ones. The watcher calls this holding the engine's lock."""
    failure: Optional[TrackerError] = None
    try:
        known = list(tracker.incidents())
    except TrackerError as error:
        failure = error
        known = list(tracker.cached_incidents())
        out.error(f"tracker unavailable: building the site from {len(known)} cached incidents")
    incidents = known + list(notices.manual_incidents)
    incidents.sort(key=lambda i: (i.started, i.key), reverse=True)
    return incidents, failure


def render(config: Config, options: Options, history: History, incidents: Sequence[Incident], notices: Notices,
           out: Console) -> int:
    """Write the site (HTML, Statuspage JSON, badges, feeds); returns the number of pages."""
    result = build_site(config, history, list(incidents), list(notices.windows), options.site_dir,
                        theme_dir=options.theme_dir)
    out.line(f"built {options.site_dir}/ ({result.pages} pages; {result.files} files, {result.written} written, "
             f"{result.removed} removed)")
    return int(result.pages)


def build(config: Config, options: Options, history: History, tracker: Tracker, notices: Notices,
          out: Console) -> None:
    """Build the site; when the tracker is unreachable, from what it last cached, then re-raise."""
    incidents, failure = gather(tracker, notices, out)
    render(config, options, history, incidents, notices, out)
    if failure is not None:
        raise failure


@dataclass(frozen=True)
class Published:
    """How the publish step of a run went; a failure here never undoes the checks already recorded."""

    tracker_error: Optional[str] = None  # the site was built from the tracker's cache
    failure: Optional[StatusgenError] = None  # already printed: a broken roll-up, theme or disk


def publish(config: Config, options: Options, history: History, tracker: Tracker, notices: Notices,
            out: Console) -> Published:
    """The run's last step: build the site, and say what went wrong without stopping the run's report."""
    try:
        build(config, options, history, tracker, notices, out)
    except TrackerError as error:
        return Published(tracker_error=str(error))
    except (HistoryError, SiteError, OSError) as error:
        return Published(failure=site_failure(error, out))
    return Published()


def site_failure(error: Exception, out: Console) -> StatusgenError:
    """A broken roll-up (DataError: say which, overwrite nothing), a broken theme override, a bad time
    zone or a full disk (BadInput); printed here."""
    out.error(f"site: {error}")
    if isinstance(error, HistoryError):
        return DataError(f"site: {error}")
    return BadInput(f"site: {error}")
