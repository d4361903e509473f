"""The main process's side of the parsing worker (see _worker.py).

One worker per process, started on first use (about 0.5 s: Python plus pypdf
and python-docx), reused for every document after that, and restarted if it
dies or hangs. Calls are serialised by a lock: one parse at a time.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from ..errors import DocumentError
from ._base import Limits, Parsed
from ._worker import ocr_budget, read_frame, write_frame
from .ocr import OcrOptions

_QA_DIR = Path(__file__).resolve().parent.parent
# Runs in the worker: a stand-in ``qa`` package whose __init__ is never run, so
# importing qa.readers does not import qa.index, numpy, FAISS and the model.
_BOOT = """
import json, sys, types
cfg = json.loads(sys.argv[1])
sys.path[:] = cfg["path"]
qa = types.ModuleType("qa")
qa.__path__ = [cfg["qa"]]
sys.modules["qa"] = qa
from qa.readers._worker import main
main()
"""
# Beyond the parse deadline (which the worker enforces itself): time to send the text back.
_GRACE_S = 30.0
_START_TIMEOUT_S = 60.0


class _Worker:
    def __init__(self):
        cfg = {"path": [p for p in sys.path if p and Path(p).resolve() != Path(__file__).parent], "qa": str(_QA_DIR)}
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            close_fds=True,
            start_new_session=(os.name == "posix"),  # its children die with it: killpg
        )
        self.replies: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, name="docqa-reader-pump", daemon=True).start()
        ready = self._get(_START_TIMEOUT_S)
        if not isinstance(ready, bytes):
            self.kill()
            raise RuntimeError(f"the document reader process did not start: {self.stderr_tail()}")

    def _pump(self) -> None:
        out = self.proc.stdout
        while True:
            try:
                frame = read_frame(out)
            except (OSError, ValueError):
                frame = None
            self.replies.put(frame)
            if frame is None:
                return

    def _get(self, timeout: float):
        try:
            return self.replies.get(timeout=timeout)
        except queue.Empty:
            return "timeout"

    def request(self, payload: dict, timeout: float, ocr: OcrOptions, progress=None):
        """The reply bytes; None if the worker died; "timeout" if it did not answer in time.

        Progress frames go to ``progress(event)``; one announcing OCR moves the
        deadline as the worker moves its own.
        """
        write_frame(self.proc.stdin, json.dumps(payload).encode("utf-8"))
        started = time.monotonic()
        deadline = started + timeout
        while True:
            reply = self._get(max(0.0, deadline - time.monotonic()))
            if not (isinstance(reply, bytes) and reply.startswith(b'{"progress"')):
                return reply
            event = json.loads(reply)["progress"]
            if "ocr" in event and "done" not in event:
                deadline = started + timeout + ocr_budget(event, ocr)
            if progress is not None:
                try:
                    progress(event)
                except Exception:
                    pass  # a display's failure must not lose the document

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            if os.name == "posix":
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        try:
            self.proc.stdin.close()  # the worker ends at end of input
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()

    def stderr_tail(self) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - 2000))
            lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
            return lines[-1] if lines else "no message"
        except OSError:
            return "no message"


class _Slot:
    """One worker and the lock that serialises its calls."""

    def __init__(self):
        self.lock = threading.Lock()
        self.worker: _Worker | None = None

    def call(self, request: dict, wait: float, ocr: OcrOptions, progress, source: str):
        """The worker's reply bytes, "timeout", or None when it stopped (restarted once)."""
        for attempt in (1, 2):
            if self.worker is None or not self.worker.alive():
                if self.worker is not None:
                    self.worker.kill()
                try:
                    self.worker = _Worker()
                except (OSError, RuntimeError) as exc:
                    self.worker = None
                    raise DocumentError(source, f"cannot be parsed: {exc}", lasting=False)
            try:
                reply = self.worker.request(request, wait, ocr, progress)
            except (BrokenPipeError, OSError):
                reply = None
            if reply is None and attempt == 1:
                self.worker.kill()  # it died between two documents: start a new one, once
                self.worker = None
                continue
            return reply

    def drop(self) -> str:
        """Kill the worker (after a time-out or a crash); the last line it wrote to stderr."""
        tail = self.worker.stderr_tail() if self.worker is not None else "no message"
        if self.worker is not None:
            self.worker.kill()
        self.worker = None
        return tail

    def close(self) -> None:
        with self.lock:
            if self.worker is not None:
                self.worker.close()
                self.worker = None


# Parsing for indexing, and drawing pages for the source viewer: two workers,
# so a page view never waits behind a long parse (an OCR'd scan takes minutes).
_parsing, _viewing = _Slot(), _Slot()


def parse_isolated(kind: str, path: Path, source: str, limits: Limits, ocr: OcrOptions | None = None,
                   progress=None) -> Parsed:
    """Parse one file in the worker, under ``limits``, OCR as ``ocr`` says; every failure is a
    :class:`DocumentError`. ``progress(event)``: see _worker.py."""
    return Parsed.from_dict(_run(_parsing, kind, path, source, limits, ocr, progress))


def draw_isolated(kind: str, path: Path, source: str, page: int, ocr_page: bool, limits: Limits,
                  ocr: OcrOptions | None = None):
    """Page ``page`` of a PDF or image drawn in the viewing worker (qa/readers/page_view.py), under
    ``limits``; ``ocr_page``: its words come from OCR. Every failure is a :class:`DocumentError`."""
    from .page_view import PageDrawing

    extra = {"view": {"page": int(page), "ocr_page": bool(ocr_page)}}
    return PageDrawing.from_dict(_run(_viewing, kind, path, source, limits, ocr, None, extra))


def _run(slot: _Slot, kind: str, path: Path, source: str, limits: Limits, ocr: OcrOptions | None, progress,
         extra: dict | None = None) -> dict:
    ocr = ocr or OcrOptions()
    request = {"kind": kind, "path": os.path.abspath(path), "name": source, "limits": limits.__dict__,
               "ocr": asdict(ocr), **(extra or {})}
    wait = limits.timeout_s + _GRACE_S if hasattr(os, "fork") else limits.timeout_s
    with slot.lock:
        reply = slot.call(request, wait, ocr, progress, source)
        if reply == "timeout":
            slot.drop()
            raise DocumentError(
                source, f"took longer than {limits.timeout_s:g} s to parse; skipped (limit: qa.readers.PARSE_TIMEOUT_S)"
            )
        if reply is None:
            tail = slot.drop()
            raise DocumentError(source, f"could not be parsed: the reader process stopped ({tail})")
    message = json.loads(reply)
    if "error" in message:
        # The worker could not open the file: a passing failure, not the content's.
        raise DocumentError(source, message["error"], lasting=not message["error"].startswith("cannot be read ("))
    return message["ok"]


def shutdown() -> None:
    """Stop the workers (at exit; tests may call it too)."""
    for slot in (_parsing, _viewing):
        slot.close()


atexit.register(shutdown)
if hasattr(os, "register_at_fork"):
    # A forked copy of this process must start its own worker, not share ours.
    def _forget_in_child():
        global _parsing, _viewing
        _parsing, _viewing = _Slot(), _Slot()

    os.register_at_fork(after_in_child=_forget_in_child)
