"""``statusgen watch`` in one process: transitions acted on at once, side by side with another
monitor's restart verification, the site rebuilt soon after, ``--once`` and ``--for``, and the
lease refusing a second writer. Real loopback services and hooks; intervals of 1 s through the
test-only floor STATUSGEN_TEST_MIN_INTERVAL (documented in docs/watch.md)."""

from __future__ import annotations

import io
import json
import re
import textwrap
import threading
import time
from pathlib import Path

import pytest

from generator import cli
from generator.errors import BadInput
from generator.history import History
from generator.run.lease import Lease, read_holder
from generator.run.options import Options
from generator.run.watch_job import watch
from generator.timeutil import utcnow
from tests.run.test_engine import front_matter, incidents, restart_hooks
from tests.support.switch import switchable_service

FLOOR = {"STATUSGEN_TEST_MIN_INTERVAL": "1", "HOOK_SECRET": "s3cret-hook-key"}


def options(folder: Path) -> Options:
    return Options(config_path=folder / "monitors.yaml", data_dir=folder / "data", incidents_dir=folder / "incidents",
                   site_dir=folder / "_site", tracker="files", environ=dict(FLOOR))


def stamped(output: str, pattern: str) -> float:
    """The time of the first log line matching ``pattern`` (seconds since the epoch)."""
    for line in output.splitlines():
        if re.search(pattern, line):
            return time.mktime(time.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    raise AssertionError(f"no line matches {pattern!r} in:\n{output}")


def test_a_transition_is_acted_on_while_another_restart_is_verified_and_the_site_follows(tmp_path: Path) -> None:
    with switchable_service() as shop, switchable_service() as stuck:
        stuck.mode = "error"
        with restart_hooks({"stuck": stuck}) as (base, calls):
            (tmp_path / "monitors.yaml").write_text(textwrap.dedent(f"""\
                settings: {{interval: 1s, publish_every: 1m}}
                defaults: {{timeout: 1s, retries: 0}}
                monitors:
                  - {{id: shop, name: Shop, url: "{shop.url}"}}
                  - id: stuck
                    name: Stuck
                    url: "{stuck.url}"
                    restart: {{url: "{base}/stuck", secret: "${{HOOK_SECRET}}", verify_every: 500ms, verify_for: 6s}}
                """))
            out = io.StringIO()
            runner = threading.Thread(target=lambda: watch(options(tmp_path), duration=9, debounce=0.5, stream=out))
            runner.start()
            deadline = time.monotonic() + 5
            while not calls and time.monotonic() < deadline:
                time.sleep(0.05)
            assert calls == ["stuck"], out.getvalue()
            restarted = time.time()
            shop.mode = "error"  # while stuck's restart is being verified (for 6 s)
            while not incidents(tmp_path, "shop") and time.monotonic() < deadline + 3:
                time.sleep(0.05)
            opened = time.time()
            assert incidents(tmp_path, "shop"), out.getvalue()
            assert opened - restarted < 4, "the shop incident waited for the other monitor's verification"
            time.sleep(1.5)  # the debounce (0.5 s) and a publish
            site = json.loads((tmp_path / "_site/api/v2/incidents/unresolved.json").read_text())
            assert any("Shop is down" in i["name"] for i in site["incidents"]), site
            runner.join(20)
            assert not runner.is_alive()
    output = out.getvalue()
    assert stamped(output, r"opened incident .* for shop") <= stamped(output, r"stuck: still down after the restart")
    assert "published" in output and "watch stopped after" in output
    assert front_matter(incidents(tmp_path, "stuck")[0])["status"] == "open"
    assert calls == ["stuck"]  # one restart: cooldown (10m) holds across ticks
    holder = read_holder(tmp_path / "data" / "lease.json")
    assert holder is not None and holder.released


def test_for_stops_on_time_and_once_is_run(tmp_path: Path) -> None:
    with switchable_service() as service:
        (tmp_path / "monitors.yaml").write_text(
            f"settings: {{interval: 1s, publish_every: 2s}}\nmonitors:\n  - {{id: api, url: '{service.url}'}}\n")
        out = io.StringIO()
        began = time.monotonic()
        outcome = watch(options(tmp_path), duration=3.5, stream=out)
        took = time.monotonic() - began
        assert outcome.ok and 3.4 <= took < 8, (took, out.getvalue())
        checks = History(tmp_path / "data").checks("api", utcnow().replace(hour=0, minute=0))
        assert 2 <= len(checks) <= 5 and {c.status.value for c in checks} == {"up"}
        assert (tmp_path / "_site" / "index.html").exists()

        once = watch(options(tmp_path), once=True, stream=io.StringIO())
        assert once.ok
        assert len(History(tmp_path / "data").checks("api", utcnow().replace(hour=0, minute=0))) == len(checks) + 1


def test_a_second_watcher_is_refused_while_the_lease_is_held(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "monitors.yaml").write_text("monitors:\n  - {id: api, url: 'http://127.0.0.1:9/'}\n")
    held = Lease(tmp_path / "data")
    assert held.try_acquire() is None
    with pytest.raises(BadInput, match=r"another `statusgen watch` is writing this history: watcher .* \(pid \d+\)"):
        watch(options(tmp_path), duration=5, lease_wait=0.3, stream=io.StringIO())
    code = cli.main(["watch", "--config", str(tmp_path / "monitors.yaml"), "--data", str(tmp_path / "data"),
                     "--lease-wait", "0", "--for", "1s"])
    assert code == 2 and "lease.json: another `statusgen watch`" in capsys.readouterr().err
    held.release()
    assert Lease(tmp_path / "data").try_acquire() is None  # released: free at once


def test_a_lease_left_by_a_dead_process_on_this_host_is_free(tmp_path: Path) -> None:
    first = Lease(tmp_path)
    assert first.try_acquire() is None
    data = json.loads((tmp_path / "lease.json").read_text())
    data["pid"] = 2**22 + 12345  # no such process
    (tmp_path / "lease.json").write_text(json.dumps(data))
    assert Lease(tmp_path).try_acquire() is None


def test_bad_watch_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["watch", "--for", "soon"])
    assert raised.value.code == 2 and "is not a duration" in capsys.readouterr().err
    (tmp_path / "monitors.yaml").write_text("monitors:\n  - {id: api, url: 'http://127.0.0.1:9/'}\n")
    for hook in ('"unbalanced', ""):
        code = cli.main(["watch", "--config", str(tmp_path / "monitors.yaml"), "--data", str(tmp_path / "data"),
                         "--for", "1s", "--on-publish", hook])
        assert code == 2 and "--on-publish" in capsys.readouterr().err
    (tmp_path / "monitors.yaml").write_text("settings: {interval: 1s}\nmonitors:\n  - {id: api, url: 'http://127.0.0.1:9/'}\n")
    code = cli.main(["watch", "--config", str(tmp_path / "monitors.yaml"), "--data", str(tmp_path / "data"),
                     "--for", "1s"])
    captured = capsys.readouterr()
    assert code == 2 and "settings.interval: must be at least 10s, got 1s" in captured.out + captured.err
