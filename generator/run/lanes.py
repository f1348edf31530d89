"""Where a probing run's attempts run: worker threads for blocking probe types, one event loop for async ones.

The scheduler in :mod:`generator.run.probing` decides what starts when (slots,
parking, retries, abandonment) and hands each attempt to :class:`Workers`
(blocking probes, a thread each) or to :class:`AsyncLane` (types that declare an
async probe), through the same ``submit(task, then)`` shape. On the lane an
attempt is a task on one loop instead of a thread: the probes share the run's
clients (:class:`~generator.probes.base.RunClients`), and a thousand answering
checks cost no thread switch each. Submissions to the lane are batched: the loop
is woken once for whatever arrived since it last looked, not once per attempt.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import queue
import threading
from collections import deque
from typing import Awaitable, Callable, Generic, Optional, TypeVar

from generator.probes.base import RUN_CLIENTS, RunClients

T = TypeVar("T")

SHUTDOWN_WAIT = 5.0  # seconds to close the clients and stop the loop before leaving it to die


class Workers(Generic[T]):
    """Reusable daemon threads, created only when no idle one is free."""

    def __init__(self, name: str = "probe") -> None:
        self._tasks: queue.SimpleQueue[Optional[tuple[Callable[[], T], Callable[[T], None]]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._live = 0
        self._closed = False
        self._name = name
        self._counter = itertools.count(1)
        self.peak = 0

    def submit(self, task: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``task`` on a worker, then ``then(result)`` once the worker counts as idle again
        (so the scheduler, woken by ``then``, reuses it instead of starting another thread)."""
        with self._lock:
            if self._idle > 0:
                self._idle -= 1  # reserve an idle worker for this task
            else:
                self._live += 1
                self.peak = max(self.peak, self._live)
                threading.Thread(target=self._loop, name=f"{self._name}-{next(self._counter)}", daemon=True).start()
        self._tasks.put((task, then))

    def _loop(self) -> None:
        while True:
            item = self._tasks.get()
            if item is None:
                with self._lock:
                    self._live -= 1
                return
            task, then = item
            result = task()
            with self._lock:
                if self._closed:  # finished after the run ended (an abandoned probe): go away
                    self._live -= 1
                    return
                self._idle += 1
            then(result)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._tasks.put(None)



class Ticket:
    """An attempt handed to the lane; :meth:`cancel` ends it (the scheduler abandoned it)."""

    def __init__(self, call: Callable[[Callable[[], None]], None]) -> None:
        self._call = call
        self.task: Optional[asyncio.Task[None]] = None
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self._call(self._cancel_in_loop)

    def _cancel_in_loop(self) -> None:
        if self.task is not None:
            self.task.cancel()


class AsyncLane(Generic[T]):
    """An event loop on its own daemon thread, for one run; :meth:`shutdown` closes its clients."""

    def __init__(self, name: str = "probe-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self.clients = RunClients()
        self._context = contextvars.copy_context()  # the tasks' context: the run's clients
        self._context.run(RUN_CLIENTS.set, self.clients)
        self._lock = threading.Lock()
        self._incoming: deque[tuple[Ticket, Callable[[], Awaitable[T]], Callable[[T], None]]] = deque()
        self._woken = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait(SHUTDOWN_WAIT)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def submit(self, task: Callable[[], Awaitable[T]], then: Callable[[T], None]) -> Ticket:
        """Run the coroutine ``task()`` on the loop, then ``then(result)`` there (unless cancelled)."""
        ticket = Ticket(self.call)
        with self._lock:
            self._incoming.append((ticket, task, then))
            wake, self._woken = not self._woken, True
        if wake:
            self.loop.call_soon_threadsafe(self._drain)
        return ticket

    def call(self, function: Callable[[], None]) -> None:
        if not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(function)
            except RuntimeError:  # closed meanwhile
                pass

    def _drain(self) -> None:
        with self._lock:
            batch, self._incoming = self._incoming, deque()
            self._woken = False
        for ticket, task, then in batch:
            if ticket.cancelled:
                continue
            # a callback runs in its submitter's context: name the run's context for the task
            ticket.task = self._context.run(self.loop.create_task, self._one(task, then))

    @staticmethod
    async def _one(task: Callable[[], Awaitable[T]], then: Callable[[T], None]) -> None:
        then(await task())

    def shutdown(self) -> None:
        """Cancel what still runs (abandoned attempts), close the clients, stop the loop."""
        if self.loop.is_closed():
            return
        future = asyncio.run_coroutine_threadsafe(self._close(), self.loop)
        try:
            future.result(SHUTDOWN_WAIT)
        except Exception:  # a client that would not close: the loop goes down with the daemon thread
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(SHUTDOWN_WAIT)
        if not self._thread.is_alive():
            self.loop.close()

    async def _close(self) -> None:
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=SHUTDOWN_WAIT)
        await self.clients.aclose()
