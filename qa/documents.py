"""Reading files into :class:`Document` objects: formats, encodings, refusals.

Every refusal is a :class:`DocumentError` naming the file and the reason, raised
before anything is written, so a bad file never changes the index.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import re
import unicodedata
from pathlib import Path

from .errors import DocumentError
from .types import Document

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".rst", ".csv", ".log"}
SUPPORTED_SUFFIXES = frozenset(TEXT_SUFFIXES)

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# Control characters other than tab, newline, carriage return and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode(data: bytes, source: str) -> str:
    """Bytes to text: a BOM decides; else UTF-8; else BOM-less UTF-16; else Windows-1252/Latin-1.

    Raises :class:`DocumentError` for data that is binary rather than text.
    """
    text = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise DocumentError(source, f"starts with a {encoding} byte-order mark but is not valid {encoding}")
            break
    if text is None:
        text = _decode_without_bom(data)
    if text is None or _looks_binary(text):
        raise DocumentError(source, "is binary, not text (convert it to text, Markdown or a supported format)")
    # One newline convention, so line numbers and offsets mean one thing.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_without_bom(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # UTF-16 without a BOM shows as NUL in every other byte of ASCII text.
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(0) > len(sample) // 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        encoding = "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            return None
    if b"\x00" in sample:
        return None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    bad = len(_CONTROL.findall(sample))
    bad += sum(1 for ch in sample if unicodedata.category(ch) in ("Co", "Cn", "Cs"))
    return bad > max(2, len(sample) // 100)


def title_from(text: str, file_name: str) -> str:
    """A Markdown document's first heading, else the file name made readable."""
    m = _MD_HEADING.search(text[:5000])
    if m and Path(file_name).suffix.lower() in (".md", ".markdown"):
        return m.group(1).strip()
    stem = Path(file_name).stem
    words = re.sub(r"[_\-.]+", " ", stem).strip()
    return (words[:1].upper() + words[1:]) if words else file_name


def read_document(path: Path, doc_id: str, max_bytes: int) -> Document:
    """Read one file of a supported format into a :class:`Document`."""
    source = doc_id
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            source,
            f"unsupported format {suffix or '(no extension)'!r}; supported: "
            + ", ".join(sorted(SUPPORTED_SUFFIXES)),
        )
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                source, f"is {size / 1e6:.1f} MB, above the {max_bytes / 1e6:.1f} MB limit (QA_MAX_FILE_MB)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(source, f"cannot be read ({exc.strerror or exc})") from exc
    text = decode(data, source)
    doc = make_document(text, doc_id, title_from_name=path.name, source=source)
    if suffix in (".md", ".markdown"):
        doc = dataclasses.replace(doc, format="markdown", headings=markdown_headings(text))
    return doc


def markdown_headings(text: str) -> tuple[tuple[int, str], ...]:
    """(offset, heading text) of each ATX heading (``# Title``), outside code fences."""
    out, fenced, pos = [], False, 0
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            m = _MD_HEADING.match(line)
            if m:
                out.append((pos, m.group(1).strip()))
        pos += len(line) + 1
    return tuple(out)


def make_document(text: str, doc_id: str, title: str | None = None, *, title_from_name: str | None = None, source: str = "") -> Document:
    """A :class:`Document` from text, refusing text with nothing to index."""
    if not isinstance(text, str):
        raise DocumentError(source or doc_id, f"text must be a string, not {type(text).__name__}")
    if not text.strip():
        raise DocumentError(source or doc_id, "is empty: it has no text to index")
    if title is None:
        title = title_from(text, title_from_name or doc_id)
    return Document(doc_id=doc_id, title=title, text=text, source=source, sha256=text_hash(text))
