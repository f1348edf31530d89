"""Step 6, publish: the static site from the history, the incidents and the maintenance windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from generator.errors import BadInput, DataError, StatusgenError
from generator.history import History, HistoryError
from generator.incidents.base import Tracker, TrackerError
from generator.models import Config
from generator.report import Console
from generator.run.loading import Notices
from generator.run.options import Options
from generator.site import SiteError, build_site


def build(config: Config, options: Options, history: History, tracker: Tracker, notices: Notices,
          out: Console) -> None:
    """Build the site; when the tracker is unreachable, from what it last cached, then re-raise."""
    failure: Optional[TrackerError] = None
    try:
        known = list(tracker.incidents())
    except TrackerError as error:
        failure = error
        known = list(tracker.cached_incidents())
        out.error(f"tracker unavailable: building the site from {len(known)} cached incidents")
    incidents = known + list(notices.manual_incidents)
    incidents.sort(key=lambda i: (i.started, i.key), reverse=True)
    result = build_site(config, history, incidents, list(notices.windows), options.site_dir,
                        theme_dir=options.theme_dir)
    out.line(f"built {options.site_dir}/ ({result.pages} pages; {result.files} files, {result.written} written, "
             f"{result.removed} removed)")
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
    except HistoryError as error:  # a broken roll-up: say which, overwrite nothing
        out.error(f"site: {error}")
        return Published(failure=DataError(f"site: {error}"))
    except (SiteError, OSError) as error:  # a broken theme override, a bad time zone, a full disk
        out.error(f"site: {error}")
        return Published(failure=BadInput(f"site: {error}"))
    return Published()
