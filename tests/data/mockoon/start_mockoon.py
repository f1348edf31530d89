"""Start Mockoon detached and return at once: the restart command the drill's agent runs.

    python start_mockoon.py --port 3000 --pids /tmp/mockoon.pids [--data env.json] [--log mockoon.log]

Mockoon gets its own session (process group) and no inherited pipes, so the
agent's wait ends as soon as this script exits; its pid is appended to --pids
so that whoever started the drill can stop every Mockoon it caused.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pids", required=True)
    parser.add_argument("--data", default=str(HERE / "env.json"))
    parser.add_argument("--log", default=os.devnull)
    parser.add_argument("--cli", default=str(REPO / "node_modules" / ".bin" / "mockoon-cli"))
    args = parser.parse_args(argv)
    with open(args.log, "ab") as log:
        process = subprocess.Popen(
            [args.cli, "start", "--data", args.data, "--port", str(args.port), "--hostname", "127.0.0.1",
             "--disable-log-to-file", "--disable-admin-api"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    with open(args.pids, "a") as pids:
        pids.write(f"{process.pid}\n")
    print(f"mockoon started: pid {process.pid}, port {args.port}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
