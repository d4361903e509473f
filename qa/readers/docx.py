"""DOCX: the text as Word shows it, with headings, paragraphs, tables and the title.

The body is read in order: paragraphs, tables (one line per row, see
_tables.py) and text boxes (after the paragraph they are anchored in). Then,
as sections of their own after the body: footnotes, endnotes, headers and
footers (each distinct header or footer once, however many sections repeat
it). A footnote's number is written where it is referenced ("[1]") and before
the note. Comments are not read: they are about the document, not in it.

The archive is checked before python-docx opens it: a .docx is a zip, and a
small zip can unpack to gigabytes (a zip bomb). Its declared sizes are checked
against the limits; Python's zipfile never inflates a member past its
declared size, so the declaration is what counts. The XML is parsed with
python-docx's parser: entity resolution off, so XML entity bombs and external
entities do nothing, and libxml2's depth limit (256) in force.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.oxml.parser import parse_xml

from ..errors import DocumentError
from . import _tables
from ._base import Limits, Parsed, Table, clean_text, one_line, truncate, xml_limit
from ._titles import unused_title_note, usable_title

_HEADING_STYLE = re.compile(r"(?i)^(heading\s*[1-9]|title)$")
_TITLE_STYLE = re.compile(r"(?i)^title$")
_CAPTION_STYLE = re.compile(r"(?i)^caption$")
# Small members (styles, settings) can compress far better than 100:1 legitimately.
_RATIO_FLOOR = 1_000_000
# Fields whose shown text is a page count or number: layout, not content.
_PAGE_FIELDS = frozenset({"PAGE", "NUMPAGES", "SECTIONPAGES"})
# Headings of the sections written after the body.
NOTES_HEADINGS = {"footnote": "Footnotes", "endnote": "Endnotes"}
HEADERS_HEADING, FOOTERS_HEADING = "Headers", "Footers"

_W = {name: qn(f"w:{name}") for name in (
    "p", "tbl", "tr", "tc", "sdt", "sdtContent", "sdtPr", "showingPlcHdr", "customXml", "r", "t", "tab", "ptab",
    "cr", "br", "noBreakHyphen", "softHyphen", "fldChar", "instrText", "fldSimple", "footnoteReference",
    "endnoteReference", "txbxContent", "del", "moveFrom", "pPr", "rPr", "vanish", "pStyle", "outlineLvl",
    "tcPr", "gridSpan", "vMerge", "trPr", "tblHeader", "gridBefore", "footnote", "endnote", "sectPr",
    "headerReference", "footerReference", "sectPrChange", "style", "name", "basedOn", "customMarkFollows",
    "footnotePr", "endnotePr", "numFmt", "numStart", "rt", "instr",
)}
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_TBL_HEADER = f"{_W['trPr']}/{_W['tblHeader']}"
_GRID_BEFORE = f"{_W['trPr']}/{_W['gridBefore']}"
_GRID_SPAN = f"{_W['tcPr']}/{_W['gridSpan']}"
_V_MERGE = f"{_W['tcPr']}/{_W['vMerge']}"
_ANY_TABLE = f".//{_W['tbl']}"
_FLD_CHAR_TYPE = qn("w:fldCharType")
_VAL, _ID, _TYPE = qn("w:val"), qn("w:id"), qn("w:type")
_RID = qn("r:id")
# Subtrees with no current text: deleted or moved-away revisions, the fallback
# copy of a drawing, ruby annotations, and properties (which hold no text).
# Elements that stand for one character. Every break is a line break: a page
# or column break inside a paragraph still separates the words around it.
_CHARS = {_W["tab"]: "\t", _W["ptab"]: "\t", _W["br"]: "\n", _W["cr"]: "\n", _W["noBreakHyphen"]: "-"}
_SKIP = frozenset({_W["del"], _W["moveFrom"], _FALLBACK, _W["rt"], _W["pPr"], _W["rPr"], _W["sdtPr"], _W["tcPr"],
                   _W["trPr"]})


@dataclass(frozen=True)
class _Para:
    text: str
    heading: bool = False
    style: str = ""


@dataclass(frozen=True)
class _Tab:
    built: _tables.Built


def parse(data: bytes, name: str, limits: Limits) -> Parsed:
    check_zip(data, name, limits)
    document = _open(data, name)
    warnings: list[str] = []
    story = _Story(_style_names(document), _note_formats(document))
    body = list(story.blocks(document.element.body))
    tail = _notes(document, story, warnings) + _headers_footers(document, story, warnings)
    text, headings, paragraphs, tables = _assemble(body + tail)
    text, cut = truncate(text, limits.max_chars)
    if cut:
        headings = [(o, h) for o, h in headings if o < len(text)]
        paragraphs = [o for o in paragraphs if o < len(text)]
        tables = [t for t in tables if t.end <= len(text)]
        warnings.append(f"only the first {limits.max_chars:,} characters were read; the rest is not indexed")
    meta = _core_title(document)
    title = usable_title(meta, text, name) or _first_heading(body)
    note = unused_title_note(meta, title, name)
    if note:
        warnings.append(note)
    return Parsed(text=text, title=title, headings=tuple(headings), warnings=tuple(warnings),
                  paragraphs=tuple(paragraphs), tables=tuple(tables))


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


def _open(data: bytes, name: str):
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises ValueError, KeyError, PackageNotFoundError, lxml errors
        limit = xml_limit(str(exc))
        if limit:
            raise DocumentError(name, f"{limit} to read as Word .docx; skipped")
        raise DocumentError(name, f"is damaged or not a Word document ({type(exc).__name__}: {str(exc)[:200]})")


# ---------------------------------------------------------------- text of a story
class _Story:
    """Reads blocks and runs of the body, a header or a note: text as shown.

    Keeps what runs across paragraphs: fields open (a field's instruction is
    not shown, nor the page number a PAGE field shows) and the numbers given
    to footnotes and endnotes in order of first reference.
    """

    def __init__(self, styles: dict[str, tuple[str, bool]], formats: dict[str, tuple[str, int]]):
        self.styles = styles  # style id -> (name, is a heading by its outline level)
        self.formats = formats  # "footnote"/"endnote" -> (number format, first number)
        self.fields: list[list] = []  # open fields: [instruction parts, showing its result, its name]
        self.marks: dict[tuple[str, str], str] = {}  # (kind, note id) -> mark shown, e.g. "[1]"

    # -- blocks
    def blocks(self, container):
        """_Para and _Tab blocks of a body-like element in reading order."""
        for child in container.iterchildren():
            tag = child.tag
            if tag == _W["p"]:
                yield from self.paragraph(child)
            elif tag == _W["tbl"]:
                yield from self.table(child)
            elif tag == _W["sdt"]:
                content = child.find(_W["sdtContent"])
                if content is not None and not _placeholder(child):
                    yield from self.blocks(content)
            elif tag == _W["customXml"]:
                yield from self.blocks(child)

    def paragraph(self, p):
        text, boxes = self.runs(p)
        text = clean_text(text).strip()
        if text:
            name, outline = self._style(p)
            yield _Para(text, bool(_HEADING_STYLE.match(name)) or outline, name)
        for box in boxes:  # text boxes anchored here, after the paragraph's own text
            yield from self.blocks(box)

    def table(self, tbl):
        rows, header_rows, nested = self._grid(tbl)
        n_rows = len(rows)
        placed = [cell for row in rows for cell, _ in row]
        columns = max((len(row) for row in rows), default=0)
        longest = max((len(c.text) for c in placed), default=0)
        if _tables.is_layout(columns, longest, nested=nested):
            for row in rows:  # a box, or a table laying out others: its cells read as paragraphs
                for _, cell_blocks in row:
                    yield from cell_blocks
            return
        built = _tables.build(placed, n_rows, header_rows, first_row_header=True)
        for title in built.titles:
            yield _Para(title)
        if built.text:
            yield _Tab(built)

    def _grid(self, tbl):
        """Rows of (placed cell, the cell's blocks); header rows marked; whether a table is nested."""
        rows: list[list[tuple[_tables.Placed, list]]] = []
        header_rows, in_header, nested = 0, True, False
        owners: dict[int, int] = {}  # grid column where a cell starts -> its index in `spans`
        spans: list[list] = []  # [row, col, rowspan, colspan, text, plain, blocks] per cell
        for r, tr in enumerate(_rows(tbl)):
            marked = _on(tr.find(_TBL_HEADER))
            in_header = in_header and marked
            header_rows += in_header
            col = _int(tr.find(_GRID_BEFORE), 0)
            row_cells = []
            for tc in _cells(tr):
                colspan = max(1, min(_int(tc.find(_GRID_SPAN), 1), _tables.MAX_COLSPAN))
                merge = tc.find(_V_MERGE)
                if merge is not None and merge.get(_VAL, "continue") != "restart" and col in owners:
                    above = spans[owners[col]]
                    if above[0] + above[2] == r and above[3] == colspan:
                        above[2] += 1  # this cell continues the one above
                        col += colspan
                        continue
                blocks = list(self.blocks(tc))
                nested = nested or any(isinstance(b, _Tab) for b in blocks) or tc.find(_ANY_TABLE) is not None
                texts = [b.text if isinstance(b, _Para) else b.built.text.replace("\n", "; ") for b in blocks]
                cell = [r, col, 1, colspan, one_line(" ".join(texts), limit=1_000_000), len(texts) <= 1, blocks]
                owners[col] = len(spans)  # a vMerge continues the cell starting in its own column
                spans.append(cell)
                row_cells.append(cell)
                col += colspan
            rows.append(row_cells)
        placed_rows = [
            [(_tables.Placed(c[0], c[1], c[2], c[3], c[4], c[5]), c[6]) for c in row] for row in rows
        ]
        return placed_rows, header_rows, nested

    # -- runs
    def runs(self, p) -> tuple[str, list]:
        """A paragraph's shown text, and the text boxes anchored in it.

        Runs, hyperlinks, fields' results, content controls and tracked
        insertions are read (python-docx's ``Paragraph.text`` drops
        insertions); deletions, hidden runs and field instructions are not.
        """
        parts: list[str] = []
        boxes: list = []
        # (children, closes a simple field when done, hidden run): a hidden run's
        # field characters still count, or the fields after it would be misread.
        stack = [(iter(p), False, False)]
        while stack:
            children, closes, hidden = stack[-1]
            for el in children:
                tag = el.tag
                if not isinstance(tag, str) or tag in _SKIP:
                    continue
                if tag == _W["fldChar"]:
                    self._field_char(el.get(_FLD_CHAR_TYPE))
                elif tag == _W["instrText"]:
                    if self.fields and not self.fields[-1][1]:
                        self.fields[-1][0].append(el.text or "")
                elif hidden:
                    if tag == _W["r"] or len(el):
                        stack.append((iter(el), False, True))
                        break
                elif tag == _W["t"]:
                    if el.text and self._shown():
                        parts.append(el.text)
                elif tag == _W["r"]:
                    rpr = el.find(_W["rPr"])
                    stack.append((iter(el), False, rpr is not None and _on(rpr.find(_W["vanish"]))))
                    break
                elif tag in _CHARS:
                    if self._shown():
                        parts.append(_CHARS[tag])
                elif tag == _W["fldSimple"]:
                    self.fields.append([[el.get(_W["instr"], "")], True, None])
                    stack.append((iter(el), True, False))
                    break
                elif tag in (_W["footnoteReference"], _W["endnoteReference"]):
                    if self._shown():
                        parts.append(self._mark(el))
                elif tag == _W["txbxContent"]:
                    boxes.append(el)
                elif tag == _W["sdt"]:
                    if not _placeholder(el):
                        stack.append((iter(el), False, False))
                        break
                elif len(el):
                    stack.append((iter(el), False, False))
                    break
            else:
                stack.pop()
                if closes and self.fields:
                    self.fields.pop()
        return "".join(parts), boxes

    def _field_char(self, kind: str | None) -> None:
        if kind == "begin":
            self.fields.append([[], False, None])
        elif kind == "separate" and self.fields:
            self.fields[-1][1] = True
        elif kind == "end" and self.fields:
            self.fields.pop()

    def _shown(self) -> bool:
        """Whether text here is shown: not a field's instruction, not a page number field's result."""
        for field in self.fields:
            if not field[1]:
                return False
            if field[2] is None:
                words = "".join(field[0]).split()
                field[2] = words[0].upper() if words else ""
            if field[2] in _PAGE_FIELDS:
                return False
        return True

    def _mark(self, ref) -> str:
        kind = "footnote" if ref.tag == _W["footnoteReference"] else "endnote"
        if ref.get(_W["customMarkFollows"]) is not None and _on(ref, attr=_W["customMarkFollows"]):
            return ""  # the author's own mark follows as text
        key = (kind, ref.get(_ID, ""))
        if key not in self.marks:
            fmt, first = self.formats.get(kind, ("decimal", 1))
            number = first + sum(1 for k in self.marks if k[0] == kind)
            self.marks[key] = f"[{_format_number(number, fmt)}]"
        return self.marks[key]

    def _style(self, p) -> tuple[str, bool]:
        ppr = p.find(_W["pPr"])
        style_id, outline = "", None
        if ppr is not None:
            ps = ppr.find(_W["pStyle"])
            style_id = ps.get(_VAL, "") if ps is not None else ""
            level = ppr.find(_W["outlineLvl"])
            if level is not None:
                outline = _int(level, 9) < 9
        name, style_outline = self.styles.get(style_id, (style_id, False))
        return name, style_outline if outline is None else outline


def _rows(tbl):
    for child in tbl.iterchildren():
        if child.tag == _W["tr"]:
            yield child
        elif child.tag in (_W["sdt"], _W["customXml"]):
            inner = child.find(_W["sdtContent"]) if child.tag == _W["sdt"] else child
            if inner is not None:
                yield from _rows(inner)


def _cells(tr):
    for child in tr.iterchildren():
        if child.tag == _W["tc"]:
            yield child
        elif child.tag in (_W["sdt"], _W["customXml"]):
            inner = child.find(_W["sdtContent"]) if child.tag == _W["sdt"] else child
            if inner is not None:
                yield from _cells(inner)


def _placeholder(sdt) -> bool:
    """A content control showing its placeholder ("Click here to enter text."), not content."""
    pr = sdt.find(_W["sdtPr"])
    return pr is not None and pr.find(_W["showingPlcHdr"]) is not None


def _on(el, attr: str = _VAL) -> bool:
    """An OOXML on/off property: present and not "0", "false" or "off"."""
    if el is None:
        return False
    return str(el.get(attr, "true")).lower() not in ("0", "false", "off")


def _int(el, default: int) -> int:
    try:
        return int(el.get(_VAL)) if el is not None else default
    except (TypeError, ValueError):
        return default


_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))


def _format_number(n: int, fmt: str) -> str:
    """A note number as Word shows it in a few common formats (others as decimal)."""
    if fmt in ("lowerRoman", "upperRoman") and 0 < n < 4000:
        out, left = [], n
        for value, letters in _ROMAN:
            while left >= value:
                out.append(letters)
                left -= value
        s = "".join(out)
        return s.upper() if fmt == "upperRoman" else s
    if fmt in ("lowerLetter", "upperLetter") and n > 0:
        s = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return s.upper() if fmt == "upperLetter" else s
    return str(n)


# ---------------------------------------------------------------- document parts
def _style_names(document) -> dict[str, tuple[str, bool]]:
    """Paragraph style id -> (name, whether it or a style it is based on gives an outline level)."""
    try:
        root = document.styles.element
    except Exception:
        return {}
    raw: dict[str, tuple[str, str | None, bool | None]] = {}
    for style in root.iterchildren(_W["style"]):
        sid = style.get(qn("w:styleId"), "")
        name_el = style.find(_W["name"])
        based = style.find(_W["basedOn"])
        level = style.find(f"{_W['pPr']}/{_W['outlineLvl']}")
        raw[sid] = (
            name_el.get(_VAL, sid) if name_el is not None else sid,
            based.get(_VAL) if based is not None else None,
            None if level is None else _int(level, 9) < 9,
        )
    out = {}
    for sid, (name, _, _) in raw.items():
        outline, seen, cur = False, 0, sid
        while cur in raw and seen < 10:  # basedOn chains are short; a cycle stops here
            level = raw[cur][2]
            if level is not None:
                outline = level
                break
            cur, seen = raw[cur][1], seen + 1
        out[sid] = (name, outline)
    return out


def _note_formats(document) -> dict[str, tuple[str, int]]:
    """Number format and first number of footnotes and endnotes (document settings; Word's defaults)."""
    formats = {"footnote": ("decimal", 1), "endnote": ("lowerRoman", 1)}
    try:
        settings = document.settings.element
    except Exception:
        return formats
    for kind, tag in (("footnote", _W["footnotePr"]), ("endnote", _W["endnotePr"])):
        pr = settings.find(tag)
        if pr is not None:
            fmt = pr.find(_W["numFmt"])
            formats[kind] = (fmt.get(_VAL, formats[kind][0]) if fmt is not None else formats[kind][0],
                             _int(pr.find(_W["numStart"]), 1))
    return formats


def _part_element(document, reltype: str, name: str, warnings: list[str]):
    """The parsed XML of the document's part of this type, or None (a warning if it cannot be read)."""
    for rel in document.part.rels.values():
        if rel.reltype == reltype and not rel.is_external:
            part = rel.target_part
            element = getattr(part, "element", None)
            if element is not None:
                return element
            try:
                return parse_xml(part.blob)
            except Exception as exc:
                reason = xml_limit(str(exc)) or f"cannot be parsed ({type(exc).__name__})"
                warnings.append(f"the {name} {reason}; they are not indexed")
                return None
    return None


def _notes(document, story: _Story, warnings: list[str]) -> list:
    """Footnotes, then endnotes, each a section: notes in order of first reference, then the rest."""
    out: list = []
    for kind, reltype in (("footnote", RT.FOOTNOTES), ("endnote", RT.ENDNOTES)):
        story.fields = []  # a field left open in another story ends with it
        root = _part_element(document, reltype, NOTES_HEADINGS[kind].lower(), warnings)
        if root is None:
            continue
        notes = [n for n in root.iterchildren(_W[kind]) if n.get(_TYPE) in (None, "normal")]
        referenced = {nid: i for i, ((k, nid), _) in enumerate(story.marks.items()) if k == kind}
        notes.sort(key=lambda n: referenced.get(n.get(_ID, ""), len(referenced)))  # stable: the rest keep order
        section: list = []
        for note in notes:
            blocks = list(story.blocks(note))
            mark = story.marks.get((kind, note.get(_ID, "")), "")
            if blocks and mark and isinstance(blocks[0], _Para):
                blocks[0] = _Para(f"{mark} {blocks[0].text}", False, blocks[0].style)
            section.extend(blocks)
        if section:
            out.append(_Para(NOTES_HEADINGS[kind], True))
            out.extend(section)
    return out


def _headers_footers(document, story: _Story, warnings: list[str]) -> list:
    """Headers, then footers: each distinct one once, in the order sections use them."""
    body = document.element.body
    out: list = []
    for tag, heading in ((_W["headerReference"], HEADERS_HEADING), (_W["footerReference"], FOOTERS_HEADING)):
        seen_parts, seen_texts, section = set(), set(), []
        for sect in body.iter(_W["sectPr"]):
            if sect.getparent() is not None and sect.getparent().tag == _W["sectPrChange"]:
                continue  # a tracked change's old section properties
            for ref in sect.iterchildren(tag):
                rid = ref.get(_RID)
                part = document.part.related_parts.get(rid) if rid else None
                if part is None or id(part) in seen_parts:
                    continue
                seen_parts.add(id(part))
                element = getattr(part, "element", None)
                if element is None:
                    continue
                story.fields = []
                blocks = list(story.blocks(element))
                key = tuple(b.text if isinstance(b, _Para) else b.built.text for b in blocks)
                if blocks and key not in seen_texts:
                    seen_texts.add(key)
                    section.extend(blocks)
        if section:
            out.append(_Para(heading, True))
            out.extend(section)
    return out


def _core_title(document) -> str | None:
    """The title in docProps/core.xml; None when the file has none (python-docx would make up "Word Document")."""
    try:
        part = document.part.package.part_related_by(RT.CORE_PROPERTIES)
        title = part.core_properties.title
    except Exception:
        return None
    return (one_line(title) or None) if isinstance(title, str) else None


def _first_heading(blocks: list) -> str | None:
    """A Title-style paragraph, else the first heading, of the body."""
    headings = [b for b in blocks if isinstance(b, _Para) and b.heading]
    for b in headings:
        if _TITLE_STYLE.match(b.style):
            return one_line(b.text)
    return one_line(headings[0].text) if headings else None


# ---------------------------------------------------------------- the text
def _assemble(blocks: list) -> tuple[str, list[tuple[int, str]], list[int], list[Table]]:
    """Blocks joined by blank lines: the text, headings, paragraph starts and tables with their offsets."""
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    paragraphs: list[int] = []
    tables: list[Table] = []
    pos = 0
    for i, block in enumerate(blocks):
        if parts:
            parts.append("\n\n")
            pos += 2
        paragraphs.append(pos)
        if isinstance(block, _Para):
            if block.heading:
                headings.append((pos, one_line(block.text)))
            parts.append(block.text)
            pos += len(block.text)
            continue
        built = block.built
        parts.append(built.text)
        if built.table is not None:
            tables.append(_tables.shift(built.table, pos, _caption(blocks, i)))
        pos += len(built.text)
    return "".join(parts), headings, paragraphs, tables


def _caption(blocks: list, i: int) -> str:
    """The caption of the table at ``blocks[i]``: its title row, the paragraph just before it when
    that reads as one, or a Caption-style "Table N" paragraph just after it."""
    built = blocks[i].built
    if built.titles:
        return one_line(built.titles[0])
    before = blocks[i - 1] if i else None
    if isinstance(before, _Para) and (
        _CAPTION_STYLE.match(before.style) or _tables.caption_like(before.text, before.heading)
    ):
        return one_line(before.text)
    after = blocks[i + 1] if i + 1 < len(blocks) else None
    if isinstance(after, _Para) and _CAPTION_STYLE.match(after.style) and _tables.is_caption_label(after.text):
        return one_line(after.text)
    return ""
