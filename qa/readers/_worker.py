"""The parsing worker: a separate process that parses PDF, HTML and DOCX files.

Started once by ``_client.py`` (``python -c`` with a stub ``qa`` package, so it
imports only the readers and their parsers (PDF, python-docx, lxml); not numpy, FAISS or
the model). It preloads the parsers, then answers one request at a time on
stdin/stdout. On POSIX each request is parsed in a fresh ``fork()`` of the
worker, under ``RLIMIT_AS`` (memory) and ``RLIMIT_CPU``, and killed at the
wall-clock deadline; a crash or a hang of the parser costs that child only.
The worker is single-threaded, so forking it is safe (the main process, with
its model and web server threads, is never forked).

Frames in both directions: 8-byte big-endian length, then UTF-8 JSON.
Request: {"kind", "path", "name", "limits", "ocr"}, with "view": {"page",
"ocr_page"} to draw one page for the source viewer instead of parsing
(qa/readers/page_view.py). Reply: {"ok": Parsed or PageDrawing} or
{"error": reason}, after any number of {"progress": event} frames: a parse
that OCRs pages says so first ({"progress": {"ocr": pages}}), and the
deadline grows by the OCR's own ceiling (OcrOptions: per page, per
document), then counts its pages ({"ocr": pages, "done": n}).
"""

from __future__ import annotations

import gc
import importlib
import io
import json
import os
import select
import signal
import struct
import sys
import time

from ..errors import DocumentError
from ._base import Limits
from .ocr import OcrOptions

_HEADER = struct.Struct(">Q")
LABELS = {"pdf": "PDF", "html": "HTML", "docx": "Word .docx", "image": "image"}
PACKAGES = {"pdf": "pypdfium2 pypdf[crypto]", "html": "", "docx": "python-docx", "image": "pillow"}
PAGED = frozenset({"pdf", "image"})  # readers that OCR pages: they take OcrOptions and a progress callback
_EXIT_MEMORY = 3
_EXIT_FAILED = 4


def read_frame(stream) -> bytes | None:
    """One frame's payload, or None at end of stream."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    payload = _read_exactly(stream, _HEADER.unpack(header)[0])
    return payload


def write_frame(stream, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exactly(stream, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- the parse itself
_readers: dict = {}
_missing: dict[str, str] = {}


def preload() -> None:
    """Import the readers once, so every forked child starts with them loaded."""
    import logging
    import warnings

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf logs every oddity of a damaged file
    warnings.simplefilter("ignore")
    for kind in ("pdf", "html", "docx", "image"):
        try:
            module = __import__(f"qa.readers.{kind}", fromlist=["parse"])
            _readers[kind] = module.parse
        except ImportError as exc:
            _missing[kind] = str(exc)
    # Modules imported on first use (pypdf's filters, zipfile's name codec): once here, not in every child.
    for module in ("encodings.cp437", "pypdf._codecs._codecs", "pypdf.filters", "qa.readers.page_view"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    _warm_up()
    # Children share the preloaded objects copy-on-write; keep the collector from touching them.
    gc.freeze()


def _warm_up() -> None:
    """Parse a tiny document of each kind once, so children inherit warm caches."""
    limits = Limits(60.0, 1024, 10, 10_000, 10_000_000, 100.0, 100)
    try:
        if "docx" in _readers:
            import docx

            buf = io.BytesIO()
            docx.Document().save(buf)  # python-docx's own default template
            _readers["docx"](buf.getvalue(), "warm-up.docx", limits)
        if "html" in _readers:
            _readers["html"](b"<title>t</title><h1>h</h1><p>p</p>", "warm-up.html", limits)
        if "pdf" in _readers:
            _readers["pdf"](_tiny_pdf(), "warm-up.pdf", limits)
    except Exception:
        pass  # only an optimisation


def _tiny_pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 99 99] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length 33 >>\nstream\nBT /F1 9 Tf 9 50 Td (warm) Tj ET\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def ocr_budget(event: dict, ocr: OcrOptions) -> float:
    """Seconds a parse may take beyond its own deadline once it announces OCR of ``event["ocr"]`` pages:
    every page at its ceiling, or the document's ceiling plus the last page begun before it ran out."""
    pages = int(event.get("ocr", 0))
    return min(ocr.document_timeout_s + ocr.page_timeout_s, pages * ocr.page_timeout_s) + 10.0


def parse_to_json(kind: str, path: str, name: str, limits: Limits, ocr: OcrOptions | None = None,
                  progress=None, view: dict | None = None) -> bytes:
    """The reply for one request; MemoryError propagates (the caller maps it to an exit code)."""
    try:
        reply = {"ok": _parse(kind, path, name, limits, ocr or OcrOptions(), progress, view).to_dict()}
    except DocumentError as exc:
        reply = {"error": exc.reason}
    except RecursionError:
        reply = {"error": f"is nested too deeply to read as {LABELS.get(kind, kind)}; skipped"}
    except MemoryError:
        raise
    except Exception as exc:  # whatever a parser raises on a damaged file: never a traceback
        reply = {
            "error": f"is damaged or not really a {LABELS.get(kind, kind)} file and cannot be read "
            f"({type(exc).__name__}: {str(exc)[:200]})"
        }
    return json.dumps(reply, ensure_ascii=False).encode("utf-8")


def _parse(kind: str, path: str, name: str, limits: Limits, ocr: OcrOptions, progress, view=None):
    if kind not in _readers:
        if kind in _missing:
            raise DocumentError(
                name, f"needs the Python package {PACKAGES[kind]!r} to be read ({_missing[kind]}): pip install it"
            )
        raise DocumentError(name, f"has a format the reader does not know: {kind!r}")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise DocumentError(name, f"cannot be read ({exc.strerror or exc})")
    if view is not None:
        from .page_view import draw

        return draw(kind, data, name, int(view["page"]), bool(view.get("ocr_page")), ocr)
    if kind in PAGED:
        return _readers[kind](data, name, limits, ocr, progress)
    return _readers[kind](data, name, limits)


# ---------------------------------------------------------------- one child per request
def handle(request: dict, forward=None) -> bytes:
    """The reply to one request; ``forward(frame)`` passes progress frames on as they come."""
    limits = Limits(**request["limits"])
    ocr = OcrOptions(**request.get("ocr", {}))
    kind, path, name = request["kind"], request["path"], request["name"]
    view = request.get("view")
    if not hasattr(os, "fork"):  # Windows: parse here; the main process enforces the deadline
        def progress(event):
            if forward is not None:
                forward(json.dumps({"progress": event}).encode("utf-8"))
        try:
            return parse_to_json(kind, path, name, limits, ocr, progress, view)
        except MemoryError:
            return _error("needed more memory than there is to parse; skipped")
    return _in_child(kind, path, name, limits, ocr, forward, view)


def _in_child(kind: str, path: str, name: str, limits: Limits, ocr: OcrOptions, forward=None,
              view: dict | None = None) -> bytes:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the worker's loop
        code = _EXIT_FAILED
        try:
            os.close(r)
            _child_setup(limits)
            out = os.fdopen(w, "wb")
            payload = parse_to_json(kind, path, name, limits, ocr, _child_progress(out, limits, ocr), view)
            write_frame(out, payload)
            out.close()
            code = 0
        except MemoryError:
            code = _EXIT_MEMORY
        except BaseException:
            code = _EXIT_FAILED
        finally:
            os._exit(code)
    os.close(w)
    buffer, reply, timed_out = bytearray(), None, False
    started = time.monotonic()
    deadline = started + limits.timeout_s
    try:
        while reply is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([r], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(r, 1 << 20)
            if not chunk:
                break
            buffer += chunk
            while len(buffer) >= _HEADER.size and reply is None:
                size = _HEADER.unpack_from(buffer)[0]
                if len(buffer) < _HEADER.size + size:
                    break
                frame = bytes(buffer[_HEADER.size:_HEADER.size + size])
                del buffer[:_HEADER.size + size]
                if not frame.startswith(b'{"progress"'):
                    reply = frame
                    break
                event = json.loads(frame)["progress"]
                if "ocr" in event and "done" not in event:
                    deadline = started + limits.timeout_s + ocr_budget(event, ocr)
                if forward is not None:
                    forward(frame)
    finally:
        os.close(r)
        if timed_out:
            _kill(pid)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        return _error(f"took longer than {limits.timeout_s:g} s to parse; skipped (limit: qa.readers.PARSE_TIMEOUT_S)"
                      if deadline == started + limits.timeout_s else
                      f"took longer than its time ceiling to parse and OCR ({deadline - started:.0f} s); skipped "
                      "(limits: qa.readers.PARSE_TIMEOUT_S, OCR_DOCUMENT_TIMEOUT_S)")
    code = os.waitstatus_to_exitcode(status)
    if code == 0 and reply is not None:
        return reply
    if code == _EXIT_MEMORY:
        return _error(
            f"needed more than {limits.memory_mb:,} MB of memory to parse; skipped (limit: qa.readers.PARSE_MEMORY_MB)"
        )
    if code == -getattr(signal, "SIGXCPU", 24):
        return _error(f"used more than {limits.timeout_s:g} s of CPU time to parse; skipped")
    if code == -signal.SIGKILL:
        return _error("was killed while parsing (out of memory?); skipped")
    if code < 0:
        return _error(f"crashed the {LABELS.get(kind, kind)} parser (signal {-code}); skipped")
    return _error(f"could not be parsed: the parser failed (exit code {code}); skipped")


def _child_progress(out, limits: Limits, ocr: OcrOptions):
    """The child's progress callback: a frame to the worker; before OCR, more CPU time for it."""
    def progress(event: dict) -> None:
        if "ocr" in event and "done" not in event:
            _set_cpu_limit(int(limits.timeout_s + ocr_budget(event, ocr)) + 5)
        write_frame(out, json.dumps({"progress": event}).encode("utf-8"))
    return progress


def _set_cpu_limit(seconds: int) -> None:
    try:
        import resource
    except ImportError:
        return
    _set_soft_limit(resource, resource.RLIMIT_CPU, seconds)


def _set_soft_limit(resource, which: int, value: int) -> None:
    """The soft limit ``which`` set to ``value`` (at most the hard limit)."""
    try:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))
    except (ValueError, OSError):
        pass  # not supported here (macOS ignores RLIMIT_AS): the deadline still holds


def _child_setup(limits: Limits) -> None:
    # Keep the protocol streams away from anything the parser might print or read.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    if _protocol_fd is not None:
        os.close(_protocol_fd)
    try:
        import resource
    except ImportError:
        return
    memory = int(limits.memory_mb * 1024 * 1024)
    cpu = int(limits.timeout_s) + 5  # a backstop: wall time is the real limit
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu)):
        _set_soft_limit(resource, which, value)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _error(reason: str) -> bytes:
    return json.dumps({"error": reason}, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------- the loop
_protocol_fd: int | None = None


def main() -> None:
    global _protocol_fd
    requests = sys.stdin.buffer
    # Replies go to a private copy of stdout; fd 1 itself becomes /dev/null, so
    # a stray print from a library cannot corrupt the protocol.
    _protocol_fd = os.dup(1)
    replies = os.fdopen(_protocol_fd, "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    preload()
    write_frame(replies, b'{"ready": true}')
    while True:
        frame = read_frame(requests)
        if frame is None:
            return
        try:
            reply = handle(json.loads(frame), lambda f: write_frame(replies, f))
        except Exception as exc:  # a bug here must not kill the worker
            reply = _error(f"could not be parsed: internal error in the reader ({type(exc).__name__}: {exc})")
        write_frame(replies, reply)
