"""The cross-process writer lock of an index, and the thread priority of background work.

One process writes an index at a time: embedded Chroma is not safe with two, and the catalog and
BM25 files must change together. The lock is an `flock` of a file in the index folder, so the
kernel drops it when a holder is killed; readers can ask whether a writer is at work without
holding one back (a shared lock, taken and dropped at once).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .errors import StoreLockedError
from .settings import Settings

LOCK_NAME = ".writer.lock"


class _HeldLock:
    """This process's hold on one index's writer lock: its threads take turns on the mutex, other
    processes on the `flock` of the lock file."""

    def __init__(self) -> None:
        self.mutex = threading.RLock()
        self.depth = 0
        self.file: IO[str] | None = None


_HELD: dict[Path, _HeldLock] = {}
_HELD_GUARD = threading.Lock()


def _held(lock_path: Path) -> _HeldLock:
    with _HELD_GUARD:
        return _HELD.setdefault(lock_path.resolve(), _HeldLock())


def _held_here(lock_path: Path) -> bool:
    with _HELD_GUARD:
        held = _HELD.get(lock_path.resolve())
    return held is not None and held.depth > 0


def _locked(settings: Settings, lock_path: Path, waited: float) -> StoreLockedError:
    after = f" (waited {waited:g} s)" if waited > 0 else ""
    return StoreLockedError(
        f"another process is writing index '{settings.index}' (lock {lock_path}){after}; "
        "wait for it to finish"
    )


@contextlib.contextmanager
def writer_lock(
    settings: Settings, wait: float = 0.0, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """One writing process per index (embedded Chroma is not safe with two, and the catalog and BM25
    files must change together), also while `--rebuild` deletes and rebuilds it. Re-entrant within a
    thread, whichever `Index` object of this process asks; other threads and processes wait up to
    `wait` seconds, and `on_wait` is called once if they must (so a user knows why nothing moves).
    The kernel drops the lock of a killed process."""
    lock_path = settings.index_path / LOCK_NAME
    held = _held(lock_path)
    started = time.monotonic()
    got = held.mutex.acquire(False)
    if not got and wait > 0:
        if on_wait is not None:
            on_wait()
            on_wait = None
        got = held.mutex.acquire(timeout=wait)
    if not got:
        raise _locked(settings, lock_path, wait)
    try:
        if held.depth == 0:
            held.file = _flock(lock_path, max(0.0, wait - (time.monotonic() - started)), on_wait)
            if held.file is None:
                raise _locked(settings, lock_path, wait)
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.file is not None:
                fcntl.flock(held.file, fcntl.LOCK_UN)
                held.file.close()
                held.file = None
    finally:
        held.mutex.release()


def _flock(lock_path: Path, wait: float, on_wait: Callable[[], None] | None) -> IO[str] | None:
    """The lock file, locked exclusively, or None when another process kept it for `wait` s."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(lock_path, "a+")  # noqa: SIM115 - held until the outermost block ends
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.close()
                return None
            if on_wait is not None:
                on_wait()
                on_wait = None
            time.sleep(0.05)
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    return fh


def writer_active(lock_path: Path) -> bool:
    """Whether this or another process holds the writer lock at `lock_path` now (never blocks a
    writer for long: a shared lock is taken and dropped at once)."""
    if _held_here(lock_path):
        return True
    try:
        with open(lock_path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fh, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def lower_thread_priority(nice: int) -> None:
    """Give the calling thread the OS priority `nice`: background work (an upload's ingest, a BM25
    rebuild) takes the CPU only when the answers being computed leave it free."""
    with contextlib.suppress(AttributeError, OSError):  # not on every platform, nor always allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
