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
from .chunking import chunk_text, line_of, line_starts
from .documents import read_document
from .embedding import Embedder
from .errors import DocumentError
from .settings import Settings
from .types import Chunk, Document, Passage

# Characters of the title prepended to each passage for the embedder and BM25,
# so a passage from the middle of a document keeps its subject.
TITLE_CONTEXT_CHARS = 120

Progress = Callable[[int, int], None]  # (passages embedded so far, total)
# What embedding gives each document: its chunks, their vectors, and per chunk
# its sentences' vectors.
Embedded = tuple[list[Chunk], np.ndarray, list[np.ndarray]]
# Documents to embed (and a progress callback) -> their Embedded, by doc id.
EmbedDocs = Callable[[list[Document], "Progress | None"], dict[str, Embedded]]


def read_documents(paths: dict[str, Path], max_bytes: int) -> tuple[list[Document], list[DocumentError]]:
    """The documents at ``paths`` (doc id -> file), in that order, and the
    refusal of each file that could not be read."""
    docs, errors = [], []
    for doc_id, path in paths.items():
        try:
            docs.append(read_document(path, doc_id, max_bytes))
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
    return chunk_text(doc.text, budget, overlap, count)


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
            text = context(d.title, c.text, heading_at(d, c.start))
            shift = len(text) - len(c.text) - c.start  # document offset -> offset in the embedded text
            texts.append(text)
            spans.append([(a + shift, b + shift) for a, b in c.sentences])
    vectors, sent_vecs = embed(texts, spans)
    out, row = {}, 0
    for d, cs in zip(docs, chunks):
        out[d.doc_id] = (cs, vectors[row : row + len(cs)], sent_vecs[row : row + len(cs)])
        row += len(cs)
    return out


def context(title: str, text: str, heading: str = "") -> str:
    """What the embedder and BM25 see: title and heading give a passage its subject."""
    head = title[:TITLE_CONTEXT_CHARS]
    if heading and heading != title:
        head = f"{head} - {heading[:TITLE_CONTEXT_CHARS]}" if head else heading[:TITLE_CONTEXT_CHARS]
    return f"{head}\n{text}" if head else text


def heading_at(doc: Document, offset: int) -> str:
    """The last heading that starts at or before ``offset``."""
    i = bisect.bisect_right(doc.headings, (offset, "\U0010ffff")) - 1
    return doc.headings[i][1] if i >= 0 else ""


def page_at(doc: Document, offset: int) -> int | None:
    """1-based page holding ``offset``, for paged documents."""
    if not doc.pages:
        return None
    return max(1, bisect.bisect_right(doc.pages, offset))


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
            heading=heading_at(doc, c.start),
        )
        for pid, c in zip(ids, chunks)
    ]
