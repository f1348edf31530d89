"""Writing the site: into a fresh staging folder, then swapped in place of the old one.

A build killed at any instant leaves the previous ``_site/`` whole (the staging
folder is a sibling that the next build removes), so the per-file fsync of
``fsutil.atomic_write_*`` is not needed for thousands of small files; the swap
is two renames. Files are written by a few threads while the next pages render.
"""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Optional

WRITE_THREADS = 4  # file creation waits on the file system, not the CPU: overlap it with rendering


class SiteWriter:
    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise OSError(f"{self.out_dir}: exists and is not a folder")
        parent = self.out_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        self._clean_leftovers()
        self.staging = parent / f".{self.out_dir.name}.building-{os.getpid()}"
        self.staging.mkdir()
        self._made: set[Path] = {self.staging}
        self._lock = threading.Lock()
        self._pool: Optional[ThreadPoolExecutor] = None  # started on the first write (after any fork)
        self._threads = WRITE_THREADS
        self._pending: list[Future] = []
        self.files = 0
        self.pages = 0
        self.bytes = 0
        self.written: dict[str, int] = {}  # relative path -> size

    @classmethod
    def worker(cls, staging: Path) -> SiteWriter:
        """A writer for a forked worker: same staging folder, no threads, no swap (the parent commits)."""
        writer = cls.__new__(cls)
        writer.out_dir = staging
        writer.staging = staging
        writer._made = {staging}
        writer._lock = threading.Lock()
        writer._pool = None
        writer._threads = 0
        writer._pending = []
        writer.files = writer.pages = writer.bytes = 0
        writer.written = {}
        return writer

    def merge(self, written: dict[str, int], files: int, pages: int, size: int) -> None:
        """Count what a worker wrote (and refuse a path written twice)."""
        for relative in written:
            if relative in self.written:
                raise ValueError(f"{relative}: written twice in one build (two keys map to the same page?)")
        self.written.update(written)
        self.files += files
        self.pages += pages
        self.bytes += size

    def _clean_leftovers(self) -> None:
        # a killed build leaves its staging or old folder behind; one build runs at a time
        for pattern in (f".{self.out_dir.name}.building-*", f".{self.out_dir.name}.old-*"):
            for stale in self.out_dir.parent.glob(pattern):
                shutil.rmtree(stale, ignore_errors=True)

    def _store(self, target: Path, data: bytes) -> None:
        folder = target.parent
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)  # safe when two threads race for the same folder
            with self._lock:
                self._made.add(folder)
        with open(target, "wb") as handle:
            handle.write(data)

    def write(self, relative: str, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if relative in self.written:
            raise ValueError(f"{relative}: written twice in one build (two keys map to the same page?)")
        self.written[relative] = len(data)
        self.files += 1
        self.bytes += len(data)
        if relative.endswith(".html"):
            self.pages += 1
        if self._pool is None and self._threads:
            self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="site-write")
        if self._pool is None:
            self._store(self.staging / relative, data)
            return
        self._pending.append(self._pool.submit(self._store, self.staging / relative, data))
        if len(self._pending) > 512:  # bound the bytes waiting in memory
            self._drain(256)

    def _drain(self, keep: int = 0) -> None:
        while len(self._pending) > keep:
            self._pending.pop(0).result()  # re-raises a write error here, in the building thread

    def copy(self, relative: str, source: Path) -> None:
        self.write(relative, source.read_bytes())

    def commit(self) -> None:
        """Swap the staging folder in; the old site is removed afterwards."""
        self._drain()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        old = None
        if self.out_dir.exists():
            old = self.out_dir.parent / f".{self.out_dir.name}.old-{os.getpid()}"
            os.replace(self.out_dir, old)
        os.replace(self.staging, self.out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.staging, ignore_errors=True)
