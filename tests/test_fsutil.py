"""Atomic writes: whole files only, sensible permissions."""

from __future__ import annotations

import os

from generator.fsutil import append_line, atomic_write_json, atomic_write_text


def test_new_files_are_world_readable_and_replaced_files_keep_their_mode(tmp_path):
    fresh = tmp_path / "deep" / "fresh.md"
    atomic_write_text(fresh, "hello\n")
    assert fresh.read_text() == "hello\n"
    assert os.stat(fresh).st_mode & 0o777 == 0o644  # not mkstemp's 0600: incidents and data are shared files
    os.chmod(fresh, 0o640)
    atomic_write_json(fresh, {"a": 1})
    assert os.stat(fresh).st_mode & 0o777 == 0o640
    assert fresh.read_text() == '{\n "a": 1\n}\n'
    assert [p.name for p in fresh.parent.iterdir()] == ["fresh.md"]  # no temporary file left behind


def test_append_line_adds_exactly_one_line(tmp_path):
    target = tmp_path / "log.tsv"
    append_line(target, "one")
    append_line(target, "two\n")
    assert target.read_text() == "one\ntwo\n"
