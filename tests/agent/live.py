"""A real ``statusgen agent`` process on a loopback ephemeral port, its console captured."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import requests

from generator import signing

SECRET = "agent-live-secret-0123456789abcdef"
LISTENING = re.compile(r"listening on (http://\S+/restart)")


class LiveAgent:
    """Start, stop and restart the agent as a separate process; ``console`` holds all it printed."""

    def __init__(self, folder: Path, command: list[str], *, extra: str = "", env: dict[str, str] | None = None):
        self.folder = folder
        self.config = folder / "agent.yaml"
        self.config.write_text(textwrap.dedent(f"""\
            secret: ${{AGENT_SECRET}}
            monitors:
              web:
                command: {json.dumps(command)}
                timeout: 60s
            """) + extra)
        self.env = {**os.environ, "AGENT_SECRET": SECRET, **(env or {})}
        self.console: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> LiveAgent:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "generator", "agent", "--config", str(self.config), "--listen", "127.0.0.1:0"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=self.env,
        )
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(self.process, ready), daemon=True).start()
        assert ready.wait(20), "the agent did not start: " + "".join(self.console)
        return self

    def _pump(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.console.append(line)
            found = LISTENING.search(line)
            if found:
                self.url = found.group(1)
                ready.set()
        ready.set()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/")[0])

    def text(self) -> str:
        time.sleep(0.2)  # let the pump thread read the last lines
        return "".join(self.console)

    def peak_rss_kb(self) -> int:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


def restart_body(monitor_id: str = "web") -> bytes:
    return json.dumps({"event": "restart", "delivery": str(uuid.uuid4()), "attempt": 1,
                       "monitor": {"id": monitor_id}, "incident": {"key": "1", "started": "2026-01-01T00:00:00Z"}}
                      ).encode()


def signed(body: bytes, *, stamp: int | None = None, msg_id: str | None = None) -> dict[str, str]:
    headers = signing.signed_headers(SECRET, msg_id or f"msg_{uuid.uuid4().hex}",
                                     int(time.time()) if stamp is None else stamp, body)
    return {**headers, "Content-Type": "application/json"}


def post(url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=10)
