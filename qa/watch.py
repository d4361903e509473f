"""Following the corpus folder while running: poll, and sync when it changed.

Polling (a stat of every file each interval) needs no extra dependency and
works on every file system, network shares included; a corpus of thousands
of files costs milliseconds per check.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from .corpus import corpus_files
from .errors import QAError

log = logging.getLogger("docqa.watch")


def fingerprint(folder) -> tuple:
    """What changes when a corpus file is added, removed, renamed or written."""
    out = []
    for doc_id, path in corpus_files(folder).items():
        try:
            st = path.stat()
        except OSError:
            continue  # removed between listing and stat: the next check sees it
        out.append((doc_id, st.st_size, st.st_mtime_ns))
    return tuple(out)


def watch(index, stop: threading.Event, on_report: Callable | None = None, interval: float | None = None) -> None:
    """Sync ``index`` with its corpus folder whenever the folder changes, until ``stop`` is set."""
    folder = index.settings.corpus_dir
    interval = index.settings.watch_interval_s if interval is None else interval
    seen = None
    while not stop.is_set():
        current = fingerprint(folder)
        if current != seen:
            try:
                report = index.sync()
                if on_report is not None and (report.changed or report.errors):
                    on_report(report)
                # The sync read the folder after ``current`` was taken, so a file
                # written (or removed) meanwhile may be in the index and not in
                # ``current``: a file added and deleted during a slow sync would
                # leave the fingerprint as it was and stay indexed. After a
                # change, sync once more instead of trusting ``current``.
                seen = None if report.changed else current
            except QAError as exc:  # e.g. another writer holds the lock: try again next time
                log.warning("sync failed: %s", exc)
            except Exception:  # noqa: BLE001 - e.g. a store's RPC failing once: the watch must outlive it
                log.exception("sync failed unexpectedly; trying again at the next check")
        stop.wait(interval)


def start_watching(index, on_report: Callable | None = None) -> threading.Event:
    """Run :func:`watch` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=watch, args=(index, stop, on_report), daemon=True, name="docqa-watch").start()
    return stop
