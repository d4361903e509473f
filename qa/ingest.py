"""Documents into what a commit needs: read, chunk, embed.

Used by :class:`qa.index.Index` in this process and by the Ray workers
(ray_ingest.py), so both make the same passages and vectors. Nothing here
touches the index or its lock: reading, chunking and embedding all run
before a writer takes the lock, so a slow document never holds it.

Flow: files -> :func:`read_documents` -> :func:`chunk_document` (under the
same time ceiling as the parse) -> :func:`embed_documents` -> passages
(:func:`to_passage`).
"""

from __future__ import annotations

import bisect
import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import readers
from .chunking import chunk_rows, chunk_text, line_of, line_starts
from .documents import read_document
from .embedding import Embedder
from .errors import DocumentError
from .settings import Settings
from .types import Chunk, Document, Passage, Table

# Characters of the title prepended to each passage for the embedder and BM25,
# so a passage from the middle of a document keeps its subject.
TITLE_CONTEXT_CHARS = 120
# Characters of a table's caption and header rows given to each chunk of its
# rows: enough for a caption and a header of a dozen columns, little enough
# that the rows keep most of the model's window.
TABLE_HEAD_CHARS = 400

Progress = Callable[[int, int], None]  # (passages embedded so far, total)
# What embedding gives each document: its chunks, their vectors, and per chunk
# its sentences' vectors.
Embedded = tuple[list[Chunk], np.ndarray, list[np.ndarray]]
# Documents to embed (and a progress callback) -> their Embedded, by doc id.
EmbedDocs = Callable[[list[Document], "Progress | None"], dict[str, Embedded]]


def read_documents(paths: dict[str, Path], max_bytes: int, ocr=None, pages=None) -> tuple[list[Document], list[DocumentError]]:
    """The documents at ``paths`` (doc id -> file), in that order, and the
    refusal of each file that could not be read. ``ocr``: qa.readers.OcrOptions;
    ``pages(doc_id, event)`` hears of each OCR'd page."""
    docs, errors = [], []
    for doc_id, path in paths.items():
        try:
            progress = None if pages is None else (lambda event, d=doc_id: pages(d, event))
            docs.append(read_document(path, doc_id, max_bytes, ocr, progress))
        except DocumentError as exc:
            errors.append(exc)
    return docs, errors


def chunk_document(doc: Document, embedder: Embedder, settings: Settings, time_limit_s: float | None = None) -> list[Chunk]:
    """The document's passages, each short enough for the model with its title and heading.

    Chunking runs under the parse's time ceiling (``time_limit_s``, default
    qa.readers.PARSE_TIMEOUT_S): past it the document is refused with a
    :class:`DocumentError` rather than keeping a writer waiting.
    """
    # The longest possible prefix: title plus the longest heading.
    longest = max((h for _, h in doc.headings), key=len, default="")
    prefix_tokens = embedder.count_tokens(context(doc.title, "", longest)) + 1
    budget = max(16, min(settings.passage_tokens, embedder.max_tokens - prefix_tokens))
    overlap = min(settings.overlap_tokens, budget // 2)
    limit = readers.PARSE_TIMEOUT_S if time_limit_s is None else time_limit_s
    count = _within_time(embedder.count_tokens, doc.source or doc.doc_id, limit)
    if not doc.tables:
        return chunk_text(doc.text, budget, overlap, count)
    # Prose between tables is chunked as prose; a table's rows are packed
    # whole, without its header rows, which every chunk of the table carries
    # as its head: a row far from the header still says what its cells are.
    chunks: list[Chunk] = []
    pos = 0
    for table in sorted(doc.tables, key=lambda t: t.start):
        if table.start < pos or not table.rows:
            continue  # overlapping tables: the first one's rows are chunked already
        end = _caption_start(doc.text, table, pos)
        chunks += _shifted(chunk_text(doc.text[pos:end], budget, overlap, count), pos)
        head = table_head(doc.text, table)
        rows = table.rows[table.header_rows :] or table.rows
        room = max(16, min(budget, embedder.max_tokens - prefix_tokens - (count(head) + 1 if head else 0)))
        chunks += chunk_rows(doc.text, [(r.start, r.end) for r in rows], room, count, head)
        pos = max(pos, table.end)
    chunks += _shifted(chunk_text(doc.text[pos:], budget, overlap, count), pos)
    return chunks


def table_head(text: str, table: Table) -> str:
    """A table's caption and header rows, on lines of their own, at most TABLE_HEAD_CHARS."""
    lines = [table.caption.strip()] + [text[r.start : r.end].strip() for r in table.rows[: table.header_rows]]
    head = "\n".join(line for line in lines if line)
    return head if len(head) <= TABLE_HEAD_CHARS else head[:TABLE_HEAD_CHARS].rsplit(" ", 1)[0]


def _caption_start(text: str, table: Table, pos: int) -> int:
    """Where the prose before ``table`` ends: at its caption when the caption
    is the line right above it. The caption is the head of every chunk of the
    table's rows, so it is searched with them; as a sentence of its own it
    would echo the question that names the table and be quoted instead of a row."""
    caption = table.caption.strip()
    if caption:
        at = text.rfind(caption, pos, table.start)
        if at >= 0 and not text[at + len(caption) : table.start].strip():
            return at
    return table.start


def _shifted(chunks: list[Chunk], by: int) -> list[Chunk]:
    """Chunks of a slice of the text, with offsets into the whole text."""
    if not by:
        return chunks
    return [Chunk(c.start + by, c.end + by, c.text, tuple((a + by, b + by) for a, b in c.sentences), c.head)
            for c in chunks]


def _within_time(count, source: str, limit_s: float):
    """``count``, raising DocumentError once ``limit_s`` seconds have passed
    since this call. The chunker calls it for every sentence and passage, so
    the check comes often; the clock read costs far less than the count."""
    deadline = time.monotonic() + limit_s

    def counted(text: str) -> int:
        if time.monotonic() > deadline:
            raise DocumentError(
                source, f"took longer than {limit_s:g} s to split into passages; skipped "
                "(limit: qa.readers.PARSE_TIMEOUT_S)"
            )
        return count(text)

    return counted


def embed_documents(docs: list[Document], chunks: list[list[Chunk]], embed) -> dict[str, Embedded]:
    """Each document's chunks with their vectors, by doc id.

    ``embed(texts, spans) -> (vectors, sentence vectors)`` embeds the chunks
    of all ``docs`` at once (see embedding.embed_passages); texts carry the
    title and heading, and spans are the sentences' offsets in those texts.
    """
    texts, spans = [], []
    for d, cs in zip(docs, chunks):
        for c in cs:
            text = context(d.title, c.text, heading_at(d, c.start), c.head)
            shift = len(text) - len(c.text) - c.start  # document offset -> offset in the embedded text
            texts.append(text)
            spans.append([(a + shift, b + shift) for a, b in c.sentences])
    vectors, sent_vecs = embed(texts, spans)
    out, row = {}, 0
    for d, cs in zip(docs, chunks):
        out[d.doc_id] = (cs, vectors[row : row + len(cs)], sent_vecs[row : row + len(cs)])
        row += len(cs)
    return out


def context(title: str, text: str, heading: str = "", head: str = "") -> str:
    """What the embedder and BM25 see: title and heading give a passage its
    subject; a table's ``head`` (caption, column headers) goes right before its rows."""
    prefix = title[:TITLE_CONTEXT_CHARS]
    if heading and heading != title:
        prefix = f"{prefix} - {heading[:TITLE_CONTEXT_CHARS]}" if prefix else heading[:TITLE_CONTEXT_CHARS]
    lines = [line for line in (prefix, head) if line]
    return "\n".join([*lines, text])


def heading_at(doc: Document, offset: int) -> str:
    """The last heading that starts at or before ``offset``."""
    i = bisect.bisect_right(doc.headings, (offset, "\U0010ffff")) - 1
    return doc.headings[i][1] if i >= 0 else ""


def page_at(doc: Document, offset: int) -> int | None:
    """1-based page holding ``offset``, for paged documents."""
    if not doc.pages:
        return None
    return max(1, bisect.bisect_right(doc.pages, offset))


def paragraph_at(doc: Document, offset: int) -> int | None:
    """1-based paragraph holding ``offset``, counted from the last heading at or
    before it (the heading's own block is not counted), for documents with
    paragraphs and without pages; None otherwise. A reader finds "§ Storage, ¶ 2"
    in the file they have; line numbers of docqa's extracted text match nothing there."""
    if doc.pages or not doc.paragraphs:
        return None
    n = bisect.bisect_right(doc.paragraphs, offset)
    i = bisect.bisect_right(doc.headings, (offset, "\U0010ffff")) - 1
    if i >= 0:
        n -= bisect.bisect_right(doc.paragraphs, doc.headings[i][0])
    return max(1, n)


def to_passages(ids: list[int], doc: Document, chunks: list[Chunk]) -> list[Passage]:
    """The stored form of a document's chunks, with their citation metadata."""
    lines = line_starts(doc.text)  # once per document: line numbers by bisection
    return [
        Passage(
            passage_id=pid, doc_id=doc.doc_id, title=doc.title, source=doc.source,
            start=c.start, end=c.end,
            line_start=line_of(lines, c.start), line_end=line_of(lines, c.end),
            text=c.text, sentences=c.sentences,
            page_start=page_at(doc, c.start), page_end=page_at(doc, c.end - 1),
            heading=heading_at(doc, c.start), head=c.head,
            paragraph_start=paragraph_at(doc, c.start), paragraph_end=paragraph_at(doc, c.end - 1),
        )
        for pid, c in zip(ids, chunks)
    ]
