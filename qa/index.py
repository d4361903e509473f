"""The one public object: an index folder you add documents to and search.

Flow: documents -> chunks (chunking.py) -> vectors (embedding.py) -> FAISS and
BM25 (vectors.py, lexical.py) -> snapshot on disk (store.py) -> hits (here,
with ranking.py). The chat and the CLI only call the verbs of :class:`Index`.
Where passages are kept is behind one seam (storage.py): the index folder,
or Milvus (milvus_store.py) when ``Settings.store_uri`` names one.
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from .answertype import expected_type, offers_answer
from .chunking import chunk_text, line_number
from .corpus import corpus_files
from .documents import make_document, read_document
from .embedding import RECORDED, Embedder, embed_passages, load_embedder, recorded_backend, runs_like
from .errors import DocumentError, EmptyQuestionError, IndexMismatchError, QAError, UnknownDocumentError
from .extract import pick_quotes, split_question
from .followup import conversation_context
from .lexical import coverage, matched_terms, terms
from .ranking import best_sentence, collapse, confidence, fuse, sentence_scores
from .settings import Settings
from .storage import Change, Storage, open_storage
from .store import DocInfo, Manifest, Snapshot
from .types import AddReport, Answer, Chunk, Citation, Document, Evidence, Explanation, Hit, Passage, Quote

# Bump when chunk boundaries or the embedded text change: old indexes then
# ask for a rebuild instead of silently mixing two kinds of passages.
CHUNKER_VERSION = 1
# Characters of the title prepended to each passage for the embedder and BM25,
# so a passage from the middle of a document keeps its subject.
TITLE_CONTEXT_CHARS = 120
# Candidates taken from each side before fusion.
CANDIDATES = 64

# Weight of the conversation's context against the question itself (1.0) in
# the query vector of a follow-up question.
CONTEXT_WEIGHT = 0.5

NOT_FOUND = "The documents do not seem to answer this question; the closest passages are shown below."

Progress = Callable[[int, int], None]  # (passages embedded so far, total)
# What embedding gives each document: its chunks, their vectors, and per chunk
# its sentences' vectors.
Embedded = tuple[list[Chunk], np.ndarray, list[np.ndarray]]
# Documents to embed (and a progress callback) -> their Embedded, by doc id.
EmbedDocs = Callable[[list[Document], "Progress | None"], dict[str, Embedded]]


class Index:
    """A searchable, persistent collection of documents.

    Open with :meth:`Index.open`; every change (add, remove, sync) is stored
    before the call returns: atomically in the index folder, or in the Milvus
    store that ``settings.store_uri`` names (see storage.py).
    """

    def __init__(self, path: Path, settings: Settings, snapshot: Snapshot, embedder: Embedder | None,
                 storage: Storage | None = None):
        self.path = path
        self.settings = settings
        self._storage = storage if storage is not None else open_storage(settings, path)
        self._snap = snapshot
        self._embedder = embedder
        self._write_lock = threading.RLock()

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        rebuild: bool = False,
    ) -> "Index":
        """Open the index folder at ``path`` (default: the settings' index_dir), creating it if missing.

        Raises :class:`IndexMismatchError` when it was built with another
        model or other chunking settings (pass ``rebuild=True`` to start it
        over), and :class:`CorruptIndexError` when it is damaged.
        """
        settings = settings or Settings.from_env()
        path = Path(path) if path is not None else settings.index_dir
        model_name = embedder.name if embedder is not None else settings.model
        backend = getattr(embedder, "backend", "custom") if embedder is not None else settings.backend
        chunking = _chunking_config(settings)
        storage = open_storage(settings, path)
        where = storage.where
        snap = None if rebuild else storage.load()
        if snap is not None:
            m = snap.manifest
            if m.model != model_name:
                raise IndexMismatchError(
                    f"the index at {where} was built with model {m.model!r}, but the configured model is "
                    f"{model_name!r}; vectors of two models cannot be mixed: run `qa index --rebuild` "
                    "(or set QA_MODEL back)"
                )
            if not runs_like(backend, m.backend):
                raise IndexMismatchError(
                    f"the index at {where} was embedded with backend {m.backend!r}, but the configured "
                    f"backend is {backend!r}; questions must be embedded like the passages: set "
                    f"QA_BACKEND={m.backend} or run `qa index --rebuild`"
                )
            if m.chunking != chunking:
                raise IndexMismatchError(
                    f"the index at {where} was built with chunking {m.chunking}, but the settings say "
                    f"{chunking}; run `qa index --rebuild`"
                )
        idx = cls(path, settings, snap, embedder, storage)
        if snap is None:
            # The backend as the model runs it here ("onnx-int8" -> this CPU's variant).
            backend = getattr(idx.embedder, "backend", backend)
            idx._snap = storage.create(Manifest(model_name, idx.embedder.dim, chunking, backend=backend), reset=rebuild)
        elif embedder is not None and embedder.dim != snap.manifest.dim:
            raise IndexMismatchError(
                f"the index at {where} holds {snap.manifest.dim}-dimensional vectors, the model gives "
                f"{embedder.dim}; run `qa index --rebuild`"
            )
        return idx

    @property
    def location(self) -> str:
        """Where the index is kept: its folder, or the Milvus store's URI."""
        return self._storage.where

    @property
    def embedder(self) -> Embedder:
        # Loaded on first use, so `qa list` and opening an index stay fast.
        if self._embedder is None:
            # The way the index's passages were embedded (Index.open checked it
            # agrees with the settings): an int8 variant is the index's, not this CPU's pick.
            recorded = self._snap.manifest.backend if self._snap is not None else ""
            recorded = recorded_backend(recorded)
            self._embedder = load_embedder(self.settings, backend=recorded if recorded in RECORDED else None)
        return self._embedder

    # ------------------------------------------------------------- inspection
    def documents(self) -> list[DocInfo]:
        """The indexed documents, sorted by id."""
        docs = self._snap.manifest.documents
        return [docs[k] for k in sorted(docs)]

    def __len__(self) -> int:
        """Number of passages."""
        return len(self._snap.passages)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._snap.manifest.documents

    # ---------------------------------------------------------------- changes
    def add_texts(
        self,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        titles: Sequence[str] | None = None,
    ) -> AddReport:
        """Add or replace documents given as strings; same id and content means no work."""
        texts = list(texts)
        if ids is None:
            from .documents import text_hash

            ids = [f"text-{text_hash(t if isinstance(t, str) else '')[:12]}" for t in texts]
        ids = list(ids)
        if len(ids) != len(texts) or (titles is not None and len(titles) != len(texts)):
            raise QAError("add_texts needs as many ids (and titles, if given) as texts")
        if len(set(ids)) != len(ids):
            raise QAError("add_texts got the same id twice in one call")
        docs = [
            make_document(t, str(i), None if titles is None else titles[n], source="")
            for n, (t, i) in enumerate(zip(texts, ids))
        ]
        return self._apply(docs, origin="text")

    def add_files(self, paths: Iterable[str | Path]) -> AddReport:
        """Add or replace files. Every file is read first: one bad file raises
        :class:`DocumentError` and nothing changes."""
        corpus = self.settings.corpus_dir.resolve()
        docs, origins, stats = [], {}, {}
        for p in paths:
            path = Path(p)
            resolved = path.resolve()
            if resolved.is_relative_to(corpus):
                doc_id, origin = resolved.relative_to(corpus).as_posix(), "corpus"
            else:
                doc_id, origin = path.name, "file"
            if not path.is_file():
                raise DocumentError(str(p), "does not exist or is not a file")
            docs.append(read_document(path, doc_id, self._max_bytes()))
            origins[doc_id] = origin
            if origin == "corpus":
                stats[doc_id] = _file_stat(path)
        return self._apply(docs, origin=origins, stats=stats)

    def remove(self, doc_id: str) -> AddReport:
        """Remove one document; it is never returned again."""
        if doc_id not in self._snap.manifest.documents:
            raise UnknownDocumentError(f"no document {doc_id!r} in the index; `qa list` shows the ids")
        return self._apply([], origin="text", remove=[doc_id])

    def sync(
        self,
        corpus_dir: str | Path | None = None,
        progress: Progress | None = None,
        ray_address: str | None = None,
    ) -> AddReport:
        """Bring the index in line with the corpus folder: add new files,
        re-index changed ones, remove deleted ones. Files that cannot be read
        are skipped and listed in the report's ``errors``.

        With ``ray_address`` ("local", "auto" or "ray://host:10001") the files
        are read and embedded on that Ray cluster (see ray_ingest.py), and
        ``progress`` counts documents instead of passages; the commit is the same.
        """
        folder = Path(corpus_dir) if corpus_dir is not None else self.settings.corpus_dir
        files = corpus_files(folder)
        known = self._snap.manifest.documents
        to_read, same, stats = {}, [], {}
        for doc_id, path in files.items():
            stats[doc_id] = _file_stat(path)
            info = known.get(doc_id)
            if info is not None and info.origin == "corpus" and info.file_stat == stats[doc_id]:
                # Same size and modification time as when it was read: parsing
                # a large PDF again is the slow part of a sync, and needless.
                same.append(doc_id)
                continue
            to_read[doc_id] = path
        if ray_address is None:
            docs, errors = read_documents(to_read, self._max_bytes())
            embed = None
        else:
            from .ray_ingest import RayIngest  # Ray is an optional extra: imported only when asked for

            ray = RayIngest(self.settings, ray_address, self._snap.manifest)
            docs, errors = ray.read(to_read, self._max_bytes())
            embed = ray.embed
        gone = [d.doc_id for d in known.values() if d.origin == "corpus" and d.doc_id not in files]
        report = self._apply(docs, origin="corpus", remove=gone, progress=progress, stats=stats, embed=embed)
        return AddReport(
            report.added, report.replaced, report.unchanged + tuple(same), report.removed, report.passages, tuple(errors)
        )

    def _max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1_000_000)

    def _apply(
        self,
        docs: list[Document],
        origin,
        remove: Sequence[str] = (),
        progress: Progress | None = None,
        stats: dict[str, list[int]] | None = None,
        embed: EmbedDocs | None = None,
    ) -> AddReport:
        origin_of = (lambda d: origin[d.doc_id]) if isinstance(origin, dict) else (lambda d: origin)
        with self._write_lock, self._storage.lock():
            snap = self._storage.latest(self._snap)
            known = snap.manifest.documents
            todo = [d for d in docs if d.doc_id not in known or known[d.doc_id].sha256 != d.sha256]
            unchanged = [d.doc_id for d in docs if d not in todo]
            gone = [r for r in remove if r in known]
            if not todo and not gone:
                # Origin can change without content changing (a text re-added as a file).
                return AddReport(unchanged=tuple(unchanged))
            plan, embedded = self._plan(snap, todo, gone, progress, embed)

            manifest = snap.manifest.copy()
            removed: set[int] = set()
            for doc_id in gone + [d.doc_id for d in todo if d.doc_id in known]:
                removed.update(manifest.documents.pop(doc_id).passage_ids)
            passages, vectors, sentences, texts = {}, [], {}, []
            for doc, chunks, vecs, sent_vecs in plan:
                ids = self._storage.new_ids(manifest, doc.doc_id, doc.sha256, len(chunks))
                for pid, c, v, sv in zip(ids, chunks, vecs, sent_vecs):
                    passages[pid] = p = _passage(pid, doc, c)
                    vectors.append(v)
                    sentences[pid] = sv
                    texts.append(_context(p.title, p.text, p.heading))
                twins = [d.doc_id for d in manifest.documents.values() if d.sha256 == doc.sha256]
                warnings = list(doc.warnings) + [f"same content as {t}" for t in twins]
                manifest.documents[doc.doc_id] = DocInfo(
                    doc.doc_id, doc.title, doc.source, doc.sha256, ids, len(doc.text), origin_of(doc),
                    doc.format, len(doc.pages), warnings, (stats or {}).get(doc.doc_id, []),
                )
            for doc_id in unchanged:  # touched but not changed: remember the new stat
                if stats and doc_id in stats and doc_id in manifest.documents:
                    manifest.documents[doc_id] = dataclasses.replace(manifest.documents[doc_id], file_stat=stats[doc_id])
            stacked = np.stack(vectors) if vectors else np.zeros((0, manifest.dim), np.float32)
            pids = list(passages)
            if pids != sorted(pids):  # hashed ids (Milvus): the store takes rows in id order
                order = np.argsort(pids, kind="stable")
                stacked, texts = stacked[order], [texts[i] for i in order]
            change = Change(manifest, removed, passages, stacked, sentences, texts)
            self._snap = self._storage.commit(snap, change)
        return AddReport(
            added=tuple(d.doc_id for d in todo if d.doc_id not in known),
            replaced=tuple(d.doc_id for d in todo if d.doc_id in known),
            unchanged=tuple(unchanged),
            removed=tuple(gone),
            passages=embedded,
        )

    def _plan(self, snap: Snapshot, todo: list[Document], gone: list[str], progress, embed: EmbedDocs | None = None):
        """(document, chunks, vectors, sentence vectors) for each document to write, and how many passages were embedded.

        A document whose content equals one being removed in the same change
        (a renamed file) takes over its passages and vectors: nothing is
        embedded again. Their vectors keep the old title as context; the
        lexical index is rebuilt with the new one. The others are embedded by
        ``embed`` (default: here, in this process). The plan keeps the order
        of ``todo``, so passage ids do not depend on who embedded what.
        """
        known = snap.manifest.documents
        gone_by_hash = {known[g].sha256: known[g] for g in gone}
        moved = {d.doc_id: gone_by_hash.pop(d.sha256) for d in todo if d.sha256 in gone_by_hash}
        fresh = (embed or self._embed_documents)([d for d in todo if d.doc_id not in moved], progress)
        plan = []
        for d in todo:
            if d.doc_id in moved:
                olds = [snap.passages[i] for i in moved[d.doc_id].passage_ids]
                chunks = [Chunk(p.start, p.end, p.text, p.sentences) for p in olds]
                pids = [p.passage_id for p in olds]
                plan.append((d, chunks, snap.vectors.reconstruct(pids), [snap.sentences.get(i) for i in pids]))
            else:
                plan.append((d, *fresh[d.doc_id]))
        return plan, sum(len(chunks) for chunks, _, _ in fresh.values())

    def _embed_documents(self, docs: list[Document], progress: Progress | None) -> dict[str, Embedded]:
        # All passages of all documents in one run of batches, as the progress bar counts them.
        return embed_documents(
            docs, [self._chunk(d) for d in docs], lambda texts, spans: self._embed_batches(texts, spans, progress)
        )

    def _embed_batches(self, texts: list[str], spans, progress: Progress | None):
        # Batches only so a progress bar can move; the model batches internally too.
        parts, sents, step = [], [], 256
        for i in range(0, len(texts), step):
            v, sv = embed_passages(self.embedder, texts[i : i + step], spans[i : i + step])
            parts.append(v)
            sents += sv
            if progress is not None:
                progress(min(i + step, len(texts)), len(texts))
        if not parts:
            return np.zeros((0, self._snap.manifest.dim), np.float32), []
        return np.concatenate(parts), sents

    def _chunk(self, doc: Document):
        return chunk_document(doc, self.embedder, self.settings)

    # ----------------------------------------------------------------- search
    def search(self, question: str, k: int = 5, history: Sequence[Answer | str] = ()) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first, each
        with its citation and the sentence inside it that answers best.

        ``history`` holds the conversation's earlier answers (or questions),
        oldest first: a follow-up such as "and why?" is searched in their context.
        """
        return list(self.answer(question, k, history).hits)

    def answer(self, question: str, k: int = 5, history: Sequence[Answer | str] = ()) -> Answer:
        """Hits for ``question`` and whether they are believed to answer it."""
        if not isinstance(question, str) or not question.strip():
            raise EmptyQuestionError("the question is empty: type a question about the documents")
        if k < 1:
            raise QAError(f"k must be at least 1, not {k}")
        question = " ".join(question.split())
        notes = []
        limit = self.settings.max_question_chars
        if len(question) > limit:
            question = question[:limit]
            notes.append(f"Only the first {limit} characters of the question were used.")
        context = conversation_context(question, history)
        query = f"{question} {context}".strip()
        snap = self._snap  # one consistent state for the whole search, even if a commit lands meanwhile
        if not snap.passages:
            return Answer(question, (), False, "The index is empty: add documents first.", question)

        # Evidence answers the question's own words; a bare "why?" has none,
        # so it borrows the conversation's subject. A question of several parts
        # ("why ..., and does ...?") gets each part's vector too.
        own = question if terms(question) or not context else f"{question} {context}"
        parts = split_question(own)
        head = [own] + (parts if len(parts) > 1 else [])
        # One model call per question: everything else reads stored vectors.
        asked = list(dict.fromkeys([question] + ([context] if context else []) + head))
        vecs = dict(zip(asked, self.embedder.embed(asked)))
        if context:
            qv = vecs[question] + CONTEXT_WEIGHT * vecs[context]
            qv = (qv / np.linalg.norm(qv)).astype(np.float32)
            # BM25 sums over query terms: repeating the question doubles its weight.
            lex_query = f"{question} {question} {context}"
        else:
            qv, lex_query = vecs[question], question
        _, dense_ids = snap.vectors.search(qv, CANDIDATES)
        bm25 = snap.lexical.scores(lex_query)  # once per question: top and lookup share it
        ids = np.unique(np.concatenate([dense_ids[0][dense_ids[0] >= 0], snap.lexical.top(bm25, CANDIDATES)]))
        dense = snap.vectors.reconstruct(ids) @ qv
        lexical = snap.lexical.lookup(bm25, ids)
        sentence = best_sentence_cosines(snap.sentences, ids, qv, dense)
        ranked = fuse(ids, dense, lexical, self.settings.dense_weight, sentence, self.settings.sentence_weight)
        cand = {int(i): snap.passages[int(i)] for i in ids}  # one lookup each, not one per comparison
        top = collapse(
            ranked,
            key_span=lambda s: (cand[s.passage_id].start, cand[s.passage_id].end),
            key_doc=lambda s: cand[s.passage_id].doc_id,
            key_text=lambda s: cand[s.passage_id].text,
            limit=k,
        )
        # Answerable or not is judged on scores with a fixed scale (fused
        # scores are relative to the query): the best cosine of the question
        # and a sentence of any candidate (a matching sentence tells answerable
        # from unanswerable better than a whole passage does), and the share of
        # the searched content words the first hit holds (qa.ranking.confidence).
        # bench/notfound.py measures it; Settings.min_score has the figures.
        hits, quotes = self._hits(question, query, head, np.stack([vecs[h] for h in head]), snap, top)
        sure = confidence(float(sentence.max()), term_share(query, hits[0].passage))
        found = sure >= self.settings.min_score
        message = "" if found else NOT_FOUND
        return Answer(question, tuple(hits), found, message, query, quotes if found else (), tuple(notes), sure)

    def _hits(
        self, question: str, query: str, head: list[str], part_vecs: np.ndarray, snap: Snapshot, top
    ) -> tuple[list[Hit], tuple[Quote, ...]]:
        """Hits with their evidence sentence, and the short answer's quotes.

        ``head``: the question (with its conversation when it has no words of
        its own) and then each of its parts; ``part_vecs`` their vectors;
        ``query``: what was searched (the question and its conversation)."""
        own = head[0]
        passages = [snap.passages[s.passage_id] for s in top]
        spans = [(n, a, b) for n, p in enumerate(passages) for a, b in p.sentences]
        texts = [passages[n].text[a - passages[n].start : b - passages[n].start] for n, a, b in spans]
        sent_vecs = np.concatenate([snap.sentences.get(p.passage_id) for p in passages])
        part_sims = part_vecs @ sent_vecs.T
        sims = part_sims[0]
        is_question = [t.rstrip().endswith("?") for t in texts]
        matched = [len(matched_terms(own, t)) for t in texts]
        # "Where ...?" wants a place: a sentence naming one the question does not
        # is preferred, as highlight and as short answer (qa/answertype.py).
        kind = expected_type(question)
        typed = [offers_answer(kind, t, own) for t in texts]

        hits, used = [], set()
        for n, (s, p) in enumerate(zip(top, passages)):
            rows = [i for i, (m, _, _) in enumerate(spans) if m == n]
            # Overlapping passages share sentences: highlight a new one in each.
            fresh = [i for i in rows if (p.doc_id, spans[i][1]) not in used] or rows
            i = fresh[best_sentence(sims[fresh], [matched[j] for j in fresh], [is_question[j] for j in fresh],
                                    [typed[j] for j in fresh])]
            _, a, b = spans[i]
            used.add((p.doc_id, a))
            hits.append(
                Hit(
                    passage=p,
                    score=s.fused,
                    citation=_citation(n + 1, p),
                    evidence=Evidence(a, b, texts[i], float(sims[i])),
                    explanation=Explanation(s.dense, s.lexical, s.fused, matched_terms(question, p.text), s.sentence),
                )
            )
        # The short answer quotes hits that answer on their own (the best one
        # always): judged as "found" is, on the hit's own best sentence and terms.
        answers = [
            n == 0 or confidence(h.explanation.sentence, term_share(query, h.passage))
            >= self.settings.min_score
            for n, h in enumerate(hits)
        ]
        eligible = [not is_question[i] and answers[spans[i][0]] for i in range(len(spans))]
        if not any(eligible):
            eligible = [spans[i][0] == 0 for i in range(len(spans))]
        # Scored as the highlight is (terms and answer type included), one row
        # per question part.
        part_matched = [matched] + [[len(matched_terms(h, t)) for t in texts] for h in head[1:]]
        part_scores = sentence_scores(part_sims, part_matched, typed)
        picked = pick_quotes(part_scores, eligible, sent_vecs @ sent_vecs.T)
        quotes = tuple(
            Quote(texts[i], spans[i][1], spans[i][2], passages[spans[i][0]].doc_id, spans[i][0] + 1) for i in picked
        )
        return hits, quotes


def term_share(query: str, passage: Passage) -> float:
    """Share of the content words of ``query`` that ``passage`` holds, its title and heading included (as BM25 sees it)."""
    return coverage(query, passage.text, passage.title[:TITLE_CONTEXT_CHARS], passage.heading[:TITLE_CONTEXT_CHARS])


def best_sentence_cosines(sentences, ids: np.ndarray, qv: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Per candidate passage, the cosine of ``qv`` and its best-matching sentence
    (stored vectors, no model call); ``fallback`` (the passage's own cosine)
    where a passage has no sentence vectors."""
    best = sentences.best(ids, qv)
    return np.where(np.isnan(best), fallback, best).astype(np.float32)


def read_documents(paths: dict[str, Path], max_bytes: int) -> tuple[list[Document], list[str]]:
    """The documents at ``paths`` (doc id -> file), in that order, and one
    message per file that could not be read."""
    docs, errors = [], []
    for doc_id, path in paths.items():
        try:
            docs.append(read_document(path, doc_id, max_bytes))
        except DocumentError as exc:
            errors.append(str(exc))
    return docs, errors


def chunk_document(doc: Document, embedder: Embedder, settings: Settings) -> list[Chunk]:
    """The document's passages, each short enough for the model with its title and heading."""
    # The longest possible prefix: title plus the longest heading.
    longest = max((h for _, h in doc.headings), key=len, default="")
    prefix_tokens = embedder.count_tokens(_context(doc.title, "", longest)) + 1
    budget = max(16, min(settings.passage_tokens, embedder.max_tokens - prefix_tokens))
    overlap = min(settings.overlap_tokens, budget // 2)
    return chunk_text(doc.text, budget, overlap, embedder.count_tokens)


def embed_documents(docs: list[Document], chunks: list[list[Chunk]], embed) -> dict[str, Embedded]:
    """Each document's chunks with their vectors, by doc id.

    ``embed(texts, spans) -> (vectors, sentence vectors)`` embeds the chunks
    of all ``docs`` at once (see embedding.embed_passages); texts carry the
    title and heading, and spans are the sentences' offsets in those texts.
    """
    texts, spans = [], []
    for d, cs in zip(docs, chunks):
        for c in cs:
            text = _context(d.title, c.text, heading_at(d, c.start))
            shift = len(text) - len(c.text) - c.start  # document offset -> offset in the embedded text
            texts.append(text)
            spans.append([(a + shift, b + shift) for a, b in c.sentences])
    vectors, sent_vecs = embed(texts, spans)
    out, row = {}, 0
    for d, cs in zip(docs, chunks):
        out[d.doc_id] = (cs, vectors[row : row + len(cs)], sent_vecs[row : row + len(cs)])
        row += len(cs)
    return out


def _file_stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _context(title: str, text: str, heading: str = "") -> str:
    """What the embedder and BM25 see: title and heading give a passage its subject."""
    head = title[:TITLE_CONTEXT_CHARS]
    if heading and heading != title:
        head = f"{head} - {heading[:TITLE_CONTEXT_CHARS]}" if head else heading[:TITLE_CONTEXT_CHARS]
    return f"{head}\n{text}" if head else text


def heading_at(doc: Document, offset: int) -> str:
    """The last heading that starts at or before ``offset``."""
    i = bisect.bisect_right([o for o, _ in doc.headings], offset) - 1
    return doc.headings[i][1] if i >= 0 else ""


def page_at(doc: Document, offset: int) -> int | None:
    """1-based page holding ``offset``, for paged documents."""
    if not doc.pages:
        return None
    return max(1, bisect.bisect_right(doc.pages, offset))


def _passage(pid: int, doc: Document, c) -> Passage:
    return Passage(
        passage_id=pid, doc_id=doc.doc_id, title=doc.title, source=doc.source,
        start=c.start, end=c.end,
        line_start=line_number(doc.text, c.start), line_end=line_number(doc.text, c.end),
        text=c.text, sentences=c.sentences,
        page_start=page_at(doc, c.start), page_end=page_at(doc, c.end - 1),
        heading=heading_at(doc, c.start),
    )


def _citation(n: int, p: Passage) -> Citation:
    where = p.source or p.doc_id
    if p.page_start is not None:
        place = f"p. {p.page_start}" if p.page_start == p.page_end else f"pp. {p.page_start}-{p.page_end}"
    elif p.line_start == p.line_end:
        place = f"line {p.line_start}"
    else:
        place = f"lines {p.line_start}-{p.line_end}"
    if p.heading and p.heading != p.title:
        place += f", § {p.heading}"
    return Citation(
        number=n, doc_id=p.doc_id, source=p.source, title=p.title, start=p.start, end=p.end,
        line_start=p.line_start, line_end=p.line_end, label=f"[{n}] {where}, {place}",
        page_start=p.page_start, page_end=p.page_end, heading=p.heading,
    )


def _chunking_config(settings: Settings) -> dict:
    return {
        "chunker": CHUNKER_VERSION,
        "passage_tokens": settings.passage_tokens,
        "overlap_tokens": settings.overlap_tokens,
        "title_context_chars": TITLE_CONTEXT_CHARS,
    }
