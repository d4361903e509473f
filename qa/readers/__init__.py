"""Readers, one module per format, and the limits every parse works under.

``read(path, source)`` picks the reader by the file's suffix. Plain text and
Markdown are read in this process (the file-size limit bounds the work). PDF,
HTML and DOCX are parsed in a separate worker process (_client.py,
_worker.py), under a wall-clock ceiling and a memory ceiling, so a hostile or
broken file costs at most that much and never takes the app down with it.

The limits are module constants, read at each call (tests patch them):
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DocumentError
from ._base import Limits, Parsed
from .ocr import OcrOptions
from .text import MARKDOWN_SUFFIXES, TEXT_SUFFIXES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")

# Seconds one PDF/HTML/DOCX parse may take before it is killed and the file skipped.
PARSE_TIMEOUT_S = 60.0
# Address space one parse may use (RLIMIT_AS; Linux and other POSIX systems).
PARSE_MEMORY_MB = 1024
# Pages of a PDF: more is refused (a page tree can claim billions in a few bytes).
MAX_PAGES = 5000
# Characters of text kept from one PDF/HTML/DOCX; the rest is cut, with a warning.
MAX_CHARS = 20_000_000
# OCR (pages without a text layer, image files): one page's ceiling, and all pages of one document's.
OCR_PAGE_TIMEOUT_S = 60.0
OCR_DOCUMENT_TIMEOUT_S = 900.0
# A .docx is a zip: refused when its parts declare more than this unpacked ...
ZIP_MAX_BYTES = 200_000_000
# ... or one part (over 1 MB) unpacks to more than this many times its packed size ...
ZIP_MAX_RATIO = 100.0
# ... or it holds more files than this.
ZIP_MAX_MEMBERS = 10_000

FORMATS: dict[str, str] = {
    **{s: "text" for s in TEXT_SUFFIXES},
    **{s: "markdown" for s in MARKDOWN_SUFFIXES},
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    **{s: "image" for s in IMAGE_SUFFIXES},
}
ISOLATED = frozenset({"pdf", "html", "docx", "image"})


def limits() -> Limits:
    """The limits in force now (the module constants)."""
    return Limits(
        timeout_s=float(PARSE_TIMEOUT_S),
        memory_mb=int(PARSE_MEMORY_MB),
        max_pages=int(MAX_PAGES),
        max_chars=int(MAX_CHARS),
        zip_max_bytes=int(ZIP_MAX_BYTES),
        zip_max_ratio=float(ZIP_MAX_RATIO),
        zip_max_members=int(ZIP_MAX_MEMBERS),
    )


def format_of(path: Path) -> str | None:
    """"pdf", "html", "docx", "markdown" or "text" by suffix; None when unsupported."""
    return FORMATS.get(path.suffix.lower())


def ocr_options(mode: str = "auto", languages: str = "eng", cache_dir: str | Path = "",
                cache_mb: float = 500.0) -> OcrOptions:
    """OCR as the settings ask (``mode``, ``languages``, where its readings are kept), under the
    ceilings in force now."""
    return OcrOptions(mode=mode, languages=languages, page_timeout_s=float(OCR_PAGE_TIMEOUT_S),
                      document_timeout_s=float(OCR_DOCUMENT_TIMEOUT_S), cache_dir=str(cache_dir or ""),
                      cache_mb=float(cache_mb))


def read(path: Path, source: str, ocr: OcrOptions | None = None, progress=None) -> tuple[str, Parsed]:
    """(format, parsed file). Size limits are the caller's; every refusal is a :class:`DocumentError`.

    ``ocr``: when and how pages are OCR'd (default: :func:`ocr_options`);
    ``progress(event)`` hears of each OCR'd page (see _worker.py).
    """
    fmt = format_of(path)
    if fmt is None:
        raise DocumentError(source, f"unsupported format {path.suffix or '(no extension)'!r}")
    if fmt in ISOLATED:
        from ._client import parse_isolated

        return fmt, parse_isolated(fmt, path, source, limits(), ocr or ocr_options(), progress)
    from . import text

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(source, f"cannot be read ({exc.strerror or exc})", lasting=False) from exc
    return fmt, text.parse(data, source, markdown=fmt == "markdown")
