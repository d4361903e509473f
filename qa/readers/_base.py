"""What every reader returns, the limits it works under, and text clean-up.

Stdlib only: this module is imported by the parsing worker, which must start
fast and must not import numpy, FAISS or the model.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ..types import CELL_SEP, Table, TableRow  # noqa: F401 - the readers' tables are the documents' tables

# Control characters other than tab and newline: \f is reserved for page breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Limits:
    """The ceilings one parse works under (see qa/readers/__init__.py for the defaults)."""

    timeout_s: float
    memory_mb: int
    max_pages: int
    max_chars: int
    zip_max_bytes: int
    zip_max_ratio: float
    zip_max_members: int



@dataclass(frozen=True)
class Parsed:
    """A reader's result: the text and what it knows about its structure.

    ``pages``, ``headings``, ``paragraphs`` and ``tables`` hold character
    offsets into ``text``. ``paragraphs``: where each paragraph (or other
    block: list item, table) of the source starts, in order, for citations
    of formats without pages. ``garbled_pages``: 1-based pages whose text
    layer looked like noise (to be read by OCR instead). ``anchors``:
    (offset, fragment id) of headings whose source names them (HTML ``id``),
    so a citation can link to ``page.html#id``. ``ocr_pages``: (1-based page,
    mean word confidence 0-1) of each page whose text OCR gave.
    """

    text: str
    title: str | None = None
    pages: tuple[int, ...] = ()
    headings: tuple[tuple[int, str], ...] = ()
    warnings: tuple[str, ...] = ()
    paragraphs: tuple[int, ...] = ()
    tables: tuple[Table, ...] = ()
    garbled_pages: tuple[int, ...] = ()
    anchors: tuple[tuple[int, str], ...] = ()
    ocr_pages: tuple[tuple[int, float], ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Parsed":
        return cls(
            text=str(d["text"]),
            title=d.get("title") or None,
            pages=tuple(int(p) for p in d.get("pages", ())),
            headings=tuple((int(o), str(h)) for o, h in d.get("headings", ())),
            warnings=tuple(str(w) for w in d.get("warnings", ())),
            paragraphs=tuple(int(p) for p in d.get("paragraphs", ())),
            tables=tuple(_table_from_dict(t) for t in d.get("tables", ())),
            garbled_pages=tuple(int(p) for p in d.get("garbled_pages", ())),
            anchors=tuple((int(o), str(a)) for o, a in d.get("anchors", ())),
            ocr_pages=tuple((int(p), float(c)) for p, c in d.get("ocr_pages", ())),
        )


def _table_from_dict(t: dict) -> Table:
    rows = tuple(
        TableRow(int(r["start"]), int(r["end"]), tuple((int(a), int(b)) for a, b in r["cells"])) for r in t["rows"]
    )
    page = t.get("page")
    return Table(int(t["start"]), int(t["end"]), rows, int(t.get("header_rows", 0)), str(t.get("caption", "")),
                 None if page is None else int(page))


def clean_text(text: str) -> str:
    """One newline convention, no control characters, no lone surrogates.

    Lone surrogates (from broken UTF-16 inside PDFs) cannot be written as
    UTF-8; they become U+FFFD.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def xml_limit(message: str) -> str | None:
    """What a libxml2 safety limit named in ``message`` means for the user; None for other errors.

    libxml2 refuses XML nested more than 256 deep and text nodes over 10 MB
    unless XML_PARSE_HUGE is set; its message advises setting it, which a
    user cannot do (and the limit protects the parse).
    """
    if "Excessive depth" in message:
        return "is nested too deeply (XML elements more than 256 levels deep)"
    if "XML_PARSE_HUGE" in message or "Text node too long" in message:
        return "holds a piece of text too long (over 10 MB in one XML text node)"
    return None


def one_line(text: str, limit: int = 200) -> str:
    """Whitespace collapsed to single spaces, cut to ``limit`` characters (for titles, headings)."""
    text = _SPACES.sub(" ", clean_text(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def truncate(text: str, max_chars: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_chars``, at a line break or space where one is near."""
    if len(text) <= max_chars:
        return text, False
    cut = max(text.rfind("\n", 0, max_chars), text.rfind(" ", 0, max_chars))
    if cut < max_chars - 1000:
        cut = max_chars
    return text[:cut].rstrip(), True
