"""Plain text and Markdown: bytes decoded, line endings made one, headings found.

Runs in-process: the file-size limit bounds the work, and nothing here can
blow up (no decompression, no parser with recursion).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from ..errors import DocumentError
from ._base import Parsed

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".rst", ".csv", ".log"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# Control characters other than tab, newline, carriage return and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_NONSPACE = re.compile(r"\S")


def decode(data: bytes, source: str) -> str:
    """Bytes to text: a BOM decides; else UTF-8; else BOM-less UTF-16; else Windows-1252/Latin-1.

    Raises :class:`DocumentError` for data that is binary rather than text.
    """
    text = bom_decode(data, source)
    if text is None:
        text = _decode_without_bom(data)
    if text is None or _looks_binary(text):
        raise DocumentError(source, "is binary, not text (convert it to text, Markdown or a supported format)")
    # One newline convention, so line numbers and offsets mean one thing.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def bom_decode(data: bytes, source: str) -> str | None:
    """The text after a byte-order mark, or None when ``data`` has none."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise DocumentError(source, f"starts with a {encoding} byte-order mark but is not valid {encoding}")
    return None


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
    """A Markdown document's first heading (in its first 5000 characters),
    else the file name made readable."""
    if Path(file_name).suffix.lower() in MARKDOWN_SUFFIXES:
        head, pos = text[:5000], 0
        while pos >= 0:
            heading = _heading_at(head, pos)
            if heading is not None:
                return heading.strip()
            pos = head.find("\n", pos)
            pos = pos + 1 if pos >= 0 else -1
    stem = Path(file_name).stem
    words = re.sub(r"[_\-.]+", " ", stem).strip()
    return (words[:1].upper() + words[1:]) if words else file_name


def markdown_headings(text: str) -> tuple[tuple[int, str], ...]:
    """(offset, heading text) of each ATX heading (``# Title``), outside code fences."""
    out, fenced, pos = [], False, 0
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            heading = _heading_at(line, 0)
            if heading is not None:
                out.append((pos, heading.strip()))
        pos += len(line) + 1
    return tuple(out)


def _heading_at(text: str, pos: int) -> str | None:
    r"""What ``re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)`` would
    capture matching at the line start ``pos``, or None where it fails.

    That regex is the definition; this is it in linear time. Run as a regex,
    the lazy group retries the trailing ``#*`` at every character, quadratic
    in a line of hashes. The steps, in the regex's own order of preference:
    up to three spaces, then one to six ``#`` and a space; the group starts
    after all the spaces that follow (they may cross lines, as ``\s`` does)
    and ends where the rest of its line is only spaces, ``#`` and spaces.
    """
    n = len(text)
    first = _NONSPACE.search(text, pos, min(n, pos + 4))
    if first is None or text[first.start()] != "#":
        return None
    hashes = first.start()
    after = hashes
    while after < n and after - hashes <= 6 and text[after] == "#":
        after += 1
    if after - hashes > 6 or after >= n or not text[after].isspace():
        return None
    body = _NONSPACE.search(text, after)
    if body is not None:
        line_end = text.find("\n", body.start())
        line = text[body.start() : n if line_end < 0 else line_end]
        return line[: max(1, len(line.rstrip().rstrip("#").rstrip()))]
    # Only spaces to the end: the spaces before the group give back characters
    # (keeping one), and the group is the last of them that is not a newline.
    for g in range(n - 1, after, -1):
        if text[g] != "\n":
            return text[g]
    return None


def parse(data: bytes, name: str, markdown: bool = False) -> Parsed:
    """Text or Markdown bytes to :class:`Parsed` (title left to the caller); Markdown's pipe
    tables become tables (qa/readers/markdown_tables.py)."""
    text = decode(data, name)
    if not markdown:
        return Parsed(text=text)
    from .markdown_tables import markdown_tables

    text, tables = markdown_tables(text)
    return Parsed(text=text, headings=markdown_headings(text), tables=tables)
