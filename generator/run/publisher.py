"""The watcher's publish step: the site and the Statuspage JSON, a status line, and the hook.

A publish asks the tracker for its incidents while holding the engine's lock, then builds the site
without it (the history is read from whole files: appended lines, atomic renames), so checks keep
being probed, recorded and acted on while a large site builds. It prints the status line, rewrites
the job summary, then runs the ``--on-publish`` command, if any, with what it needs to know in
its environment (``STATUSGEN_PUBLISH_CHANGED`` is 1 when a transition happened since the last
publish, ``STATUSGEN_PUBLISH_FINAL`` is 1 for the last one). That command is how a deployment
pushes the history and deploys the site on the publish cadence (see docs/watch.md).
"""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import threading
from typing import Optional

from generator.history import HistoryError
from generator.report import Console
from generator.run.engine import Engine
from generator.run.options import Options
from generator.run.publishing import gather, render, site_failure
from generator.run.watchlog import Tally, WatchLog
from generator.site import SiteError

HOOK_TIMEOUT = 300.0  # seconds: a push that hangs longer is abandoned (the next publish tries again)


class Publisher:
    def __init__(self, engine: Engine, options: Options, log: WatchLog, *, on_publish: Optional[str] = None) -> None:
        self.engine = engine
        self.options = options
        self.log = log
        self.on_publish = shlex.split(on_publish) if on_publish else []
        self.publishes = 0
        self._thread: Optional[threading.Thread] = None

    def start(self, tally: Tally, *, changed: bool) -> bool:
        """Publish on a thread of its own; False (nothing started) while the last one still runs."""
        if self._thread is not None and self._thread.is_alive():
            return False
        self._thread = threading.Thread(target=self.publish_now, args=(tally,), kwargs={"changed": changed},
                                        name="publish", daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: Optional[float] = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def publish_now(self, tally: Tally, *, changed: bool, final: bool = False, hook: bool = True) -> None:
        """Gather the incidents holding the engine's lock (the tracker is not shared while it answers),
        then build the site without it: ticks keep recording and acting meanwhile."""
        what = "checked"
        if self.options.build:
            quiet = Console({k: v for k, v in self.options.environ.items() if k != "GITHUB_STEP_SUMMARY"},
                            io.StringIO())
            engine = self.engine
            with engine.lock:
                incidents, failure = gather(engine.tracker, engine.notices, quiet)
                notices = engine.notices
            if failure is not None:
                self.log.warning(f"tracker unavailable: the site is built from its cache: {failure}")
            try:
                pages = render(engine.config, self.options, engine.history, incidents, notices, quiet)
                what = f"published {self.options.site_dir}/ ({pages} pages)"
            except (HistoryError, SiteError, OSError) as error:
                self.log.warning(str(site_failure(error, quiet)))
        self.publishes += 1
        self.log.published(self.engine.config, self.engine.states, tally, what=what, publishes=self.publishes)
        if hook:
            self._hook(changed=changed, final=final)

    def hook_final(self, *, changed: bool) -> None:
        """The hook once more at the stop (after the lease is released): push what is left."""
        self._hook(changed=changed, final=True)

    def _hook(self, *, changed: bool, final: bool) -> None:
        if not self.on_publish:
            return
        env = dict(os.environ)
        env.update(self.options.environ)
        env.update({"STATUSGEN_PUBLISH_CHANGED": "1" if changed else "0", "STATUSGEN_PUBLISH_FINAL": "1" if final else "0",
                    "STATUSGEN_DATA_DIR": str(self.options.data_dir), "STATUSGEN_SITE_DIR": str(self.options.site_dir)})
        try:
            done = subprocess.run(self.on_publish, env=env, timeout=HOOK_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            self.log.warning(f"--on-publish {shlex.join(self.on_publish)}: {error}")
            return
        if done.returncode != 0:
            self.log.warning(f"--on-publish {shlex.join(self.on_publish)}: exit {done.returncode}")
