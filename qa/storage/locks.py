"""The locks a store takes in its index folder (flock: one machine's processes take turns).

The writer lock is held only while a commit is written; the sync lock for a
whole sync (reading, embedding and committing the corpus folder), so that two
syncs of one index do not do the same work twice, and a question can tell
that one is running instead of waiting for it. Both stores use them: Milvus
keeps its lock files in the local index folder too.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from pathlib import Path

from ..errors import IndexLockedError


@contextlib.contextmanager
def write_lock(index_dir: Path, timeout: float):
    """Hold the index's writer lock (only while a commit is written); other
    writers wait, then get a clear error."""
    with _flock(index_dir / ".lock", timeout) as held:
        if not held:
            raise IndexLockedError(
                f"another process has been writing to {index_dir} for over {timeout:.0f}s; "
                "wait for it to finish (or stop it) and try again"
            )
        yield


@contextlib.contextmanager
def sync_lock(index_dir: Path, timeout: float):
    """Held for the whole of a sync (reading, embedding and committing the
    corpus folder), so that two syncs of one index do not do the same work
    twice; yields False when another process held it for ``timeout`` seconds
    (0: do not wait). Writers take :func:`write_lock` only to commit."""
    with _flock(index_dir / ".sync.lock", timeout) as held:
        yield held


@contextlib.contextmanager
def _flock(path: Path, timeout: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        yield True
    finally:
        fh.close()  # closing releases the lock
