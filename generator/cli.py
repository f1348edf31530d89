"""The ``statusgen`` command: one function per sub-command, nothing else (exit codes: generator.exitcodes)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from generator import __version__
from generator.exitcodes import BAD_INPUT as EXIT_BAD_INPUT
from generator.exitcodes import OK as EXIT_OK


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statusgen", description="A status page that lives in a git repository.")
    parser.add_argument("--version", action="version", version=f"statusgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="validate monitors.yaml")
    _common(check)
    check.add_argument("file", nargs="?", default=None, help="file to check (default: --config)")
    check.add_argument("--secrets", action="store_true", help="also require every ${NAME} to be set")
    check.set_defaults(func=cmd_check)

    probe = sub.add_parser("probe", help="probe every monitor once and record the results")
    _common(probe, site=False)
    probe.add_argument("--shard", default=None, metavar="K/N", help="probe only shard K of N (1-based)")
    probe.add_argument("--region", default=None, help="name of the region this runner probes from")
    probe.add_argument("--out", dest="partial_out", default=None, metavar="FILE",
                       help="write the results to FILE for `statusgen merge` instead of the history")
    probe.set_defaults(func=cmd_probe)

    merge = sub.add_parser("merge", help="combine shard/region results written by `probe --partial`")
    _common(merge, site=False)
    merge.add_argument("partials", nargs="+", help="partial result files")
    merge.add_argument("--out", dest="merged_out", required=True, metavar="FILE", help="merged results file")
    merge.set_defaults(func=cmd_merge)

    run = sub.add_parser("run", help="the main job: check, probe, track incidents, recover, build the site")
    _common(run)
    run.add_argument("--tracker", choices=["github", "files"], default=None,
                     help="incident backend (default: github when GITHUB_TOKEN and GITHUB_REPOSITORY are set)")
    run.add_argument("--checks", default=None, metavar="FILE", help="use merged results instead of probing")
    run.add_argument("--no-build", action="store_true", help="skip building the site")
    run.add_argument("--no-recovery", action="store_true", help="never call restart webhooks")
    run.set_defaults(func=cmd_run)

    build = sub.add_parser("build", help="build the static site from the history and incidents")
    _common(build)
    build.add_argument("--tracker", choices=["github", "files"], default=None)
    build.set_defaults(func=cmd_build)

    demo = sub.add_parser("demo", help="start local demo services on loopback and run the main job against them")
    _common(demo)
    demo.add_argument("--runs", type=_positive, default=3, help="how many runs to make (default 3)")
    demo.add_argument("--serve", action="store_true", help="keep the demo services and a site server running")
    demo.set_defaults(func=cmd_demo)

    agent = sub.add_parser("agent", help="run the restart agent (a signed-webhook receiver)")
    agent.add_argument("--config", dest="agent_config", default="agent.yaml", help="agent config (default: ./agent.yaml)")
    agent.add_argument("--listen", default=None, help="host:port (default from the config, else 127.0.0.1:9090)")
    agent.set_defaults(func=cmd_agent)
    return parser


def _setup_logging() -> None:
    """Library warnings (a skipped incident file, a failed notification) go to stderr, masked."""
    import logging

    from generator.secrets import MaskingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    if args.func is not cmd_agent:  # the agent logs every request its own way
        _setup_logging()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _options(args: argparse.Namespace):
    from generator.pipeline import Options

    return Options(
        config_path=Path(args.config),
        data_dir=Path(args.data),
        incidents_dir=Path(args.incidents),
        site_dir=Path(args.site_out),
        theme_dir=_theme(args.theme),
        tracker=getattr(args, "tracker", None),
        environ=dict(os.environ),
    )


def _theme(option: str | None) -> Path | None:
    """--theme, else ./site when the current folder has one (a status repository's own overrides)."""
    if option:
        return Path(option)
    local = Path("site")
    return local if (local / "templates").is_dir() or (local / "static").is_dir() else None


def cmd_check(args: argparse.Namespace) -> int:
    from generator.config import format_problems, summary, validate_file

    path = Path(args.file or args.config)
    config, problems = validate_file(path, check_secrets=args.secrets)
    if problems:
        github = os.environ.get("GITHUB_ACTIONS") == "true"
        print(format_problems(problems, github=github))
        print(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(summary(config))
    return EXIT_OK


def cmd_probe(args: argparse.Namespace) -> int:
    from generator.pipeline import probe

    return probe(_options(args), shard=args.shard, region=args.region, partial_out=args.partial_out)


def cmd_merge(args: argparse.Namespace) -> int:
    from generator.pipeline import merge

    return merge(_options(args), [Path(p) for p in args.partials], Path(args.merged_out))


def cmd_run(args: argparse.Namespace) -> int:
    from generator.pipeline import run

    options = _options(args)
    options.checks_file = Path(args.checks) if args.checks else None
    options.build = not args.no_build
    options.recovery = not args.no_recovery
    return run(options)


def cmd_build(args: argparse.Namespace) -> int:
    from generator.pipeline import build

    return build(_options(args))


def cmd_demo(args: argparse.Namespace) -> int:
    from generator.demo import demo

    return demo(_options(args), runs=args.runs, serve=args.serve)


def cmd_agent(args: argparse.Namespace) -> int:
    from generator.agent import main as agent_main

    argv = ["--config", args.agent_config]
    if args.listen:
        argv += ["--listen", args.listen]
    return agent_main(argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
