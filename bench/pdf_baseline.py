"""The PDF reader before layout analysis (pypdf extract_text per page): the baseline of bench/pdf_readers.py.

qa/readers/pdf.py of commit 26a2e2d, imports made absolute so that the bench
can call it beside the shipped reader.

PDF: the text of each page (pypdf), page start offsets, the metadata title.

Runs inside the parsing worker's child process (see _worker.py), under its time
and memory ceilings; this module adds the checks that need to know PDF: header
and end marker, encryption, page count, extracted characters.
"""

from __future__ import annotations

import io
import re

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject

from qa.errors import DocumentError
from qa.readers._base import Limits, Parsed, clean_text, one_line

# Between two pages' texts: a blank line with a form feed, so a sentence never
# runs on across a page break and the break is visible in plain text.
PAGE_BREAK = "\n\f\n"

_JUNK_TITLES = {"untitled", "untitled document", "title", "document", "no title", "none", "unknown"}


def parse(data: bytes, name: str, limits: Limits) -> Parsed:
    head = data[:1024]
    if b"%PDF-" not in head:
        raise DocumentError(name, "is not a PDF (no %PDF- header): check what kind of file it really is")
    # Every complete PDF ends with %%EOF; a download cut short does not, and pypdf
    # would otherwise make do with whatever half of it could be salvaged.
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

    texts: list[str] = []
    warnings: list[str] = []
    empty: list[int] = []
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = clean_text(page.extract_text() or "").strip()
        except (DependencyError, FileNotDecryptedError):
            raise
        except Exception as exc:  # one bad page must not lose the rest
            warnings.append(f"page {number} could not be read ({type(exc).__name__}: {str(exc)[:120]})")
            text = ""
        else:
            if not text:
                empty.append(number)
        if total + len(text) > limits.max_chars:
            text = text[: max(0, limits.max_chars - total)]
            texts.append(text)
            warnings.append(
                f"only the first {limits.max_chars:,} characters were read (pages 1-{number} of {count}); "
                "the rest of the document is not indexed"
            )
            break
        texts.append(text)
        total += len(text) + len(PAGE_BREAK)

    if not any(t.strip() for t in texts):
        failed = [w for w in warnings if "could not be read" in w]
        if failed:
            raise DocumentError(name, f"has no readable text: {failed[0]}" + (
                f" (and {len(failed) - 1} more pages)" if len(failed) > 1 else ""))
        raise DocumentError(
            name,
            "has no extractable text: it looks scanned (pages are images). Run OCR on it first "
            "(for example `ocrmypdf in.pdf out.pdf`) and add the result",
        )
    warnings = [_empty_warning(empty)] + warnings if empty else warnings

    pages, pos = [], 0
    for text in texts:
        pages.append(pos)
        pos += len(text) + len(PAGE_BREAK)
    return Parsed(
        text=PAGE_BREAK.join(texts),
        title=_title(reader),
        pages=tuple(pages),
        headings=_outline_headings(reader, pages, texts),
        warnings=tuple(warnings),
    )


def _outline_headings(reader: pypdf.PdfReader, pages: list[int], texts: list[str], limit: int = 2000):
    """Headings from the PDF's bookmarks, placed where their title appears on their page.

    A bookmark whose title cannot be found on its page is left out: a heading
    at a guessed offset would make citations name the wrong section.
    """
    try:
        outline = reader.outline
    except Exception:
        return ()
    found: dict[int, str] = {}
    searched_from: dict[int, int] = {}  # page -> where the last heading on it was found
    stack, seen = [iter(outline)], 0
    while stack and seen < limit:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        if isinstance(item, list):
            if len(stack) < 16:
                stack.append(iter(item))
            continue
        seen += 1
        try:
            title = one_line(str(item.title or ""))
            number = reader.get_destination_page_number(item)
        except Exception:
            continue
        words = title.split()
        if not words or number is None or not 0 <= number < len(texts):
            continue
        pattern = r"\s+".join(re.escape(w) for w in words)
        text, start = texts[number], searched_from.get(number, 0)
        m = re.compile(r"(?:^|(?<=\n))[ \t]*(" + pattern + ")").search(text, start) or re.compile(
            "(" + pattern + ")", re.I
        ).search(text, start)
        if m is None:
            continue
        searched_from[number] = m.start(1)
        found.setdefault(pages[number] + m.start(1), title)
    return tuple(sorted(found.items()))


def _empty_warning(pages: list[int]) -> str:
    if len(pages) == 1:
        return f"page {pages[0]} has no extractable text (scanned?)"
    shown = ", ".join(str(p) for p in pages[:20]) + (f" and {len(pages) - 20} more" if len(pages) > 20 else "")
    return f"pages {shown} have no extractable text (scanned?)"


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
    """Pages in the page tree, walked with a budget before pypdf flattens it.

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
    if pages > max_pages:
        raise DocumentError(name, f"has {pages:,} pages, above the limit of {max_pages:,}; split it into smaller files")
    return pages


def _title(reader: pypdf.PdfReader) -> str | None:
    try:
        meta = reader.metadata
        title = meta.title if meta is not None else None
    except Exception:
        return None
    if not isinstance(title, str):
        return None
    title = one_line(title)
    # Word's PDF export writes "Microsoft Word - report.docx": a file name, not a title.
    title = re.sub(r"^Microsoft (Word|PowerPoint|Excel) - ", "", title)
    if title.lower() in _JUNK_TITLES or re.search(r"\.(docx?|pdf|pptx?|xlsx?|odt|rtf|txt)$", title, re.I):
        return None
    return title or None
