"""Reading files into :class:`Document` objects: formats, encodings, refusals.

Every refusal is a :class:`DocumentError` naming the file and the reason, raised
before anything is written, so a bad file never changes the index. The readers
themselves, one per format, and the limits they work under are in
:mod:`qa.readers`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from . import readers
from .errors import DocumentError
from .readers.text import TEXT_SUFFIXES, decode, markdown_headings, title_from  # public here too
from .types import Document

SUPPORTED_SUFFIXES = frozenset(readers.FORMATS)

__all__ = [
    "SUPPORTED_SUFFIXES", "TEXT_SUFFIXES", "decode", "make_document", "markdown_headings",
    "read_document", "text_hash", "title_from",
]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_document(path: Path, doc_id: str, max_bytes: int, ocr: readers.OcrOptions | None = None,
                  progress=None) -> Document:
    """Read one file of a supported format into a :class:`Document`.

    Text and Markdown are read here; PDF, HTML, DOCX and images in the reader
    worker process, under the limits of :mod:`qa.readers`; pages without a
    text layer by OCR as ``ocr`` says. ``progress(event)``: each OCR'd page
    (qa/readers/_worker.py).
    """
    source = doc_id
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            source,
            f"unsupported format {suffix or '(no extension)'!r}; supported: "
            + ", ".join(sorted(SUPPORTED_SUFFIXES)),
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(source, f"cannot be read ({exc.strerror or exc})", lasting=False) from exc
    if size > max_bytes:
        raise DocumentError(
            source, f"is {size / 1e6:.1f} MB, above the {max_bytes / 1e6:.1f} MB limit (QA_MAX_FILE_MB)"
        )
    fmt, parsed = readers.read(path, source, ocr, progress)
    doc = make_document(parsed.text, doc_id, parsed.title, title_from_name=path.name, source=source)
    return dataclasses.replace(
        doc, format=fmt, pages=parsed.pages, headings=parsed.headings, warnings=parsed.warnings,
        tables=parsed.tables, paragraphs=() if parsed.pages else parsed.paragraphs, ocr_pages=parsed.ocr_pages,
    )


def make_document(text: str, doc_id: str, title: str | None = None, *, title_from_name: str | None = None, source: str = "") -> Document:
    """A :class:`Document` from text, refusing text with nothing to index."""
    if not isinstance(text, str):
        raise DocumentError(source or doc_id, f"text must be a string, not {type(text).__name__}")
    if not text.strip():
        raise DocumentError(source or doc_id, "is empty: it has no text to index")
    if title is None:
        title = title_from(text, title_from_name or doc_id)
    return Document(doc_id=doc_id, title=title, text=text, source=source, sha256=text_hash(text))
