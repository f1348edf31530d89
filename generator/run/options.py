"""What one command of the engine is asked to do: where things live and which steps to take."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional


def _environment() -> dict[str, str]:
    return dict(os.environ)


@dataclass(frozen=True)
class Options:
    config_path: Path = Path("monitors.yaml")
    data_dir: Path = Path("data")
    incidents_dir: Path = Path("incidents")
    site_dir: Path = Path("_site")
    theme_dir: Optional[Path] = None
    tracker: Optional[str] = None  # a name from generator.incidents.registry, or None (auto)
    environ: Mapping[str, str] = field(default_factory=_environment)
    checks_file: Optional[Path] = None  # merged results to use instead of probing
    build: bool = True
    recovery: bool = True

    @property
    def on_github_actions(self) -> bool:
        return self.environ.get("GITHUB_ACTIONS") == "true"
