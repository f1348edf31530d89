"""The ``statusgen`` command: a table of sub-commands, and the one place that chooses exit codes.

Each sub-command is a row of :data:`COMMANDS`: the module and function that do the work (imported
only when that sub-command runs, so ``statusgen check`` or ``--help`` never loads the site builder),
a line of help, its arguments, and how the parsed arguments become the function's parameters.

Library code raises typed failures (``generator.errors``) or returns an ``Outcome``; :func:`main`
maps them to the exit codes of ``generator.exitcodes``: 0 done, 2 bad input, 3 tracker unavailable,
4 history unreadable or unwritable, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

from generator import __version__, exitcodes
from generator.errors import BadInput, DataError, Outcome, StatusgenError, TrackerUnavailable, UsageError
from generator.incidents.registry import tracker_names
from generator.run.options import Options
from generator.secrets import MaskingFilter, mask
from generator.timeutil import parse_duration

Job = Callable[..., Any]


@dataclass(frozen=True)
class Command:
    module: str
    function: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    call: Callable[[Job, argparse.Namespace], Any]  # parsed arguments -> the function's parameters


# --------------------------------------------------------------------------- arguments


def _common(parser: argparse.ArgumentParser, *, site: bool = True) -> None:
    parser.add_argument("--config", default="monitors.yaml", help="monitors file (default: ./monitors.yaml)")
    parser.add_argument("--data", default="data", help="probe history folder (default: ./data)")
    parser.add_argument("--incidents", default="incidents", help="Markdown incidents folder (default: ./incidents)")
    if site:
        parser.add_argument("--out", dest="site_out", default="_site", help="site output folder (default: ./_site)")
        parser.add_argument("--theme", default=None, help="theme folder overriding the bundled site/ templates")
    else:
        parser.set_defaults(site_out="_site", theme=None)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("file", nargs="?", default=None, help="file to check (default: --config)")
    parser.add_argument("--secrets", action="store_true", help="also require every ${NAME} to be set")


def _probe_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser, site=False)
    parser.add_argument("--shard", default=None, metavar="K/N", help="probe only shard K of N (1-based)")
    parser.add_argument("--region", default=None, help="name of the region this runner probes from")
    parser.add_argument("--out", dest="partial_out", default=None, metavar="FILE",
                        help="write the results to FILE for `statusgen merge` instead of the history")


def _merge_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser, site=False)
    parser.add_argument("partials", nargs="+", help="partial result files")
    parser.add_argument("--out", dest="merged_out", required=True, metavar="FILE", help="merged results file")


def _tracker_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tracker", choices=tracker_names(), default=None,
                        help="incident backend (default: github when GITHUB_TOKEN and GITHUB_REPOSITORY are set)")


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    _tracker_argument(parser)
    parser.add_argument("--checks", default=None, metavar="FILE", help="use merged results instead of probing")
    parser.add_argument("--no-build", action="store_true", help="skip building the site")
    parser.add_argument("--no-recovery", action="store_true", help="never call restart webhooks")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _watch_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    _tracker_argument(parser)
    parser.add_argument("--for", dest="duration", type=_duration, default=None, metavar="DURATION",
                        help="stop cleanly after this long, e.g. 5h50m (default: until SIGTERM or Ctrl-C)")
    parser.add_argument("--once", action="store_true", help="one pass over every monitor: the same as `run`")
    parser.add_argument("--debounce", type=_duration, default=15.0, metavar="DURATION",
                        help="rebuild the site this soon after a transition (default 15s)")
    parser.add_argument("--lease-wait", type=_duration, default=None, metavar="DURATION",
                        help="wait at most this long for another watcher's lease on --data (default: as long as "
                             "it takes; 0: exit at once)")
    parser.add_argument("--on-publish", default=None, metavar="COMMAND",
                        help="run COMMAND after each publish (e.g. push the history, deploy the site)")
    parser.add_argument("--no-build", action="store_true", help="skip building the site")
    parser.add_argument("--no-recovery", action="store_true", help="never call restart webhooks")


def _build_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    _tracker_argument(parser)


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65533:
        raise argparse.ArgumentTypeError(f"{value} is not a port from 1 to 65533 (the demo uses it and the next two)")
    return value


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--port", type=_port, default=None,
                        help="first of three loopback ports for the demo services (default 8711; free ports are "
                             "used when one is taken)")
    parser.add_argument("--serve", action="store_true", help="then serve the site on http://127.0.0.1:8000/")


def _agent_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", dest="agent_config", default="agent.yaml", help="agent config (default: ./agent.yaml)")
    parser.add_argument("--listen", default=None, help="host:port (default from the config, else 127.0.0.1:9090)")


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", metavar="upptime|gatus", help="whose configuration FILE is")
    parser.add_argument("file", help="an Upptime .upptimerc.yml or a Gatus config.yaml")


def _options(args: argparse.Namespace) -> Options:
    checks = getattr(args, "checks", None)
    return Options(
        config_path=Path(args.config),
        data_dir=Path(args.data),
        incidents_dir=Path(args.incidents),
        site_dir=Path(args.site_out),
        theme_dir=_theme(args.theme),
        tracker=getattr(args, "tracker", None),
        environ=dict(os.environ),
        checks_file=Path(checks) if checks else None,
        build=not getattr(args, "no_build", False),
        recovery=not getattr(args, "no_recovery", False),
    )


def _theme(option: Optional[str]) -> Optional[Path]:
    """--theme, else ./site when the current folder has one (a status repository's own overrides)."""
    if option:
        return Path(option)
    local = Path("site")
    return local if (local / "templates").is_dir() or (local / "static").is_dir() else None


def _agent_argv(args: argparse.Namespace) -> list[str]:
    return ["--config", args.agent_config] + (["--listen", args.listen] if args.listen else [])


# --------------------------------------------------------------------------- the table

JOBS = "generator.run.main_job"

COMMANDS: dict[str, Command] = {
    "check": Command("generator.run.checking", "check", "validate monitors.yaml", _check_arguments,
                     lambda job, a: job(Path(a.file or a.config), check_secrets=a.secrets, options=_options(a))),
    "probe": Command(JOBS, "probe", "probe every monitor once and record the results", _probe_arguments,
                     lambda job, a: job(_options(a), shard=a.shard, region=a.region, partial_out=a.partial_out)),
    "merge": Command(JOBS, "merge", "combine shard/region results written by `probe --partial`", _merge_arguments,
                     lambda job, a: job(_options(a), [Path(p) for p in a.partials], Path(a.merged_out))),
    "run": Command(JOBS, "run", "the main job: check, probe, track incidents, recover, build the site",
                   _run_arguments, lambda job, a: job(_options(a))),
    "watch": Command("generator.run.watch_job", "watch", "run continuously: each monitor at its interval, acting "
                     "on each transition at once, publishing on a cadence", _watch_arguments,
                     lambda job, a: job(_options(a), duration=a.duration, once=a.once, debounce=a.debounce,
                                        lease_wait=a.lease_wait, on_publish=a.on_publish)),
    "build": Command(JOBS, "build", "build the static site from the history and incidents", _build_arguments,
                     lambda job, a: job(_options(a))),
    "demo": Command("generator.demo", "demo",
                    "loopback services, one of which crashes: watch it detected, restarted and resolved",
                    _demo_arguments, lambda job, a: job(_options(a), port=a.port, serve=a.serve)),
    "agent": Command("generator.agent", "main", "run the restart agent (a signed-webhook receiver)",
                     _agent_arguments, lambda job, a: job(_agent_argv(a))),
    "import": Command("generator.importers", "print_converted",
                      "print a monitors.yaml equivalent to an Upptime or Gatus configuration", _import_arguments,
                      lambda job, a: job(a.kind, Path(a.file))),
}


def load_job(name: str) -> Job:
    """The function behind a sub-command, imported now (the one lazy import of the package)."""
    command = COMMANDS[name]
    job: Job = getattr(importlib.import_module(command.module), command.function)
    return job


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statusgen", description="A status page that lives in a git repository.")
    parser.add_argument("--version", action="version", version=f"statusgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.arguments(sub.add_parser(name, help=command.help))
    return parser


# --------------------------------------------------------------------------- exit codes

# the first family an error belongs to decides; anything else that escapes is a bug (a traceback)
EXIT_CODES: tuple[tuple[type[StatusgenError], int], ...] = (
    (TrackerUnavailable, exitcodes.TRACKER),
    (DataError, exitcodes.DATA),
    (BadInput, exitcodes.BAD_INPUT),
)


def exit_code(failure: Optional[StatusgenError]) -> int:
    if failure is None:
        return exitcodes.OK
    for family, code in EXIT_CODES:
        if isinstance(failure, family):
            return code
    return exitcodes.BAD_INPUT


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes, not the one it was made with:
    a command called twice in one process (tests, an embedding program) never writes to a
    closed stream, and never gets a second handler."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ assigns it; ignored
        pass


def _setup_logging() -> None:
    """Library warnings (a skipped incident file, a failed notification) go to stderr, masked."""
    root = logging.getLogger()
    if any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return exitcodes.BAD_INPUT
    if args.command != "agent":  # the agent logs every request its own way
        _setup_logging()
    try:
        result = COMMANDS[args.command].call(load_job(args.command), args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exitcodes.INTERRUPTED
    except StatusgenError as failure:
        prefix = "statusgen: " if isinstance(failure, UsageError) else ""
        print(prefix + mask(str(failure)), file=sys.stderr, flush=True)
        return exit_code(failure)
    if isinstance(result, Outcome):
        return exit_code(result.failure)  # already reported by the command
    if isinstance(result, int):  # the restart agent's own codes
        return result
    return exitcodes.OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
