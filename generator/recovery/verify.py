"""Watching a restarted service come back: re-probe until enough UPs or the window closes."""

from __future__ import annotations

import time
from typing import Callable

from generator.models import Check, CheckStatus, Monitor, RestartSpec


def verify(monitor: Monitor, probe: Callable[[Monitor], Check], needed: int = 1, *,
           sleep: Callable[[float], None] = time.sleep) -> list[Check]:
    """Re-probe every ``verify_every`` s for up to ``verify_for`` s until ``needed`` consecutive UPs.

    Returns every check taken (the caller records them in history). Bounded
    twice: by the number of probes the window allows and by the real clock.
    """
    spec = monitor.restart or RestartSpec(url="")
    every = max(0.1, spec.verify_every)
    window = max(0.0, spec.verify_for)
    needed = max(1, needed)
    max_probes = int(window // every) + 1
    start = time.monotonic()
    checks: list[Check] = []
    streak = 0
    for index in range(max_probes):
        began = time.monotonic()
        check = probe(monitor)
        checks.append(check)
        streak = streak + 1 if check.status is CheckStatus.UP else 0
        if streak >= needed:
            break
        if index == max_probes - 1 or time.monotonic() - start + every > window + 0.001:
            break
        sleep(max(0.0, every - (time.monotonic() - began)))
    return checks
