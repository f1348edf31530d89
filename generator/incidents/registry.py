"""The tracker registry: which incident backend a run uses, and the hand-written notices beside it.

Each backend is one :class:`TrackerKind` entry: its name (the ``--tracker`` choice), whether the
environment asks for it when no ``--tracker`` is given, and how to create it. The first entry
whose ``wanted(environ)`` holds is chosen; the last entry is the fallback. A new backend is one
module plus one entry in :data:`TRACKERS`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

from generator import secrets
from generator.errors import UsageError
from generator.history.ledger import Ledger
from generator.incidents.base import Tracker, TrackerError
from generator.incidents.files import FilesTracker
from generator.incidents.github import GitHubTracker, RetryPolicy
from generator.models import Config, Incident, Maintenance

Environ = Mapping[str, str]

log = logging.getLogger("statusgen.run")


@dataclass(frozen=True)
class TrackerKind:
    """One incident backend as the registry knows it."""

    name: str
    help: str
    wanted: Callable[[Environ], bool]  # chosen when no --tracker is given and this holds
    create: Callable[[Config, Environ, Ledger, Path], Tracker]


def site_url(config: Config) -> Optional[str]:
    base = config.site.base_url
    if not base:
        return None
    return base if base.endswith("/") else base + "/"


# --------------------------------------------------------------------------- github


def _github_wanted(env: Environ) -> bool:
    return bool(env.get("GITHUB_TOKEN") and env.get("GITHUB_REPOSITORY"))


def _github(config: Config, env: Environ, history: Ledger, incidents_dir: Path) -> Tracker:
    token = env.get("GITHUB_TOKEN")
    repo = env.get("GITHUB_REPOSITORY") or config.site.repository
    if not token or not repo:
        raise UsageError("--tracker github needs GITHUB_TOKEN and GITHUB_REPOSITORY (or site.repository) to be set")
    secrets.register(token)
    tuning = github_tuning(env)
    try:
        return GitHubTracker(
            repo,
            token,
            base_url=env.get("GITHUB_API_URL", "https://api.github.com"),
            cache=history,
            site_url=site_url(config),
            retry=tuning.retry,
            seconds_between_writes=tuning.seconds_between_writes,
            seconds_between_requests=tuning.seconds_between_requests,
        )
    except TrackerError as error:  # e.g. GITHUB_REPOSITORY not of the form owner/name
        raise UsageError(str(error)) from None


@dataclass(frozen=True)
class GitHubTuning:
    retry: RetryPolicy
    seconds_between_writes: Optional[float]
    seconds_between_requests: Optional[float]


def github_tuning(env: Environ) -> GitHubTuning:
    """Operator knobs: STATUSGEN_GITHUB_RETRY_BUDGET (s slept on retries per request, default 60),
    STATUSGEN_GITHUB_BACKOFF (first wait, default 1), STATUSGEN_GITHUB_WRITE_PACE (s between writes,
    default 1, GitHub's advice against secondary rate limits)."""

    def number(name: str, default: float) -> float:
        try:
            return float(env.get(name, default))
        except ValueError:
            raise UsageError(f"{name}={env.get(name)!r} is not a number of seconds") from None

    policy = RetryPolicy(budget=number("STATUSGEN_GITHUB_RETRY_BUDGET", 60.0),
                         backoff=number("STATUSGEN_GITHUB_BACKOFF", 1.0))
    pace = number("STATUSGEN_GITHUB_WRITE_PACE", 1.0)
    return GitHubTuning(policy, pace or None, min(0.25, pace) or None)


# --------------------------------------------------------------------------- files


def _files_wanted(env: Environ) -> bool:
    return True  # the fallback: no remote needed


def _files(config: Config, env: Environ, history: Ledger, incidents_dir: Path) -> Tracker:
    return FilesTracker(incidents_dir, site_url=site_url(config))


# --------------------------------------------------------------------------- the registry


TRACKERS: tuple[TrackerKind, ...] = (
    TrackerKind("github", "GitHub issues (default when GITHUB_TOKEN and GITHUB_REPOSITORY are set)",
                _github_wanted, _github),
    TrackerKind("files", "Markdown files in --incidents", _files_wanted, _files),
)


def tracker_names() -> list[str]:
    """The ``--tracker`` choices."""
    return [kind.name for kind in TRACKERS]


def tracker_kind(name: str) -> TrackerKind:
    for kind in TRACKERS:
        if kind.name == name:
            return kind
    raise UsageError(f"--tracker {name!r}: not one of {', '.join(tracker_names())}")


def choose_tracker(config: Config, name: Optional[str], environ: Environ, history: Ledger,
                   incidents_dir: Path) -> Tracker:
    """The backend named by ``--tracker``, else the first the environment asks for."""
    if name is None:
        kind = next(kind for kind in TRACKERS if kind.wanted(environ))
        if kind is TRACKERS[-1] and environ.get("GITHUB_ACTIONS") == "true":
            # On a runner the checkout is thrown away: incident files there are lost unless committed.
            missing = " and ".join(n for n in ("GITHUB_TOKEN", "GITHUB_REPOSITORY") if not environ.get(n))
            log.warning(
                "running under GitHub Actions without %s: incidents are kept as Markdown files in %s/, "
                "not as issues; pass GITHUB_TOKEN: ${{ github.token }} to this step (or --tracker files "
                "if that is what you want)", missing, incidents_dir)
    else:
        kind = tracker_kind(name)
    return kind.create(config, environ, history, incidents_dir)


def local_notices(incidents_dir: Path, tracker: Tracker) -> tuple[list[Incident], list[Maintenance]]:
    """With GitHub as the tracker, hand-written files in incidents/ still count.

    Malformed files are logged (a warning naming file and field) and skipped by the backend."""
    if isinstance(tracker, FilesTracker) or not incidents_dir.is_dir():
        return [], []
    files = FilesTracker(incidents_dir)
    manual = [i for i in files.incidents() if not i.automated]
    return manual, files.maintenance()
