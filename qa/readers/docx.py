"""DOCX: paragraphs and tables in body order (python-docx), headings, the title.

The archive is checked before python-docx opens it: a .docx is a zip, and a
small zip can unpack to gigabytes (a zip bomb). Its declared sizes are checked
against the limits; Python's zipfile never inflates a member past its
declared size, so the declaration is what counts. python-docx parses the XML
with entity resolution off, so XML entity bombs and external entities do nothing.
"""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from ..errors import DocumentError
from ._base import Limits, Parsed, clean_text, one_line, truncate

_HEADING_STYLE = re.compile(r"(?i)^(heading\s*[1-9]|title)$")
# Small members (styles, settings) can compress far better than 100:1 legitimately.
_RATIO_FLOOR = 1_000_000


def parse(data: bytes, name: str, limits: Limits) -> Parsed:
    check_zip(data, name, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises ValueError, KeyError, PackageNotFoundError, lxml errors
        raise DocumentError(name, f"is damaged or not a Word document ({type(exc).__name__}: {str(exc)[:200]})")

    blocks: list[tuple[str, bool]] = []  # (text, is_heading)
    warnings: list[str] = []
    title = None
    for block in _blocks(document.element.body, document):
        if isinstance(block, Paragraph):
            text = clean_text(paragraph_text(block._p)).strip()
            if not text:
                continue
            style = _style_name(block)
            heading = bool(_HEADING_STYLE.match(style))
            if heading and style.lower() == "title" and title is None:
                title = one_line(text)
            blocks.append((text, heading))
        else:
            try:
                rows = _table_rows(block)
            except Exception as exc:
                warnings.append(f"a table could not be read ({type(exc).__name__})")
                continue
            if rows:
                blocks.append(("\n".join(rows), False))

    parts, headings, pos = [], [], 0
    for text, heading in blocks:
        if heading:
            headings.append((pos, one_line(text)))
        parts.append(text)
        pos += len(text) + 2
    text = "\n\n".join(parts)
    text, cut = truncate(text, limits.max_chars)
    if cut:
        headings = [(o, h) for o, h in headings if o < len(text)]
        warnings.append(f"only the first {limits.max_chars:,} characters were read; the rest is not indexed")
    core = _core_title(document)
    return Parsed(text=text, title=core or title, headings=tuple(headings), warnings=tuple(warnings))


def check_zip(data: bytes, name: str, limits: Limits) -> None:
    """Refuse what is not a zip, and zips that would unpack to too much."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise DocumentError(
            name,
            "is not a Word .docx file (it is not a zip archive; an old .doc or another file renamed?): "
            "open it in Word or LibreOffice and save it as .docx",
        )
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.zip_max_members:
            raise DocumentError(name, f"holds {len(infos):,} files, above the limit of {limits.zip_max_members:,}")
        total = sum(i.file_size for i in infos)
        if total > limits.zip_max_bytes:
            raise DocumentError(
                name,
                f"would unpack to {total / 1e6:,.0f} MB, above the {limits.zip_max_bytes / 1e6:,.0f} MB limit "
                "(a zip bomb?)",
            )
        for i in infos:
            if i.file_size > _RATIO_FLOOR and i.file_size > limits.zip_max_ratio * max(1, i.compress_size):
                raise DocumentError(
                    name,
                    f"has a part ({i.filename}) that unpacks {i.file_size / max(1, i.compress_size):,.0f} times "
                    f"its packed size, above the {limits.zip_max_ratio:g}:1 limit (a zip bomb?)",
                )
        if "[Content_Types].xml" not in archive.namelist():
            raise DocumentError(name, "is a zip archive but not a Word document (it has no [Content_Types].xml)")


def _blocks(element, parent):
    """Paragraphs and tables in body order, looking inside content controls (w:sdt)."""
    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content, parent)


_P = qn("w:p")
_TEXT = {qn("w:t"): None, qn("w:tab"): "\t", qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-", qn("w:br"): "br"}
# Text under these is not the document's current text: deleted or moved-away
# revisions, the fallback copy of a drawing, text boxes (read on their own, if ever).
_SKIP = {
    qn("w:del"), qn("w:moveFrom"), qn("w:txbxContent"),
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
}


def paragraph_text(p) -> str:
    """A paragraph's current text: runs, hyperlinks, fields and tracked insertions
    included (python-docx's ``Paragraph.text`` drops insertions), deletions left out."""
    parts = []
    for el in p.iter(*_TEXT):
        parent, skip = el.getparent(), False
        while parent is not None and parent is not p:
            if parent.tag in _SKIP:
                skip = True
                break
            parent = parent.getparent()
        if skip:
            continue
        kind = _TEXT[el.tag]
        if kind is None:
            parts.append(el.text or "")
        elif kind == "br":
            if el.get(qn("w:type")) in (None, "textWrapping"):
                parts.append("\n")
        else:
            parts.append(kind)
    return "".join(parts)


def _style_name(paragraph: Paragraph) -> str:
    try:
        style = paragraph.style
        return (style.name or "") if style is not None else ""
    except Exception:
        return ""


def _table_rows(table: Table) -> list[str]:
    """One line per row, cells joined by " | "; a merged cell once per row."""
    rows = []
    for row in table.rows:
        cells, last = [], None
        for cell in row.cells:
            if last is not None and cell._tc is last:
                continue  # a cell spanning several grid columns
            last = cell._tc
            cells.append(one_line(" ".join(paragraph_text(p) for p in cell._tc.iter(_P)), limit=100_000))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _core_title(document) -> str | None:
    try:
        title = document.core_properties.title
    except Exception:
        return None
    return (one_line(title) or None) if isinstance(title, str) else None
