"""Property test: hostile mutations of real monitors files through ``statusgen check``.

Valid files are mutated as text (alias bombs referenced from any value, huge and odd numbers, odd
Unicode, deep nesting, case-twin headers, sluggish ids) and handed to the ``check`` command itself
(``generator.cli.main``, in-process for speed; one example per family also through a real
subprocess). Whatever the file holds, ``check`` answers 0 or 2, prints no traceback and finishes
well within a bound.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import secrets
from generator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "tests" / "data" / "configs" / "valid").glob("*.yaml")) + [ROOT / "monitors.yaml"]
TEXTS = [path.read_text(encoding="utf-8") for path in SOURCES]
BOUND = 10.0  # seconds for one check of one file (they take milliseconds)


def bomb(levels: int, width: int) -> str:
    lines = ["x-l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"x-l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


numbers = st.sampled_from(["9" * 40, "99999999999999999999d", "1e400", "-1e400", ".nan", "-0", "0x" + "f" * 30,
                           "0o777777777777777777777", "1_000_000_000_000", "800000", "2e9s", "1e-400ms"])
unicode = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12) | st.sampled_from(
    ["\u202eevil", "\u200b", "\ufeff", "Zoë 中文", "💥" * 20, "a\u0301" * 30, "\x85", "\u2028", "\\x00"])


@st.composite
def nesting(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=50, max_value=3000))
    return draw(st.sampled_from(["[" * depth + "]" * depth, "{a: " * depth + "1" + "}" * depth]))


@st.composite
def hostile(draw: st.DrawFn) -> str:
    """A valid file with up to four hostile edits, each at a random line's value or key."""
    text = draw(st.sampled_from(TEXTS))
    lines = text.splitlines()
    prefix = ""
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["bomb", "number", "unicode", "nesting", "twin", "slug", "key"]))
        index = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
        line = lines[index] if lines else ""
        head, colon, _ = line.partition(": ")
        if kind == "bomb":
            levels, width = draw(st.integers(2, 9)), draw(st.integers(2, 12))
            prefix = bomb(levels, width)
            value = f"*l{levels - 1}"
        elif kind == "number":
            value = draw(numbers)
        elif kind == "unicode":
            value = '"' + draw(unicode).replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif kind == "nesting":
            value = draw(nesting())
        elif kind == "twin":
            value = "{X-Token: a, x-token: b, X-TOKEN: c}"
        elif kind == "slug":
            value = draw(st.sampled_from(["api-", "api--", "-api", "API", "api.", "a" * 65]))
        else:  # an odd key in place of this line's key
            lines[index] = " " * (len(head) - len(head.lstrip())) + draw(unicode).replace(":", "") + ": 1"
            continue
        if colon:
            lines[index] = f"{head}: {value}"
        else:
            lines.insert(index, f"x-edit-{index}: {value}")
    return prefix + "\n".join(lines) + "\n"


def check(path: Path) -> tuple[int, str, float]:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(path)])
    return code, out.getvalue() + err.getvalue(), time.monotonic() - started


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile())
def test_check_answers_every_hostile_file_quickly_without_a_traceback(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "monitors.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            code, output, seconds = check(path)
        finally:
            secrets.clear()
    assert code in (0, 2), output
    assert "Traceback" not in output and "internal error" not in output, output
    assert seconds < BOUND, (seconds, text[:300])


@pytest.mark.parametrize("edit", [bomb(9, 9) + "monitors:\n  - {id: a, url: 'http://127.0.0.1/', labels: *l8}\n",
                                  "monitors: " + "[" * 3000 + "]" * 3000 + "\n",
                                  "settings: {retention: " + "9" * 40 + "}\nmonitors: [{id: a, url: 'http://x/'}]\n",
                                  "monitors:\n  - {id: \"\u202eevil\u200b\", url: 'http://x/'}\n"])
def test_the_real_command_too(tmp_path: Path, edit: str) -> None:
    (tmp_path / "monitors.yaml").write_text(edit, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_") and k != "CI"}
    environ["PYTHONPATH"] = str(ROOT)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "generator", "check"], cwd=tmp_path, env=environ,
                            capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < BOUND + 5
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert re.search(r"^monitors\.yaml:\d+:\d+: ", result.stdout, re.MULTILINE), result.stdout  # file:line:col
