"""OCR of page images with Tesseract: the page's words with their boxes and confidences.

Runs inside the parsing worker's child process (see _worker.py). Tesseract
(Apache-2.0; Debian's ``tesseract-ocr``, which the README's set-up installs)
is a separate program: each page is one ``tesseract`` process reading a
grayscale image from a temporary file and writing TSV (one row per word: its
block, paragraph, line, box and confidence). A process per page gives the
per-page ceiling for free (it is killed at ``page_timeout_s``) and runs pages
side by side on the machine's cores, one thread each: Tesseract's own OpenMP
threads made a page 7x slower on this 2-core machine, not faster.

Why Tesseract and not RapidOCR (PP-OCRv4 on ONNX Runtime, whose 1.4 wheel
carries its models): on the same 300-dpi pages it was several times faster
per page, kept the spaces between English words (RapidOCR's Chinese-English
recognition model runs them together: "andisusedfor"), needs about 80 MB
where RapidOCR peaked near 2 GB of address space (the worker's ceiling is
1 GB), and gives word boxes, not line boxes (bench/ocr.py has the figures).

The words come back in points in the rendered page's frame (y down from its
top edge), so the layout analysis of qa/readers/layout.py reads a scanned
page exactly as it reads a text page: columns, paragraphs, tables, running
headers. A page scanned a few degrees askew is straightened first (the
median slope of Tesseract's own lines), since rows are found by vertical
overlap; a page scanned sideways or upside down (very low confidence) is
turned the way Tesseract's orientation check says and read again.

Stdlib only at import: PIL is imported when a page is rendered.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace

from .layout import Word
from .ocr_cache import OcrCache, PageReading

TESSERACT = "tesseract"
INSTALL_HINT = "install Tesseract (Debian/Ubuntu: `sudo apt-get install tesseract-ocr`; the README's set-up does it)"
# Below this mean word confidence a page's OCR is asked again with the orientation check.
TURN_BELOW = 0.6
NO_WORDS = "OCR found no words on it, though it is not blank (a picture, or a scan too faint or blurred to read)"
# A page image with more than this share of pixels darker than its paper has something on it.
INKED = 0.001
# The smallest skew (radians) worth undoing.
MIN_SKEW = math.radians(0.3)
_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_ORIENT_CONF = re.compile(r"Orientation confidence:\s*([\d.]+)")


@dataclass(frozen=True)
class OcrOptions:
    """How pages are OCR'd: when (``mode``), in which languages, at what resolution, within what time."""

    mode: str = "auto"  # "auto": pages without a usable text layer; "force": every page; "off": none
    languages: str = "eng"  # Tesseract's language codes joined by "+": "eng+deu"
    dpi: int = 300
    page_timeout_s: float = 60.0  # one page's OCR; past it the page is skipped with a warning
    document_timeout_s: float = 900.0  # all OCR of one document; past it the rest of its pages are skipped
    min_confidence: float = 0.5  # a page whose mean word confidence is lower is reported and left out
    cache_dir: str = ""  # where what OCR read is kept by file content (qa/readers/ocr_cache.py); "": nowhere
    cache_mb: float = 500.0  # the most that folder holds
    max_pixels: int = 60_000_000  # a page rendered bigger than this is rendered at a lower resolution
    parallel: int = 0  # pages OCR'd at once; 0: one per CPU core

    def workers(self) -> int:
        return self.parallel or max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class OcrWord:
    """One word as Tesseract gives it: pixels of the image it read, confidence 0-1."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    confidence: float
    line: tuple[int, int, int]  # (block, paragraph, line) numbers: Tesseract's own grouping


@dataclass(frozen=True)
class OcrPage:
    """A page's OCR: its words in points (upright frame), and what the report says of it."""

    words: tuple[Word, ...]
    width: float
    height: float
    confidence: float  # mean of the words' confidences, weighted by their length (0-1; 0 without words)
    turned: int = 0  # degrees the page image was turned (clockwise) before it read upright
    error: str = ""  # why the page could not be OCR'd ("" when it was)


def engine() -> str | None:
    """The path of the Tesseract program, or None where it is not installed."""
    return shutil.which(TESSERACT)


def version() -> str:
    """Tesseract's version ("tesseract 5.3.0"), or "" where it cannot be run."""
    path = engine()
    if path is None:
        return ""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, env=_env())
    except (OSError, subprocess.SubprocessError):
        return ""
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0].strip() if text else ""


def missing_languages(languages: str) -> list[str]:
    """Those of ``languages`` ("eng+deu") that the installed Tesseract has no model for."""
    path = engine()
    if path is None:
        return languages.split("+")
    try:
        out = subprocess.run([path, "--list-langs"], capture_output=True, text=True, timeout=10, env=_env())
    except (OSError, subprocess.SubprocessError):
        return []
    have = {line.strip() for line in out.stdout.splitlines()[1:]}
    return [lang for lang in languages.split("+") if lang and lang not in have]


def _popen(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=_env(), text=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def _die_with_parent() -> None:
    """In the Tesseract process before it starts (Linux): killed when the parse that started it is
    (the worker kills a parse past its deadline with SIGKILL, which it cannot pass on)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except Exception:
        pass


def _env() -> dict:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"  # see the module docstring
    return env


# ---------------------------------------------------------------- pure: TSV to words
def parse_tsv(tsv: str) -> list[OcrWord]:
    """Tesseract's TSV (level 5 rows: words) as words, in its reading order."""
    out = []
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        try:
            conf = float(cols[10])
            left, top, width, height = (int(c) for c in cols[6:10])
            key = (int(cols[2]), int(cols[3]), int(cols[4]))
        except ValueError:
            continue
        if not text or conf < 0:
            continue
        out.append(OcrWord(text, left, top, left + width, top + height, conf / 100.0, key))
    return out


def mean_confidence(words) -> float:
    """The words' mean confidence, each weighted by its length (a stray "|" counts little)."""
    total = sum(len(w.text) for w in words)
    return sum(w.confidence * len(w.text) for w in words) / total if total else 0.0


def skew(words) -> float:
    """The page's skew in radians (positive: lines fall to the right), from Tesseract's lines.

    The median over lines of three or more words of the slope between the
    first and the last word's bottom; 0 when fewer than three lines say.
    """
    lines: dict[tuple, list[OcrWord]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    slopes = []
    for ws in lines.values():
        if len(ws) < 3:
            continue
        a, b = ws[0], ws[-1]
        run = (b.x0 + b.x1) / 2 - (a.x0 + a.x1) / 2
        if run > 5 * max(a.bottom - a.top, 1):
            slopes.append(math.atan2(b.bottom - a.bottom, run))
    if len(slopes) < 3:
        return 0.0
    slopes.sort()
    return slopes[len(slopes) // 2]


def to_words(words, scale: float, angle: float = 0.0, centre=(0.0, 0.0)) -> tuple[Word, ...]:
    """OCR words as layout words in points (``scale``: points per pixel), turned by ``-angle``
    about ``centre`` (pixels) so that a skewed page's lines lie level.

    Each box keeps its width and moves with its centre: the words of one line
    share a row again, which is all the layout analysis asks of them. Its
    height becomes its line's (top of the tallest letter to the foot of the
    lowest, at least its paragraph's usual line height), as a text layer's
    boxes are: Tesseract's boxes are tight around the ink, so "on" would be
    half as tall as "The", and the layout, which measures gaps in text
    heights, would take each space for a gutter.
    """
    cos, sin = math.cos(-angle), math.sin(-angle)
    cx, cy = centre
    placed = []
    for w in words:
        mx, my = (w.x0 + w.x1) / 2 - cx, (w.top + w.bottom) / 2 - cy
        nx, ny = cx + mx * cos - my * sin, cy + mx * sin + my * cos
        hw, hh = (w.x1 - w.x0) / 2, (w.bottom - w.top) / 2
        placed.append((w, nx - hw, ny - hh, nx + hw, ny + hh))
    extent: dict[tuple, tuple[float, float]] = {}
    for w, _, top, _, bottom in placed:
        t, b = extent.get(w.line, (top, bottom))
        extent[w.line] = (min(t, top), max(b, bottom))
    # A line without tall letters ("programs.") is shorter than its neighbours, and the layout would
    # start a new block at it: a line is made at least as tall as its paragraph's median line.
    heights: dict[tuple, list[float]] = {}
    for key, (t, b) in extent.items():
        heights.setdefault(key[:2], []).append(b - t)
    for key, (t, b) in extent.items():
        hs = sorted(heights[key[:2]])
        extent[key] = (min(t, b - hs[len(hs) // 2]), b)
    out = []
    for order, (w, x0, _, x1, _) in enumerate(placed):
        top, bottom = extent[w.line]
        out.append(Word(w.text, x0 * scale, top * scale, x1 * scale, bottom * scale, order, False, False, order))
    return tuple(out)


def page_from(words: list[OcrWord], width_px: int, height_px: int, scale: float, turned: int = 0) -> OcrPage:
    """The OcrPage of one image's words: straightened, in points."""
    angle = skew(words)
    if abs(angle) < MIN_SKEW:
        angle = 0.0
    laid = to_words(words, scale, angle, (width_px / 2, height_px / 2))
    return OcrPage(laid, width_px * scale, height_px * scale, mean_confidence(words), turned)


# ---------------------------------------------------------------- running Tesseract
class Job:
    """One image being OCR'd by one Tesseract process (started at once, read with :meth:`result`)."""

    def __init__(self, image, options: OcrOptions, scale: float, folder: str, key: str):
        self.image, self.options, self.scale = image, options, scale
        self.path = os.path.join(folder, f"{key}.pgm")
        image.save(self.path, format="PPM")  # grayscale: a PGM, read by Tesseract without decoding
        self.started = time.monotonic()
        self.proc = self._start(self.path)

    def _start(self, path: str, extra=()):
        return _popen([engine() or TESSERACT, path, "stdout", "-l", self.options.languages, "--dpi",
                       str(round(self.options.dpi)), *extra, "tsv"])

    def _wait(self, proc, until: float) -> tuple[str, str]:
        try:
            out, err = proc.communicate(timeout=max(0.01, until - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        if proc.returncode != 0:
            raise OSError((err or "").strip().splitlines()[-1] if (err or "").strip() else f"exit {proc.returncode}")
        return out, err

    def result(self) -> OcrPage:
        """The page as read; ``self.reading`` then holds what the cache keeps of it (None after a failure)."""
        until = self.started + self.options.page_timeout_s
        w, h = self.image.size
        self.reading = None
        try:
            out, _ = self._wait(self.proc, until)
            words = parse_tsv(out)
            page = page_from(words, w, h, self.scale)
            self.reading = PageReading(out, w, h, self.scale)
            if page.confidence < TURN_BELOW:
                page = self._turned(page, until) or page
            if not page.words and inked(self.image):
                self.reading.error = NO_WORDS
                return replace(page, error=NO_WORDS)
            return page
        except subprocess.TimeoutExpired:
            return OcrPage((), w * self.scale, h * self.scale, 0.0,
                           error=f"OCR took longer than {self.options.page_timeout_s:g} s")
        except OSError as exc:
            return OcrPage((), w * self.scale, h * self.scale, 0.0, error=f"OCR failed ({str(exc)[:160]})")
        finally:
            self.cleanup()

    def _turned(self, first: OcrPage, until: float) -> OcrPage | None:
        """The page read again turned upright, when the orientation check is sure it was not."""
        proc = _popen([engine() or TESSERACT, self.path, "stdout", "--psm", "0"])
        try:
            out, err = self._wait(proc, until)
        except (OSError, subprocess.TimeoutExpired):
            return None  # too little text to tell, or no time left: the first reading stands
        text = out + err
        turn, conf = _ROTATE.search(text), _ORIENT_CONF.search(text)
        if not turn or int(turn.group(1)) % 360 == 0 or not conf or float(conf.group(1)) < 2.0:
            return None
        degrees = int(turn.group(1)) % 360
        upright = self.image.rotate(-degrees, expand=True)
        upright.save(self.path, format="PPM")
        try:
            out, _ = self._wait(self._start(self.path), until)
        except (OSError, subprocess.TimeoutExpired):
            return None
        w, h = upright.size
        page = page_from(parse_tsv(out), w, h, self.scale, degrees)
        if page.confidence <= first.confidence:
            return None
        self.reading = PageReading(out, w, h, self.scale, degrees)
        return page

    def cleanup(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass


def inked(image) -> bool:
    """Whether a grayscale page image has marks on it: more than ``INKED`` of its pixels clearly
    darker than its paper (the median), so a faint scan counts and paper grain does not."""
    hist = image.histogram()[:256]
    total = sum(hist) or 1
    seen, paper = 0, 255
    for value, count in enumerate(hist):
        seen += count
        if seen * 2 >= total:
            paper = value
            break
    return sum(hist[:max(0, paper - 12)]) > INKED * total


def scale_for(width_pt: float, height_pt: float, options: OcrOptions) -> float:
    """Pixels per point to render a page at: ``options.dpi``, lower for a page too big to render so."""
    scale = options.dpi / 72.0
    area = max(width_pt * height_pt, 1.0) * scale * scale
    if area > options.max_pixels:
        scale *= math.sqrt(options.max_pixels / area)
    return scale


def open_cache(data: bytes, options: OcrOptions) -> OcrCache | None:
    """The cache of what OCR read on the pages of the file ``data`` (None where none is kept)."""
    if not options.cache_dir or options.cache_mb <= 0:
        return None
    return OcrCache.open(options.cache_dir, data, options.dpi, options.languages, version(), options.cache_mb)


def from_reading(r: PageReading) -> OcrPage:
    """The OcrPage of a page read before (qa/readers/ocr_cache.py)."""
    page = page_from(parse_tsv(r.tsv), r.width, r.height, r.scale, r.turned)
    return replace(page, error=r.error) if r.error else page


def ocr_pages(render, numbers, options: OcrOptions, progress=None, cache: OcrCache | None = None):
    """(number, OcrPage) for each page of ``numbers``, in order.

    ``render(number)`` -> (PIL grayscale image, points per pixel). Up to
    ``options.workers()`` pages are OCR'd at once. When the document's OCR
    time runs out, the remaining pages come back with an error, unread.
    ``progress(done, total)`` is called after each page. A page ``cache``
    holds is not OCR'd again; the pages read are added to it (saved by the caller).
    """
    numbers = list(numbers)
    if cache is not None and all(cache.get(n) is not None for n in numbers):
        for done, number in enumerate(numbers, start=1):
            if progress is not None:
                progress(done, len(numbers))
            yield number, from_reading(cache.get(number))
        return
    missing = missing_languages(options.languages)
    if missing:
        why = (f"OCR needs Tesseract's model for {' and '.join(missing)}, which is not installed (Debian: "
               f"apt-get install {' '.join('tesseract-ocr-' + m.lower().replace('_', '-') for m in missing)}; "
               "or change QA_OCR_LANGUAGES)")
        for number in numbers:
            yield number, OcrPage((), 0.0, 0.0, 0.0, error=why)
        return
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="docqa-ocr-") as folder:
        running: list[tuple[int, Job]] = []
        todo = list(reversed(numbers))
        done = 0
        while todo or running:
            while todo and len(running) < options.workers():
                if time.monotonic() - started > options.document_timeout_s:
                    break
                number = todo.pop()
                known = cache.get(number) if cache is not None else None
                if known is not None:
                    running.append((number, known))
                    continue
                image, per_px = render(number)
                running.append((number, Job(image, options, per_px, folder, str(number))))
            if not running:  # out of time: the rest stay unread
                for number in reversed(todo):
                    yield number, _late(options)
                return
            number, job = running.pop(0)
            if isinstance(job, PageReading):
                page = from_reading(job)
            else:
                page = job.result()
                if cache is not None and job.reading is not None:
                    cache.put(number, job.reading)
            done += 1
            if progress is not None:
                progress(done, len(numbers))
            yield number, page


def _late(options: OcrOptions) -> OcrPage:
    return OcrPage((), 0.0, 0.0, 0.0, error=f"not OCR'd: the document's OCR time ceiling "
                                             f"({options.document_timeout_s:g} s) was reached")
