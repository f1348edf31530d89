"""The engine in one process, as a scheduler will drive it: ticks that keep state in memory, and
restarts verified side by side, each settled when it ends. Real loopback services and hooks."""

from __future__ import annotations

import http.server
import io
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from generator.errors import DataError
from generator.models import State
from generator.report import Console
from generator.run.engine import Engine
from generator.run.options import Options
from tests.support.switch import SwitchableService, switchable_service


def options(folder: Path, **changes: object) -> Options:
    base = Options(config_path=folder / "monitors.yaml", data_dir=folder / "data", incidents_dir=folder / "incidents",
                   site_dir=folder / "_site", tracker="files", environ={"HOOK_SECRET": "s3cret-hook-key"})
    return Options(**{**base.__dict__, **changes})


def open_engine(folder: Path) -> Engine:
    return Engine.open(options(folder), Console({}, io.StringIO()))


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text().split("---\n", 2)[1])


def incidents(folder: Path, monitor_id: str) -> list[Path]:
    return sorted((folder / "incidents").glob(f"*-{monitor_id}-*.md"))


def test_ticks_in_one_process_keep_state_in_memory_and_open_one_incident(tmp_path: Path) -> None:
    with switchable_service() as service:
        service.mode = "error"
        (tmp_path / "monitors.yaml").write_text(textwrap.dedent(f"""\
            monitors:
              - id: shop
                name: Shop
                url: {service.url}
                timeout: 2s
                retries: 0
                failure_threshold: 2
            """))
        with open_engine(tmp_path) as engine:
            [shop] = engine.config.monitors
            first = engine.tick([shop])
            assert first.transitions == () and incidents(tmp_path, "shop") == []
            assert engine.states["shop"].consecutive_failures == 1
            # The engine does not go back to the disk between ticks: the streak lives in memory.
            (tmp_path / "data" / "state.json").unlink()

            second = engine.tick([shop])
            assert [t.kind.value for t in second.transitions] == ["opened"]
            assert any(note.startswith("opened incident") for note in second.acts.notes)
            third = engine.tick([shop])
            assert third.transitions == () and third.acts.tracker_errors == ()
            assert engine.states["shop"].status is State.DOWN and engine.states["shop"].consecutive_failures == 3

            service.mode = "up"
            fourth = engine.tick([shop])
            assert [t.kind.value for t in fourth.transitions] == ["resolved"]
            assert fourth.stats is not None and fourth.stats.attempts == 1
    [incident] = incidents(tmp_path, "shop")
    assert front_matter(incident)["status"] == "resolved"


@contextmanager
def restart_hooks(services: dict[str, SwitchableService]) -> Iterator[tuple[str, list[str]]]:
    """A hook receiver: POST /restart/<id> brings that service back, unless it is 'stuck'."""
    calls: list[str] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            name = self.path.rsplit("/", 1)[-1]
            calls.append(name)
            if name != "stuck":
                services[name].mode = "up"
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{hook.server_address[1]}/restart", calls
    finally:
        hook.shutdown()
        hook.server_close()


STUCK_VERIFY_SECONDS = 4.0


def test_a_slow_verification_does_not_delay_another_monitors_resolution(tmp_path: Path) -> None:
    with switchable_service() as quick, switchable_service() as stuck:
        services = {"quick": quick, "stuck": stuck}
        with restart_hooks(services) as (base, calls):
            text = "monitors:\n"
            for name, service in services.items():
                service.mode = "error"
                text += textwrap.indent(textwrap.dedent(f"""\
                    - id: {name}
                      name: {name.title()}
                      url: {service.url}
                      timeout: 2s
                      retries: 0
                      restart:
                        url: {base}/{name}
                        secret: ${{HOOK_SECRET}}
                        verify_every: 200ms
                        verify_for: {STUCK_VERIFY_SECONDS:g}s
                    """), "  ")
            (tmp_path / "monitors.yaml").write_text(text)
            with open_engine(tmp_path) as engine:
                started = time.monotonic()
                tick = engine.tick(engine.config.monitors)
                assert sorted(tick.restarting) == ["quick", "stuck"] and sorted(calls) == ["quick", "stuck"]
                assert {t.kind.value for t in tick.transitions} == {"opened"}

                # "quick" is resolved while "stuck" is still being verified
                settled = []
                while not settled and time.monotonic() - started < STUCK_VERIFY_SECONDS:
                    settled = list(engine.settled())
                    time.sleep(0.05)
                resolved_after = time.monotonic() - started
                assert [s.monitor_id for s in settled] == ["quick"], settled
                assert [t.kind.value for t in settled[0].transitions] == ["resolved"]
                assert resolved_after < STUCK_VERIFY_SECONDS - 1, resolved_after
                assert engine.verifying == frozenset({"stuck"})
                assert front_matter(incidents(tmp_path, "quick")[0])["status"] == "resolved"
                assert front_matter(incidents(tmp_path, "stuck")[0])["status"] == "open"
                assert engine.states["quick"].status is State.UP

                [last] = engine.drain()
                assert last.monitor_id == "stuck" and last.transitions == ()
                assert time.monotonic() - started >= STUCK_VERIFY_SECONDS - 0.5
                assert engine.verifying == frozenset() and engine.states["stuck"].incident_open


def test_a_broken_ledger_stops_the_engine_before_it_acts_but_after_recording(tmp_path: Path) -> None:
    with switchable_service() as service:
        service.mode = "error"
        (tmp_path / "monitors.yaml").write_text(f"monitors:\n  - id: shop\n    name: Shop\n    url: {service.url}\n")
        (tmp_path / "data" / "cache").mkdir(parents=True)
        (tmp_path / "data" / "cache" / "notify-sent.json").write_text("{not json")
        with open_engine(tmp_path) as engine:
            with pytest.raises(DataError, match="notify-sent"):
                engine.tick(engine.config.monitors)
    assert (tmp_path / "data" / "checks" / "shop").is_dir()  # the check was recorded first
    assert incidents(tmp_path, "shop") == []  # and nothing was half-done
