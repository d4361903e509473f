"""The plain data that flows through docqa: documents -> chunks -> passages -> hits.

All are frozen dataclasses; offsets are character offsets into the document's
text (Python ``str`` indices), so ``document.text[start:end] == text`` always.
"""

from __future__ import annotations

from dataclasses import dataclass, field


# Between the cells of a table row in a document's text.
CELL_SEP = " | "


def split_head(head: str) -> tuple[str, list[list[str]]]:
    """A head made by :func:`qa.ingest.table_head` read back: its caption, and its
    header rows as lists of cells (unstripped)."""
    lines = head.split("\n") if head else []
    caption = " ".join(line for line in lines if CELL_SEP not in line)
    return caption, [line.split(CELL_SEP) for line in lines if CELL_SEP in line]


@dataclass(frozen=True)
class TableRow:
    """One row of a table: its line in the text and each cell's span on that line.

    Offsets are into :attr:`Document.text`; an empty cell is an empty span
    ``(s, s)``. Cells are written on the row's line separated by ``CELL_SEP``
    (qa/readers/_base.py), so two numbers in neighbouring cells never run together.
    """

    start: int
    end: int
    cells: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Table:
    """A table found in a document, kept as rows of cells with its header rows.

    ``start``/``end`` span all its rows in :attr:`Document.text`; the first
    ``header_rows`` rows are column headers; ``caption`` is the table's title
    or caption when one was found ("" otherwise); ``page`` is 1-based for paged
    formats, None otherwise.
    """

    start: int
    end: int
    rows: tuple[TableRow, ...]
    header_rows: int = 0
    caption: str = ""
    page: int | None = None


@dataclass(frozen=True)
class Document:
    """One document's full text and where it came from."""

    doc_id: str  # stable id: the file name inside the corpus folder, or the caller's id
    title: str
    text: str
    source: str = ""  # file name shown in citations ("" for texts added from Python)
    sha256: str = ""  # hash of the text; equal hash means no work on re-add
    format: str = "text"  # "text", "markdown", "pdf", "html", "docx"
    pages: tuple[int, ...] = ()  # start offset of each page in ``text`` (paged formats only)
    headings: tuple[tuple[int, str], ...] = ()  # (offset, heading) in document order
    warnings: tuple[str, ...] = ()  # what the reader could not do (pages without text, ...)
    tables: tuple[Table, ...] = ()  # tables found by the reader, rows in ``text`` order
    paragraphs: tuple[int, ...] = ()  # start offset of each block (HTML, DOCX): citations by paragraph
    ocr_pages: tuple[tuple[int, float], ...] = ()  # (page, mean word confidence 0-1) of each page read by OCR


@dataclass(frozen=True)
class Chunk:
    """A span of a document's text, as the pure chunker returns it."""

    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]  # document offsets of the sentences inside
    head: str = ""  # a table's caption and column headers, for the rows inside (not part of ``text``)


@dataclass(frozen=True)
class Passage:
    """A chunk with its document's metadata: what the index stores and returns."""

    passage_id: int  # FAISS id
    doc_id: str
    title: str
    source: str
    start: int
    end: int
    line_start: int  # 1-based, inclusive
    line_end: int
    text: str
    sentences: tuple[tuple[int, int], ...]
    page_start: int | None = None  # 1-based pages the passage spans (paged formats)
    page_end: int | None = None
    heading: str = ""  # nearest heading before the passage, if the document has any
    head: str = ""  # rows of a table: its caption and column headers (searched with the passage, not in ``text``)
    # HTML and DOCX: 1-based paragraphs the passage spans, counted from its
    # section's heading (from the document's start where it has none).
    paragraph_start: int | None = None
    paragraph_end: int | None = None


@dataclass(frozen=True)
class Evidence:
    """The sentence inside a passage that best answers the question."""

    start: int  # document offsets
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Citation:
    """Where a hit comes from, precise enough to find the sentence by hand."""

    number: int  # 1-based position in the answer: the "[n]" mark
    doc_id: str
    source: str
    title: str
    start: int  # passage span in the document's text
    end: int
    line_start: int
    line_end: int
    label: str  # e.g. "[1] seed.txt, lines 3-4", "[2] report.pdf, pp. 3-4", "[3] page.html, § Storage, ¶ 2"
    page_start: int | None = None
    page_end: int | None = None
    heading: str = ""
    paragraph_start: int | None = None
    paragraph_end: int | None = None


@dataclass(frozen=True)
class Explanation:
    """Why a hit ranked where it did."""

    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score (0 when the lexical side did not return it)
    fused: float  # the score the ranking used
    matched_terms: tuple[str, ...] = ()
    sentence: float = 0.0  # cosine similarity of question and the passage's best-matching sentence


@dataclass(frozen=True)
class Hit:
    """One retrieved passage, as the chat renders it."""

    passage: Passage
    score: float
    citation: Citation
    evidence: Evidence
    explanation: Explanation

    @property
    def doc_id(self) -> str:
        return self.passage.doc_id

    @property
    def text(self) -> str:
        return self.passage.text


@dataclass(frozen=True)
class Quote:
    """One sentence of the short answer, verbatim from a hit's passage."""

    text: str
    start: int  # document offsets
    end: int
    doc_id: str
    number: int  # the citation number of the hit it comes from
    # A table row's answer as "row label, column header: value", every word
    # from the table's cells; "" when the row is no table row or no one column is asked for.
    cell: str = ""


@dataclass(frozen=True)
class Answer:
    """What one question gets: the hits, and whether they are believed to answer it."""

    question: str
    hits: tuple[Hit, ...]
    found: bool  # False: nothing scored above the threshold; hits are only the closest
    message: str = ""  # set when not found: says so plainly
    query: str = ""  # what was searched: the question plus conversation context, if any
    quotes: tuple[Quote, ...] = ()  # the short extractive answer (empty when not found)
    notes: tuple[str, ...] = ()  # anything else the reader should know (question was cut, ...)
    # The score "found" was judged on, compared with Settings.min_score: the
    # best cosine of the question and any candidate passage's sentence, plus
    # COVERAGE_WEIGHT x the share of the question's content words in the first
    # hit (qa.confidence).
    confidence: float = 0.0


@dataclass(frozen=True)
class AddReport:
    """What an add call did, per document id."""

    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    passages: int = 0  # passages embedded by this call
    errors: tuple[str, ...] = field(default=())  # "file: reason", for files that were skipped
    notes: tuple[str, ...] = ()  # anything else to know (the sync was skipped: another process was syncing)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)


@dataclass(frozen=True)
class WrittenSentence:
    """One sentence of a written answer and what checking it found (qa/verify.py).

    ``marks``: the passage numbers it cites, as corrected; ``verdict``:
    "verified" (shown) or "removed"; ``reason``: why it was removed, or how
    its marks were corrected; ``support``: (number, doc id, start, end, text)
    of the cited sentence that supports it best.
    """

    text: str
    marks: tuple[int, ...]
    verdict: str
    reason: str = ""
    score: float = 0.0
    support: tuple[tuple[int, str, int, int, str], ...] = ()


@dataclass(frozen=True)
class WrittenAnswer:
    """An answer written by a language model from the hits of ``answer``, every sentence checked.

    ``sentences`` holds all it wrote, verified or removed; ``note`` says why
    there is no written answer when there is none (no model set, the server
    down, nothing survived the checks): the extractive answer stands then.
    """

    answer: Answer
    sentences: tuple[WrittenSentence, ...] = ()
    note: str = ""
    model: str = ""
    raw: str = ""  # what the model wrote, as it wrote it

    @property
    def verified(self) -> tuple[WrittenSentence, ...]:
        return tuple(s for s in self.sentences if s.verdict == "verified")

    @property
    def text(self) -> str:
        """The verified sentences, each with its marks: what is shown."""
        return " ".join(f"{s.text} {''.join(f'[{m}]' for m in s.marks)}" for s in self.verified)
