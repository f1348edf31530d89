"""Recovery drill, timed: kill a real Mockoon, let one ``statusgen run`` restart it through the agent.

    .venv/bin/python bench/recovery_drill.py [--rounds 5] [--github]

Each round: start Mockoon and a ``statusgen agent``; one healthy ``statusgen run``
(its wall time is the run's own overhead: start-up, config, one probe, history,
tracker, exit); SIGKILL Mockoon; one ``statusgen run`` with the default restart
settings. A watcher polls the service every 50 ms to see when it really answers.
Prints the medians of:

  detection  kill -> incident opened (the restart request's recorded time, sent right after the open)
  restart    restart webhook sent -> service answering again (watcher)
  total      kill -> incident resolved (the resolution time the tracker recorded)
  exit       kill -> the drill run's process exited
  overhead   wall time of a healthy run (nothing to do but one probe)

Targets: total under 15 s with the defaults, overhead under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.timeutil import parse_iso  # noqa: E402
from tests.test_drill import MONITOR_ID, Drill, Watcher  # noqa: E402


def one_round(workdir: Path, github=None) -> dict[str, float]:
    env = {}
    if github is not None:
        env = {"GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": github.full_name, "GITHUB_API_URL": github.url}
    drill = Drill(workdir, env_extra=env)
    watcher = None
    try:
        drill.start()
        healthy = drill.run()
        if healthy.code != 0:
            raise RuntimeError(f"healthy run failed: {healthy.stdout}{healthy.stderr}")
        watcher = Watcher(drill.health_url)
        drill.kill_service()
        watcher.arm()
        result = drill.run()
        if result.code != 0:
            raise RuntimeError(f"drill run failed ({result.code}): {result.stdout}{result.stderr}")
        attempt = drill.restarts()[MONITOR_ID]["log"][-1]
        if not attempt["ok"]:
            raise RuntimeError(f"restart not accepted: {attempt}")
        sent = parse_iso(attempt["time"]).timestamp()
        resolved = _resolved_time(drill, github)
        if watcher.first_up is None:
            raise RuntimeError("the service never answered again")
        return {
            "detection": sent - drill.killed_at,
            "restart": watcher.first_up - sent,
            "total": resolved - drill.killed_at,
            "exit": result.ended - drill.killed_at,
            "overhead": healthy.ended - healthy.started,
        }
    finally:
        if watcher is not None:
            watcher.stop()
        drill.close()


def _resolved_time(drill: Drill, github) -> float:
    if github is not None:
        [issue] = [i for i in github.issues.values() if i.closed_at is not None]
        return issue.closed_at.timestamp()
    from generator.incidents.files import FilesTracker

    [incident] = FilesTracker(drill.incidents).incidents()
    if incident.resolved is None:
        raise RuntimeError("the incident was not resolved in the drill run")
    return incident.resolved.timestamp()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--github", action="store_true", help="use the GitHub emulator instead of incidents/*.md")
    args = parser.parse_args(argv)
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="statusgen-drill-") as tmp:
        for index in range(args.rounds):
            if args.github:
                from tests.support.github_emulator import GitHubEmulator

                with GitHubEmulator() as github:
                    row = one_round(Path(tmp) / f"round{index}", github)
            else:
                row = one_round(Path(tmp) / f"round{index}")
            rows.append(row)
            print(f"round {index + 1}: " + "  ".join(f"{k} {v:6.2f}s" for k, v in row.items()), flush=True)
    tracker = "github (emulator)" if args.github else "files"
    print(f"\nrecovery drill, {args.rounds} rounds, tracker {tracker}, default restart settings -- medians:")
    for key in ("detection", "restart", "total", "exit", "overhead"):
        values = [row[key] for row in rows]
        print(f"  {key:<10} {statistics.median(values):6.2f} s   (min {min(values):.2f}, max {max(values):.2f})")
    total = statistics.median(row["total"] for row in rows)
    overhead = statistics.median(row["overhead"] for row in rows)
    print(f"  target total < 15 s: {'met' if total < 15 else 'MISSED'}; overhead < 1 s: {'met' if overhead < 1 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
