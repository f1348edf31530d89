"""Which incident backend a run uses, and the hand-written notices that count beside it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

from generator import secrets
from generator.exitcodes import BAD_INPUT
from generator.models import Config, Incident, Maintenance


def site_url(config: Config) -> Optional[str]:
    base = config.site.base_url
    if not base:
        return None
    return base if base.endswith("/") else base + "/"


def choose_tracker(config: Config, kind: Optional[str], environ: dict, history, incidents_dir: Path):
    """GitHub when asked, or when a token and repository are in the environment; files otherwise."""
    env = environ
    if kind is None:
        kind = "github" if env.get("GITHUB_TOKEN") and env.get("GITHUB_REPOSITORY") else "files"
        if kind == "files" and env.get("GITHUB_ACTIONS") == "true":
            # On a runner the checkout is thrown away: incident files there are lost unless committed.
            missing = " and ".join(n for n in ("GITHUB_TOKEN", "GITHUB_REPOSITORY") if not env.get(n))
            logging.getLogger("statusgen.run").warning(
                "running under GitHub Actions without %s: incidents are kept as Markdown files in %s/, "
                "not as issues; pass GITHUB_TOKEN: ${{ github.token }} to this step (or --tracker files "
                "if that is what you want)", missing, incidents_dir)
    if kind == "github":
        from generator.incidents.base import TrackerError
        from generator.incidents.github import GitHubTracker, RetryPolicy

        token = env.get("GITHUB_TOKEN")
        repo = env.get("GITHUB_REPOSITORY") or config.site.repository
        if not token or not repo:
            _usage_error("--tracker github needs GITHUB_TOKEN and GITHUB_REPOSITORY (or site.repository) to be set")
        secrets.register(token)
        try:
            return GitHubTracker(
                repo,
                token,
                base_url=env.get("GITHUB_API_URL", "https://api.github.com"),
                cache=history,
                site_url=site_url(config),
                **github_tuning(env, RetryPolicy),
            )
        except TrackerError as error:  # e.g. GITHUB_REPOSITORY not of the form owner/name
            _usage_error(str(error))
    from generator.incidents.files import FilesTracker

    return FilesTracker(incidents_dir, site_url=site_url(config))


def _usage_error(message: str) -> None:
    """A setting the run cannot work with: say which, exit 2 (never a traceback)."""
    print(f"statusgen: {secrets.mask(message)}", file=sys.stderr, flush=True)
    raise SystemExit(BAD_INPUT)


def github_tuning(env: dict, retry_policy) -> dict:
    """Operator knobs: STATUSGEN_GITHUB_RETRY_BUDGET (s slept on retries per request, default 60),
    STATUSGEN_GITHUB_BACKOFF (first wait, default 1), STATUSGEN_GITHUB_WRITE_PACE (s between writes,
    default 1, GitHub's advice against secondary rate limits)."""
    def number(name: str, default: float) -> float:
        try:
            return float(env.get(name, default))
        except ValueError:
            _usage_error(f"{name}={env.get(name)!r} is not a number of seconds")

    policy = retry_policy(budget=number("STATUSGEN_GITHUB_RETRY_BUDGET", 60.0),
                          backoff=number("STATUSGEN_GITHUB_BACKOFF", 1.0))
    pace = number("STATUSGEN_GITHUB_WRITE_PACE", 1.0)
    return {"retry": policy, "seconds_between_writes": pace or None,
            "seconds_between_requests": min(0.25, pace) or None}


def local_notices(incidents_dir: Path, tracker) -> tuple[list[Incident], list[Maintenance]]:
    """With GitHub as the tracker, hand-written files in incidents/ still count.

    Malformed files are logged (a warning naming file and field) and skipped by the backend."""
    from generator.incidents.files import FilesTracker

    if isinstance(tracker, FilesTracker) or not incidents_dir.is_dir():
        return [], []
    files = FilesTracker(incidents_dir)
    manual = [i for i in files.incidents() if not i.automated]
    return manual, files.maintenance()
