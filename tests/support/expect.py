"""Expected problems written into a bad configuration fixture, next to the lines they are about."""

from __future__ import annotations

import re
from pathlib import Path

EXPECT = re.compile(r"^# expect: (\d+):(\d+) (\S+) \| (.+)$")


def expectations(path: Path) -> list[tuple[int, int, str, str]]:
    """``# expect: LINE:COL KEY | message text`` comments (``-`` for no key), in file order."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = EXPECT.match(line)
        if match:
            key = "" if match.group(3) == "-" else match.group(3)
            found.append((int(match.group(1)), int(match.group(2)), key, match.group(4)))
    return found
