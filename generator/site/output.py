"""Writing the site in place, file by file: only what changed is written, only what is gone is removed.

Each file is compared with what the previous build left before it is written: the
previous build's *manifest* (a content hash, size and mtime per file, kept beside the
site as ``.<site>.manifest``) says, with one ``stat``, whether the file on disk is still
the one it hashed. An unchanged file is not touched (its mtime stays, so a web server's
caches and ``rsync`` see no change); a changed file is written to a temporary name in
its folder and renamed over the old one, so a reader sees either the old or the new
version, never half of one. Files the previous build made and this one does not are
removed at the end, with the folders they leave empty; nothing else is deleted.

Kill safety: the manifest is deleted when a build starts and written when it ends. A
build killed half-way leaves every file whole (old or new version) and no manifest, so
the next build compares every file by its content instead (it reads the site once) and
removes what is not part of the site any more, temporary files included.

Files are written by a few threads while the next pages render (creating a file waits
on the file system, not the CPU). Forked page workers write through their own
``SiteWriter.worker`` and hand their entries back to the parent with ``merge``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Optional

WRITE_THREADS = 4
MANIFEST_HEADER = "statusgen site manifest 1"
TEMP_MARK = ".tmp-"  # in the names of files being written: ".<name>.tmp-<pid>"

Entry = tuple[str, int, int]  # content hash, size, mtime in ns
Counts = tuple[int, int, int, int]  # files, pages, bytes, files written


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def manifest_path(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.manifest"


def load_manifest(path: Path) -> Optional[dict[str, Entry]]:
    """The previous build's files, or None when there is no (whole) manifest."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    lines = text.split("\n")
    if not lines or lines[0] != MANIFEST_HEADER or lines[-1] != "end":
        return None
    found: dict[str, Entry] = {}
    for line in lines[1:-1]:
        parts = line.split("\t")
        if len(parts) != 4:
            return None
        found[parts[0]] = (parts[1], int(parts[2]), int(parts[3]))
    return found


def scan(out_dir: Path) -> dict[str, Entry]:
    """Every file under ``out_dir`` with an unknown hash (compared by content when written again)."""
    found: dict[str, Entry] = {}
    if not out_dir.is_dir():
        return found
    for folder, _, names in os.walk(out_dir):
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, out_dir).replace(os.sep, "/")
            try:
                status = os.stat(path)
            except FileNotFoundError:
                continue
            found[relative] = ("", status.st_size, status.st_mtime_ns)
    return found


class SiteWriter:
    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise OSError(f"{self.out_dir}: exists and is not a folder")
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._clean_leftovers()
        self.manifest = manifest_path(self.out_dir)
        known = load_manifest(self.manifest)
        self.previous: dict[str, Entry] = known if known is not None else scan(self.out_dir)
        self.trusted = known is not None  # hashes known: an unchanged file costs one stat
        self.manifest.unlink(missing_ok=True)  # until this build ends, the files are compared by content
        self.out_dir.mkdir(exist_ok=True)
        self._setup(WRITE_THREADS)

    def _setup(self, threads: int) -> None:
        self._made: set[str] = set()
        self._lock = threading.Lock()
        self._pool: Optional[ThreadPoolExecutor] = None  # started on the first write (after any fork)
        self._threads = threads
        self._pending: list[Future] = []
        self.entries: dict[str, Entry] = {}
        self._names: set[str] = set()  # every path written in this build, to refuse one written twice
        self.files = self.pages = self.bytes = self.changed = 0
        self.removed = 0
        self._pid = os.getpid()

    @classmethod
    def worker(cls, parent: SiteWriter) -> SiteWriter:
        """A writer for a forked worker: the same site and manifest, no threads; the parent merges its entries."""
        writer = cls.__new__(cls)
        writer.out_dir, writer.manifest = parent.out_dir, parent.manifest
        writer.previous, writer.trusted = parent.previous, parent.trusted
        writer._setup(0)
        return writer

    def result(self) -> tuple[dict[str, Entry], Counts]:
        self._drain()
        return self.entries, (self.files, self.pages, self.bytes, self.changed)

    def merge(self, entries: dict[str, Entry], counts: Counts) -> None:
        """Take in what a worker wrote (and refuse a path written twice)."""
        for relative in entries:
            if relative in self._names:
                raise ValueError(f"{relative}: written twice in one build (two keys map to the same page?)")
            self._names.add(relative)
        self.entries.update(entries)
        files, pages, size, changed = counts
        self.files += files
        self.pages += pages
        self.bytes += size
        self.changed += changed

    def _clean_leftovers(self) -> None:
        # the staging and old folders of the previous design (a build that swapped whole folders)
        name = self.out_dir.name
        for pattern in (f".{name}.building-*", f".{name}.old-*"):
            for stale in self.out_dir.parent.glob(pattern):
                shutil.rmtree(stale, ignore_errors=True)
        for stale in self.out_dir.parent.glob(f".{name}.manifest{TEMP_MARK}*"):
            stale.unlink(missing_ok=True)

    # ------------------------------------------------------------------ one file

    def _unchanged(self, relative: str, target: str, data: bytes, digest: str) -> Optional[Entry]:
        before = self.previous.get(relative)
        if before is None or before[1] != len(data) or (self.trusted and before[0] != digest):
            return None
        try:
            status = os.stat(target)
        except FileNotFoundError:
            return None
        if status.st_size != len(data):
            return None
        if not (self.trusted and status.st_mtime_ns == before[2]):
            with open(target, "rb") as handle:  # not vouched for by a manifest: compare the bytes
                if handle.read() != data:
                    return None
        return digest, len(data), status.st_mtime_ns

    def _store(self, relative: str, data: bytes) -> bool:
        """Write one file unless it already holds ``data``; True when written."""
        target = os.path.join(self.out_dir, relative)
        digest = _digest(data)
        kept = self._unchanged(relative, target, data, digest)
        if kept is not None:
            self.entries[relative] = kept
            return False
        folder = os.path.dirname(target)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)  # safe when two threads race for the same folder
            with self._lock:
                self._made.add(folder)
        temporary = os.path.join(folder, f".{os.path.basename(target)}{TEMP_MARK}{self._pid}")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            mtime = os.fstat(handle.fileno()).st_mtime_ns  # a rename keeps it
        os.replace(temporary, target)  # atomic: readers see the old file or the new one
        self.entries[relative] = (digest, len(data), mtime)
        return True

    def write(self, relative: str, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if relative in self._names:
            raise ValueError(f"{relative}: written twice in one build (two keys map to the same page?)")
        self._names.add(relative)
        self.files += 1
        self.bytes += len(data)
        if relative.endswith(".html"):
            self.pages += 1
        if self._pool is None and self._threads:
            self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="site-write")
        if self._pool is None:
            self.changed += self._store(relative, data)
            return
        self._pending.append(self._pool.submit(self._store, relative, data))
        if len(self._pending) > 512:  # bound the bytes waiting in memory
            self._drain(256)

    def _drain(self, keep: int = 0) -> None:
        while len(self._pending) > keep:
            self.changed += self._pending.pop(0).result()  # re-raises a write error here, in the building thread

    def copy(self, relative: str, source: Path) -> None:
        self.write(relative, source.read_bytes())

    # ------------------------------------------------------------------ the end of a build

    def commit(self) -> None:
        """Remove what the previous build made and this one did not, then record the manifest."""
        self._drain()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        gone = [relative for relative in self.previous if relative not in self.entries]  # after a kill: its temporary files too
        folders: set[str] = set()
        for relative in sorted(gone):
            try:
                os.unlink(os.path.join(self.out_dir, relative))
                self.removed += 1
            except FileNotFoundError:
                pass
            folders.add(os.path.dirname(relative))
        for folder in sorted(folders, key=lambda f: f.count("/"), reverse=True):
            while folder:
                try:
                    os.rmdir(os.path.join(self.out_dir, folder))  # only succeeds when empty
                except OSError:
                    break
                folder = os.path.dirname(folder)
        lines = [MANIFEST_HEADER] + [f"{path}\t{digest}\t{size}\t{mtime}"
                                     for path, (digest, size, mtime) in sorted(self.entries.items())] + ["end"]
        temporary = self.manifest.with_name(self.manifest.name + TEMP_MARK + str(self._pid))
        temporary.write_text("\n".join(lines), encoding="utf-8")
        os.replace(temporary, self.manifest)

    def abort(self) -> None:
        """Stop writing; every file is whole, and without a manifest the next build compares them all."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
