"""PDF: each page's text in reading order, as paragraphs, and its tables as rows of cells.

Runs inside the parsing worker's child process (see _worker.py), under its
time and memory ceilings. pypdf checks the file first (header and end marker,
encryption, a page tree walked with a budget: a few bytes can claim billions
of pages), then pypdfium2 (PDFium, Apache-2.0/BSD) reads each page's words
with their boxes (qa/readers/pdf_words.py), and the layout analysis, pure
functions over those boxes, takes the tables out (layout_tables.py), orders
the rest into paragraphs (layout.py) and judges what needs the whole document:
running headers and footers, hyphenation, garbled pages, the title
(layout_pages.py).

pypdfium2 because it measured 7x faster than pypdf's ``extract_text`` on the
dev set's PDFs and 30-45x faster than pdfminer.six and pdfplumber (which
give boxes too), gives each character's box, angle and Unicode-map status
and marks line-end hyphens, and renders pages (what OCR and a source viewer
need); bench/pdf_readers.py has the table. PyMuPDF would do as much but is
AGPL.

The text: paragraphs separated by a blank line, a paragraph's lines joined by
one space; a table as its caption line then one line per row, cells joined by
CELL_SEP, recorded in ``Parsed.tables`` with each cell's offsets; running
headers and footers after the page's own text as their own paragraphs (bare
page numbers and margin line numbers dropped); pages joined by PAGE_BREAK. A
page whose text layer is garbled is left out of the text, listed in
``Parsed.garbled_pages`` and named in a warning.
"""

from __future__ import annotations

import io
import re
import zlib

import pypdf
import pypdfium2 as pdfium
from pypdf.errors import DependencyError, PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject

from ..errors import DocumentError
from ._base import Limits, Parsed, Table, clean_text, one_line
from .layout import Paragraph, body_height, drop_line_numbers, join_lines, page_items
from .layout_pages import choose_title, furniture, garbled, is_page_number, lexicon
from .layout_tables import TableGrid, find_tables, table_text
from ._titles import unused_title_note
from .ocr import INSTALL_HINT, OcrOptions, engine, ocr_pages, open_cache, scale_for
from .pdf_words import read_page, read_rules

# Between two pages' texts: a blank line with a form feed, so a sentence never
# runs on across a page break and the break is visible in plain text.
PAGE_BREAK = "\n\f\n"
PARAGRAPH_BREAK = "\n\n"
MAX_BOOKMARKS = 2000
# A page's drawing commands may unpack to this much (pypdf's own inflate limit); compressed
# streams under CHECK_CONTENT_BYTES are not unpacked to check.
MAX_CONTENT_BYTES = 75_000_000
CHECK_CONTENT_BYTES = 200_000
_LOW = "low confidence"


def parse(data: bytes, name: str, limits: Limits, ocr: OcrOptions | None = None, progress=None) -> Parsed:
    """The PDF's text; pages without a usable text layer read by OCR as ``ocr`` says.

    ``progress(event)`` hears {"ocr": pages} before OCR starts and
    {"ocr": pages, "done": n} after each page (the worker extends its
    deadline and shows the count).
    """
    head = data[:1024]
    if b"%PDF-" not in head:
        raise DocumentError(name, "is not a PDF (no %PDF- header): check what kind of file it really is")
    # Every complete PDF ends with %%EOF; a download cut short does not, and a
    # reader would otherwise make do with whatever half of it could be salvaged.
    if b"%%EOF" not in data.rstrip(b"\x00\t\n\r\f ")[-1024:]:
        raise DocumentError(name, "is truncated or damaged (no %%EOF end marker): download or export it again")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    except PdfReadError as exc:
        raise DocumentError(name, f"is damaged and cannot be read as a PDF ({exc})")
    _decrypt(reader, name)
    count = _count_pages(reader, name, limits.max_pages)
    if count == 0:
        raise DocumentError(name, "has no pages")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise DocumentError(name, f"is damaged and cannot be read as a PDF ({exc})")
    try:
        return _read(pdf, name, limits, min(count, len(pdf)) or len(pdf), ocr or OcrOptions(), progress, data)
    finally:
        pdf.close()


def _read(pdf, name: str, limits: Limits, count: int, ocr: OcrOptions, progress, data: bytes) -> Parsed:
    pages: list[list] = []  # per page: paragraphs and table grids in reading order
    heights, bodies = [], []
    warnings: list[str] = []
    empty, unreadable, noisy = [], [], []
    total, cut_at = 0, None
    tesseract = engine() is not None
    force = ocr.mode == "force" and tesseract
    for number in range(1, count + 1):
        items, height, body = [], 0.0, 10.0
        try:
            page = pdf[number - 1]
            try:
                if force:
                    height = page.get_height()
                    empty.append(number)  # its text layer is not read: OCR gives the text
                else:
                    words = read_page(page)
                    height = words.height
                    raw = " ".join(w.text for w in words.words)
                    if not raw.strip():
                        empty.append(number)
                    elif garbled(raw, words.tokens, words.unmapped):
                        noisy.append(number)
                    else:
                        items, body = items_of(words.words, lambda: read_rules(page, words))
                    total += len(raw)
            finally:
                page.close()
        except Exception as exc:  # one bad page must not lose the rest
            unreadable.append(f"page {number} could not be read ({type(exc).__name__}: {str(exc)[:120]})")
            items = []
        pages.append(items)
        heights.append(height)
        bodies.append(body)
        if total > limits.max_chars:  # the rest would be cut anyway: stop reading
            cut_at = number
            break

    ocr_done: list[tuple[int, float]] = []  # (page, confidence) of the pages whose text OCR gave
    blank, failed = [], []
    if (empty or noisy) and ocr.mode != "off" and tesseract:
        ocr_done, blank, failed = ocr_into(lambda n: _render_page(pdf, n, ocr), sorted(empty + noisy), ocr, progress,
                                           pages, heights, bodies, open_cache(data, ocr))
        read = {n for n, _ in ocr_done}
        empty = []  # each was read, found blank, or is named in a failure below
        noisy = [n for n in noisy if n not in read]
        warnings.extend(ocr_warnings(failed, ocr))
    hint = _ocr_hint(ocr, tesseract)
    if ocr.mode == "force" and not force:
        warnings.append(f"QA_OCR=force, but Tesseract is not installed: the text layer was read ({INSTALL_HINT})")

    if not any(pages):
        if failed:
            raise DocumentError(name, f"has no text that could be read: {warnings[0]}")
        if blank and not noisy:
            raise DocumentError(name, "has no text: its pages were read by OCR and no words were found on them")
        if noisy:
            raise DocumentError(name, "has no usable text: the text layer of every page is garbled (fonts "
                                f"without a Unicode map){hint}")
        if unreadable:
            raise DocumentError(name, f"has no readable text: {unreadable[0]}" + (
                f" (and {len(unreadable) - 1} more pages)" if len(unreadable) > 1 else ""))
        raise DocumentError(name, f"has no extractable text: it looks scanned (pages are images){hint}")

    meta = _meta_title(pdf)
    text, starts, blocks, tables, truncated, title = compose(pages, heights, bodies, limits.max_chars, meta)
    note = unused_title_note(meta, title, name)
    if note:
        warnings.append(note)
    if truncated or cut_at is not None:
        upto = len(starts)
        warnings.append(
            f"only the first {limits.max_chars:,} characters were read (pages 1-{upto} of {count}); "
            "the rest of the document is not indexed"
        )
    if noisy:
        warnings.insert(0, _pages_warning(noisy, "have a garbled text layer (fonts without a usable Unicode map); "
                                                 f"their text is left out{hint}",
                                          "has a garbled text layer (fonts without a usable Unicode map); its text "
                                          f"is left out{hint}"))
    if empty:
        warnings.insert(0, _pages_warning(empty, f"have no extractable text (scanned?){hint}",
                                          f"has no extractable text (scanned?){hint}"))
    if ocr_done:
        warnings.insert(0, ocr_note(ocr_done))
    warnings.extend(unreadable)
    return Parsed(
        text=text,
        title=title,
        pages=tuple(starts),
        headings=_outline_headings(pdf, starts, text),
        warnings=tuple(warnings),
        paragraphs=tuple(blocks),
        tables=tuple(tables),
        garbled_pages=tuple(noisy),
        ocr_pages=tuple(ocr_done),
    )


def compose(pages, heights, bodies, max_chars: int, meta_title: str | None = None):
    """A paged document's text from its pages' items (paragraphs and table grids in reading order).

    Returns (text, page starts, block starts, tables, truncated, title):
    running headers and footers found over all pages, line-end hyphens
    undone against the document's own words, the title chosen from the
    metadata title and the first page with text (a cover may be a picture),
    without its running header.
    """
    paragraphs = [[it for it in items if isinstance(it, Paragraph)] for items in pages]
    marks = furniture(paragraphs, heights)
    lex = lexicon(_plain(p) for paras in paragraphs for p in paras)
    text, starts, blocks, tables, truncated = _render(pages, paragraphs, marks, lex, max_chars)
    first = next((n for n in range(min(3, len(paragraphs))) if paragraphs[n]), 0)
    heads = [p for i, p in enumerate(paragraphs[first] if paragraphs else []) if i not in marks[first]]
    title = choose_title(meta_title, heads, bodies[first] if bodies else 10.0, text[:20_000])
    return text, starts, blocks, tables, truncated, title


def items_of(words, rules=()) -> tuple[list, float]:
    """A page's paragraphs and tables in reading order, and its body text height."""
    body = body_height(words)
    found = find_tables(drop_line_numbers(words), body, rules)
    return page_items(found.rest, found.tables, body, found.rest_rows), body


def _render_page(pdf, number: int, ocr: OcrOptions):
    """Page ``number`` as a grayscale image for OCR, and points per pixel."""
    page = pdf[number - 1]
    try:
        scale = scale_for(page.get_width(), page.get_height(), ocr)
        image = page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()
    return image, 1.0 / scale


def ocr_into(render, numbers: list[int], ocr: OcrOptions, progress, pages, heights, bodies, cache=None):
    """OCR pages ``numbers`` (``render(n)`` -> image, points per pixel) into ``pages``, ``heights``, ``bodies``;
    pages ``cache`` (qa/readers/ocr_cache.py) holds are not OCR'd again, and the others are added to it.

    Returns ((page, confidence) of the pages read, pages found blank, (page, why) of those not read).
    """
    if progress is not None:
        progress({"ocr": len(numbers)})

    def count(done: int, total: int) -> None:
        if progress is not None:
            progress({"ocr": total, "done": done})

    done, blank, failed = [], [], []
    for number, got in ocr_pages(render, numbers, ocr, count, cache):
        if got.error:
            failed.append((number, got.error))
        elif not got.words:
            blank.append(number)
        elif got.confidence < ocr.min_confidence:
            failed.append((number, f"{_LOW} ({got.confidence:.0%})"))
        else:
            items, body = items_of(list(got.words))
            pages[number - 1], heights[number - 1], bodies[number - 1] = items, got.height, body
            done.append((number, round(got.confidence, 3)))
    if cache is not None:
        cache.save()
    return done, blank, failed


def ocr_note(done: list[tuple[int, float]], whole: bool = False) -> str:
    """The report's line for the pages OCR read ((page, confidence) from :func:`ocr_into`); ``whole``:
    they are the whole document, an image of one page."""
    mean = sum(c for _, c in done) / len(done)
    if whole:
        return f"read by OCR (confidence {mean:.0%})"
    return _pages_warning([n for n, _ in done], f"were read by OCR (mean confidence {mean:.0%})",
                          f"was read by OCR (confidence {mean:.0%})")


def ocr_warnings(failed, ocr: OcrOptions) -> list[str]:
    """The report's lines for the pages OCR did not read ((page, why) from :func:`ocr_into`)."""
    why = dict(failed)
    low = [n for n, reason in failed if reason.startswith(_LOW)]
    out = []
    if low:
        out.append(_pages_warning(low, f"were read by OCR with {_LOW} (below {ocr.min_confidence:.0%}); their text "
                                       "is left out: scan them again at a higher resolution or contrast",
                                  f"was read by OCR with {why[low[0]]}; its text is left out: scan it again at a "
                                  "higher resolution or contrast"))
    out.extend(f"page {n}: {reason}; skipped" for n, reason in failed if not reason.startswith(_LOW))
    return out


def _ocr_hint(ocr: OcrOptions, tesseract: bool) -> str:
    """What to do about pages OCR did not read, as the end of a warning ("" when OCR ran)."""
    if ocr.mode == "off":
        return ": OCR is off (QA_OCR=off); set QA_OCR=auto to read such pages"
    if not tesseract:
        return f": docqa reads such pages with OCR, which needs Tesseract: {INSTALL_HINT}"
    return ""


def _plain(p: Paragraph) -> str:
    """A paragraph's words without the halves of line-end hyphenations (for the lexicon)."""
    out, cut_next = [], False
    for text, marked in p.lines:
        words = text.split()
        if cut_next and words:
            words = words[1:]
        cut_next = marked or text.rstrip().endswith(("-", "\u2010", "\u00ad"))
        if cut_next and words:
            words = words[:-1]
        out.extend(words)
    return " ".join(out)


def _render(pages, paragraphs, marks, lex, max_chars: int):
    """The document's text and the offsets of its pages, blocks and tables.

    Stops at ``max_chars``: a table row or paragraph that would pass it is cut
    (a table keeps only its rows that fit).
    """
    parts: list[str] = []
    starts, blocks, tables = [], [], []
    pos, truncated = 0, False
    for number, items in enumerate(pages, start=1):
        if number > 1:
            parts.append(PAGE_BREAK)
            pos += len(PAGE_BREAK)
        starts.append(pos)
        furniture_of = {id(p) for i, p in enumerate(paragraphs[number - 1]) if i in marks[number - 1]}
        kept_furniture = []
        body = []
        for item in items:
            if id(item) in furniture_of:
                line = item.lines[0][0].strip()
                if not is_page_number(line):
                    kept_furniture.append(item)
                continue
            body.append(item)
        first = True
        for item in body + kept_furniture:
            if not first:
                parts.append(PARAGRAPH_BREAK)
                pos += len(PARAGRAPH_BREAK)
            if isinstance(item, TableGrid):
                chunk, table = table_text(item, pos, number)
            else:
                chunk, table = clean_text(join_lines(item.lines, lex)), None
                if item in kept_furniture:
                    chunk = " ".join(chunk.split())
            if not chunk.strip():
                if not first:
                    parts.pop()
                    pos -= len(PARAGRAPH_BREAK)
                continue
            if pos + len(chunk) > max_chars:
                truncated = True
                room = max_chars - pos
                if table is not None:
                    table = _cut_table(table, pos + room)
                    if table is not None:
                        chunk = chunk[: table.end - pos]
                        tables.append(table)
                        blocks.append(pos)
                        parts.append(chunk)
                        pos += len(chunk)
                elif room > 0:
                    cut = chunk[:room]
                    space = cut.rfind(" ")
                    chunk = cut[:space] if space > room - 200 and space > 0 else cut
                    blocks.append(pos)
                    parts.append(chunk)
                    pos += len(chunk)
                break
            blocks.append(pos)
            parts.append(chunk)
            pos += len(chunk)
            if table is not None:
                tables.append(table)
            first = False
        if truncated:
            break
    text = "".join(parts)
    if truncated and len(text) > max_chars:
        text = text[:max_chars]
    return text, starts, blocks, tables, truncated


def _cut_table(table: Table, end: int) -> Table | None:
    rows = tuple(r for r in table.rows if r.end <= end)
    if not rows:
        return None
    return Table(table.start, rows[-1].end, rows, min(table.header_rows, len(rows)), table.caption, table.page)


def _pages_warning(pages: list[int], many: str, one: str) -> str:
    if len(pages) == 1:
        return f"page {pages[0]} {one}"
    return f"pages {_page_list(pages)} {many}"


def _page_list(pages: list[int]) -> str:
    runs, start = [], pages[0]
    for prev, cur in zip(pages, pages[1:] + [None]):
        if cur != prev + 1:
            runs.append(f"{start}-{prev}" if prev > start else str(start))
            start = cur
    shown = ", ".join(runs[:20])
    return shown + (f" and {len(runs) - 20} more" if len(runs) > 20 else "")


def _meta_title(pdf) -> str | None:
    try:
        title = pdf.get_metadata_value("Title")
    except Exception:
        return None
    return one_line(title) if isinstance(title, str) and title.strip() else None


def _outline_headings(pdf, starts: list[int], text: str):
    """Headings from the PDF's bookmarks, placed where their title appears on their page.

    A bookmark whose title cannot be found on its page is left out: a heading
    at a guessed offset would make citations name the wrong section.
    """
    found: dict[int, str] = {}
    searched_from: dict[int, int] = {}  # page -> where the last heading on it was found
    try:
        toc = pdf.get_toc(max_depth=16)
        for seen, item in enumerate(toc):
            if seen >= MAX_BOOKMARKS:
                break
            try:
                title = one_line(item.get_title() or "")
                dest = item.get_dest()
                number = dest.get_index() if dest is not None else None
            except Exception:
                continue
            words = title.split()
            if not words or number is None or not 0 <= number < len(starts):
                continue
            page_end = starts[number + 1] - len(PAGE_BREAK) if number + 1 < len(starts) else len(text)
            page_text = text[starts[number]:page_end]
            pattern = r"\s+".join(re.escape(w) for w in words)
            start = searched_from.get(number, 0)
            m = re.compile(r"(?:^|(?<=\n))[ \t]*(" + pattern + ")").search(page_text, start) or re.compile(
                "(" + pattern + ")", re.I
            ).search(page_text, start)
            if m is None:
                continue
            searched_from[number] = m.start(1)
            found.setdefault(starts[number] + m.start(1), title)
    except Exception:
        return tuple(sorted(found.items()))
    return tuple(sorted(found.items()))


def _decrypt(reader: pypdf.PdfReader, name: str) -> None:
    if not reader.is_encrypted:
        return
    try:
        # Many PDFs are encrypted only to restrict printing or copying: their
        # user password is empty, and they open without asking for one.
        ok = reader.decrypt("")
    except DependencyError:
        raise DocumentError(
            name, "is encrypted with AES, which needs the 'cryptography' package: pip install 'pypdf[crypto]'"
        )
    except (NotImplementedError, PdfReadError) as exc:
        raise DocumentError(name, f"is encrypted in a way that cannot be read ({exc})")
    if not ok:
        raise DocumentError(
            name, "is encrypted (password-protected): save an unprotected copy (e.g. print it to PDF) and add that"
        )


def _count_pages(reader: pypdf.PdfReader, name: str, max_pages: int) -> int:
    """Pages in the page tree, walked with a budget before any reader flattens it.

    A small file can describe an enormous tree (one page referenced a million
    times, or shared subtrees: ten levels of ten kids is 10^10 pages), or a
    cycle; the walk stops as soon as it passes ``max_pages``.
    """
    try:
        root = reader.root_object.get("/Pages")
        root = root.get_object() if root is not None else None
    except Exception as exc:
        raise DocumentError(name, f"is damaged: its page tree cannot be read ({exc})")
    if not isinstance(root, DictionaryObject):
        raise DocumentError(name, "is damaged: it has no page tree")
    budget = 4 * max_pages + 1000  # visits to inner nodes and leaves together
    pages, visits, stack = 0, 0, [root]
    while stack:
        node = stack.pop()
        visits += 1
        if pages > max_pages or visits > budget:
            raise DocumentError(
                name,
                f"has more than {max_pages:,} pages, or a page tree that claims so or loops (damaged?): "
                "above the limit; if it really is that long, split it into smaller files",
            )
        kids = node.get("/Kids")
        kids = kids.get_object() if kids is not None else None
        if isinstance(kids, ArrayObject):
            for kid in kids:
                obj = kid.get_object()
                if isinstance(obj, DictionaryObject):
                    stack.append(obj)
        elif node.get("/Type") != "/Pages":
            pages += 1
            _check_contents(node, pages, name)
    if pages > max_pages:
        raise DocumentError(name, f"has {pages:,} pages, above the limit of {max_pages:,}; split it into smaller files")
    return pages


def _check_contents(page: DictionaryObject, number: int, name: str) -> None:
    """Refuse a page whose drawing commands unpack to more than MAX_CONTENT_BYTES.

    A few hundred kilobytes can unpack to millions of drawing operations,
    and PDFium, out of memory under the worker's ceiling, aborts the process
    instead of raising; only a page with a large compressed stream is unpacked
    (with zlib, stopping at the limit).
    """
    try:
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else None
        streams = [c.get_object() for c in contents] if isinstance(contents, ArrayObject) else [contents]
        total = 0
        for stream in streams:
            raw = getattr(stream, "_data", b"") or b""
            if len(raw) < CHECK_CONTENT_BYTES or "/FlateDecode" not in str(stream.get("/Filter", "")):
                continue
            total += len(zlib.decompressobj().decompress(raw, MAX_CONTENT_BYTES))
            if total >= MAX_CONTENT_BYTES:
                raise DocumentError(
                    name, f"is damaged or hostile: the drawing commands of page {number} unpack to more than "
                    f"{MAX_CONTENT_BYTES // 1_000_000} MB (a decompression bomb?); skipped")
    except DocumentError:
        raise
    except Exception:
        return  # unreadable here: PDFium will say what it makes of it

