"""``statusgen check``: the load step alone, every problem listed with file:line:col.

A module of its own so that checking a file loads the configuration rooms and nothing else.
"""

from __future__ import annotations

from pathlib import Path

from generator.config import format_problems, summary, validate_file
from generator.errors import ConfigInvalid, Outcome
from generator.run.options import Options


def check(path: Path, *, check_secrets: bool, options: Options) -> Outcome:
    """``statusgen check``: the load step alone, every problem listed with file:line:col."""
    config, problems = validate_file(path, check_secrets=check_secrets)
    if problems:
        print(format_problems(problems, github=options.on_github_actions))
        raise ConfigInvalid(f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    if config is None:  # pragma: no cover - validate_file gives a config or problems
        raise ConfigInvalid(f"{path}: not valid")
    print(summary(config))
    return Outcome()
