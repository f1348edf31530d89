"""``statusgen watch``: take the lease, open the engine, watch until ``--for`` ends or a signal comes.

``--once`` is ``statusgen run``. SIGTERM and SIGINT (a CI runner's cancel or timeout, systemd's
stop, Ctrl-C) stop the watch cleanly within a few seconds (see :mod:`generator.run.watch`); a
second one is not caught.
"""

from __future__ import annotations

import os
import shlex
import signal
import threading
import time
from contextlib import contextmanager
from types import FrameType
from typing import Iterator, Optional, TextIO

from generator.errors import BadInput, DataError, Outcome, UsageError
from generator.report import Console
from generator.run import loading, main_job
from generator.run.engine import Engine
from generator.run.lease import LEASE_TTL, Lease, LeaseError
from generator.run.options import Options
from generator.run.publisher import Publisher
from generator.run.schedule import interval_of
from generator.run.watch import Cadence, Watch
from generator.run.watchlog import WatchLog, stamp
from generator.timeutil import format_duration

LEASE_POLL = 1.0  # seconds between two looks at a lease held by another watcher


def watch(options: Options, *, duration: Optional[float] = None, once: bool = False, debounce: float = 15.0,
          lease_wait: Optional[float] = None, on_publish: Optional[str] = None,
          stream: Optional[TextIO] = None) -> Outcome:
    """``statusgen watch``: see the module docstring; returns when stopped."""
    if once:
        return main_job.run(options, stream=stream)
    if on_publish is not None:
        try:
            if not shlex.split(on_publish):
                raise ValueError("empty command")
        except ValueError as error:
            raise UsageError(f"--on-publish {on_publish!r}: {error}") from None
    out = Console(options.environ, stream)
    config = loading.load(options)
    stop = threading.Event()
    began = time.monotonic()
    with _signals(stop, out):
        # A lease outlives two publishes: where it travels with the pushed history (Actions), the
        # next watcher reads it at most one publish old.
        ttl = max(LEASE_TTL, 2 * config.settings.publish_every + 30)
        lease = _take_lease(Lease(options.data_dir, ttl=ttl), options, stop, out, lease_wait, duration)
        if lease is None:  # stopped while waiting
            return Outcome()
        try:
            silent = Console({k: v for k, v in options.environ.items() if k != "GITHUB_STEP_SUMMARY"},
                             open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the engine
            engine = Engine.open(options, silent, config=config)
            log = WatchLog(out, options.environ)
            publisher = Publisher(engine, options, log, on_publish=on_publish)
            every = config.settings.publish_every
            cadence = Cadence(publish_every=every, debounce=min(debounce, every))
            left = None if duration is None else max(0.0, duration - (time.monotonic() - began))
            intervals = sorted({interval_of(m.interval, config.settings.interval) for m in config.monitors})
            out.line(f"{stamp()}  watching {len(config.monitors)} monitors every "
                     f"{', '.join(format_duration(i) for i in intervals)}; publishing every {format_duration(every)}"
                     + (f" for {format_duration(left)}" if left is not None else "") + f" (lease {lease.id[:8]})")
            return Watch(engine, publisher, lease, log, cadence, stop=stop).run(left)
        finally:
            lease.release()


def _take_lease(lease: Lease, options: Options, stop: threading.Event, out: Console, wait: Optional[float],
                duration: Optional[float]) -> Optional[Lease]:
    """The lease on ``data/``: at once, or after waiting for the other watcher (never past ``--for``)."""
    limit = min(x for x in (wait, duration, float("inf")) if x is not None)
    deadline = time.monotonic() + limit
    told = False
    while True:
        try:
            holder = lease.try_acquire()
        except LeaseError as error:
            raise DataError(str(error)) from None
        if holder is None:
            if told:
                out.line(f"{stamp()}  took over the lease on {options.data_dir}/")
            return lease
        if time.monotonic() >= deadline:
            raise BadInput(f"{options.data_dir}/lease.json: another `statusgen watch` is writing this history: "
                           f"{holder.describe()}. Stop it, or wait for it (--lease-wait).")
        if not told:
            out.line(f"{stamp()}  waiting for the lease on {options.data_dir}/: held by {holder.describe()}")
            told = True
        if stop.wait(min(LEASE_POLL, max(0.0, deadline - time.monotonic()))):
            return None


@contextmanager
def _signals(stop: threading.Event, out: Console) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` once (in the main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(number: int, frame: Optional[FrameType]) -> None:
        out.line(f"{stamp()}  {signal.Signals(number).name}: stopping")
        stop.set()
        for sig, old in previous.items():  # a second signal is not caught
            signal.signal(sig, old)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)

