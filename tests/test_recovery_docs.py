"""Every restart example in docs/restart-hooks.md loads through config and renders a valid body."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import datetime
from pathlib import Path

from generator.config import load_config
from generator.models import Check, CheckStatus
from generator.recovery import event_values, render_body, standard_body
from generator.timeutil import UTC

DOC = Path(__file__).resolve().parents[1] / "docs" / "restart-hooks.md"
ENV = {name: f"value-of-{name.lower()}" for name in (
    "API_RESTART_HOOK", "API_RESTART_SECRET", "RENDER_DEPLOY_HOOK", "HEROKU_API_TOKEN", "FLY_MACHINE_ID",
    "FLY_API_TOKEN", "RAILWAY_TOKEN", "RAILWAY_DEPLOYMENT_ID", "K8S_RESTART_TOKEN", "RESTART_AGENT_SECRET")}
ENV["API_RESTART_HOOK"] = "https://hooks.example.com/restart"
ENV["RENDER_DEPLOY_HOOK"] = "https://api.render.com/deploy/srv-abc?key=xyz"


def restart_blocks() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    found = []
    for block in blocks:
        if block.startswith("restart:"):
            found.append(block)
        elif "    restart:" in block:  # the full monitors.yaml example at the top
            found.append(textwrap.dedent(block[block.index("    restart:"):]))
    return found


def test_every_documented_restart_block_loads_and_renders(tmp_path):
    blocks = restart_blocks()
    assert len(blocks) >= 6
    monitors = []
    for index, block in enumerate(blocks):
        monitors.append(f"  - id: m{index}\n    name: M{index}\n    url: http://127.0.0.1:9/\n"
                        + textwrap.indent(block.split("\n", 1)[0] + "\n" + block.split("\n", 1)[1], "    "))
    config_file = tmp_path / "monitors.yaml"
    config_file.write_text("monitors:\n" + "".join(monitors))
    config = load_config(config_file, environ=ENV)
    check = Check(monitor_id="m0", time=datetime(2026, 11, 24, 21, 0, tzinfo=UTC), status=CheckStatus.DOWN, code=503)
    for monitor in config.monitors:
        spec = monitor.restart
        assert spec is not None, monitor.id
        values = event_values(monitor, check, attempt=1, max_attempts=spec.max_attempts, incident_key="1",
                              incident_started="2026-11-24T21:00:00Z", delivery="d", now=check.time)
        body = standard_body(values) if spec.body is None else render_body(spec.body, values)
        if body[:1] in (b"{", b"["):
            json.loads(body)  # a JSON body stays valid JSON
        assert "${" not in body.decode()
    by_id = {m.id: m.restart for m in config.monitors}
    assert any(r.method == "DELETE" for r in by_id.values())  # Heroku
    assert any(r.method == "PATCH" and "2026-11-24T21:00:00Z" in render_body(r.body, {"time": "2026-11-24T21:00:00Z"}).decode()
               for r in by_id.values() if r.body)
