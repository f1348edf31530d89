"""The theme: Jinja templates, static assets and interface strings, overridable per repository.

The bundled theme is the top-level ``site/`` folder of statusgen. A user's theme
folder (``--theme``) only needs the files it changes: a template, ``static/style.css``
or a strings file there replaces the bundled one of the same name.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, Optional, Sequence

import jinja2

from generator.site.i18n import SiteError


def _bundled_theme() -> Path:
    """The top-level ``site/`` of a checkout (or editable install), else the copy ``pip install .``
    puts under ``<prefix>/share/statusgen/site`` (pyproject's data-files)."""
    checkout = Path(__file__).resolve().parents[2] / "site"
    installed = Path(sys.prefix) / "share" / "statusgen" / "site"
    for folder in (checkout, installed):
        if (folder / "templates" / "base.html").is_file():
            return folder
    return checkout


DEFAULT_THEME = _bundled_theme()


def theme_dirs(theme_dir: Optional[Path | str] = None) -> list[Path]:
    """Override first, bundled theme last (first match wins)."""
    folders: list[Path] = []
    if theme_dir is not None:
        folder = Path(theme_dir)
        if not folder.is_dir():
            raise SiteError(f"theme folder {folder} does not exist")
        if folder.resolve() != DEFAULT_THEME:
            folders.append(folder)
    folders.append(DEFAULT_THEME)
    return folders


def environment(folders: Sequence[Path]) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(f / "templates")) for f in folders])
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,  # a typo in a user's template fails the build with its name
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a build: no freshness check (a stat) per page
    )
    return env


def static_files(folders: Sequence[Path]) -> Iterator[tuple[str, Path]]:
    """(relative path, source file) for every static asset, overrides winning, sorted by path."""
    chosen: dict[str, Path] = {}
    for folder in reversed(list(folders)):  # bundled first, then overrides replace
        root = folder / "static"
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                chosen[path.relative_to(root).as_posix()] = path
    for name in sorted(chosen):
        yield name, chosen[name]
