"""The one public object: an index you add documents to and ask questions of.

Flow: documents -> passages and vectors (ingest.py) -> a store (qa.storage:
the index folder, or Milvus when ``Settings.store_uri`` names one) -> hits
and answers (answering.py). :class:`Index` is the facade over them: it
decides what a change adds and removes and hands the store one commit. The
chat and the CLI only call its verbs.

Every verb works on the latest committed state, whichever process wrote it:
a question adopts a newer commit before it is searched (a comparison of
the store's generation, a few microseconds for the folder), and a writer
before it decides what to change. Reading, chunking and embedding run
before the writer lock is taken; the lock is held only to write the commit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import answering, readers, refusals, source, writing
from .corpus import file_digest, file_stat, scan
from .documents import make_document, read_document, text_hash
from .embedding import RECORDED, Embedder, embed_passages, load_embedder, recorded_backend, runs_like
from .errors import DocumentError, IndexLockedError, IndexMismatchError, QAError, UnknownDocumentError
from .ingest import (
    TITLE_CONTEXT_CHARS, EmbedDocs, Embedded, Progress, chunk_document, context, embed_documents,
    read_documents, to_passages,
)
from .refusals import Refusal
from .settings import Settings
from .storage import Bm25Params, Change, DocInfo, Manifest, NewDocument, Scope, Store, View, open_store
from .source import SourceView
from .types import AddReport, Answer, Chunk, Document, Hit, Passage, WrittenAnswer

PageProgress = Callable[[str, dict], None]  # (doc id, OCR event): see Index.sync

# Bump when chunk boundaries or the embedded text change: old indexes then
# ask for a rebuild instead of silently mixing two kinds of passages.
CHUNKER_VERSION = 2
# A write re-plans when another process committed between its embedding and
# its commit; past this many rounds it gives up with a clear error.
MAX_ATTEMPTS = 4
BUSY_NOTE = ("another process is syncing this index now: the answer comes from the last complete commit, "
             "which may not hold its latest changes yet")


class Index:
    """A searchable, persistent collection of documents.

    Open with :meth:`Index.open`; every change (add, remove, sync) is stored
    before the call returns: atomically in the index folder, or in the Milvus
    store that ``settings.store_uri`` names (see storage.py).
    """

    def __init__(self, path: Path, settings: Settings, snapshot: View, embedder: Embedder | None,
                 storage: Store | None = None, *, rebuilding: bool = False):
        self.path = path
        self.settings = settings
        self._storage = storage if storage is not None else open_store(settings, path)
        self._snap = snapshot
        self._embedder = embedder
        self._write_lock = threading.RLock()
        self._view_lock = threading.Lock()
        # A rebuild writes a new index on top of nothing, whatever is stored
        # now, and stores nothing until its first commit (the old one answers meanwhile).
        self._rebuilding = rebuilding
        m = snapshot.manifest
        self._expect = (m.model, m.backend, m.chunking, m.lexical)

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
        over: the new index replaces the old one at its first commit), and
        :class:`CorruptIndexError` when it is damaged.
        """
        settings = settings or Settings.from_env()
        path = Path(path) if path is not None else settings.index_dir
        model_name = embedder.name if embedder is not None else settings.model
        backend = getattr(embedder, "backend", "custom") if embedder is not None else settings.backend
        chunking = chunking_config(settings)
        storage = open_store(settings, path)
        lexical = storage.lexical_params(Bm25Params.of(settings)).as_dict()
        snap = None if rebuild else storage.load()
        if snap is not None:
            problem = _mismatch(snap.manifest, storage.where, model_name, backend, chunking, lexical)
            if problem:
                raise IndexMismatchError(problem)
            if embedder is not None and embedder.dim != snap.manifest.dim:
                raise IndexMismatchError(
                    f"the index at {storage.where} holds {snap.manifest.dim}-dimensional vectors, the model "
                    f"gives {embedder.dim}; run `qa index --rebuild`"
                )
            return cls(path, settings, snap, embedder, storage)
        if embedder is None:
            embedder = load_embedder(settings)
        # The backend as the model runs it here ("onnx-int8" -> this CPU's variant).
        backend = getattr(embedder, "backend", backend)
        manifest = Manifest(model_name, embedder.dim, chunking, backend=backend, lexical=lexical)
        snap = storage.create(manifest, reset=rebuild)
        return cls(path, settings, snap, embedder, storage, rebuilding=rebuild)

    @property
    def location(self) -> str:
        """Where the index is kept: its folder, or the Milvus store's URI."""
        return self._storage.where

    @property
    def store(self) -> Store:
        """The store behind the index (qa.storage): for tools that look at it directly."""
        return self._storage

    def view(self) -> View:
        """The latest committed state, read-only: its manifest, passages,
        vectors, lexical index and sentence vectors (qa.storage.View)."""
        return self._view()

    def passages(self, doc_id: str) -> list[Passage]:
        """The passages of one document, in text order."""
        view = self._view()
        info = view.manifest.documents.get(doc_id)
        if info is None:
            raise UnknownDocumentError(f"no document {doc_id!r} in the index; `qa list` shows the ids")
        return sorted((view.passages[i] for i in info.passage_ids), key=lambda p: p.start)

    def source(self, hit: Hit, page: int | None = None) -> SourceView:
        """Where ``hit`` comes from, as the chat shows it: for a PDF or image, the page drawn
        (PNG) with the evidence sentence's boxes and the rest of the passage's; for other
        formats, the text around the passage with line numbers. ``page``: another page of the
        document instead (previous, next)."""
        ev = hit.evidence
        start, end = (ev.start, ev.end) if ev.end > ev.start else (hit.passage.start, hit.passage.end)
        return self.source_of(hit.doc_id, start, end, page=page)

    def source_of(self, doc_id: str, start: int, end: int, page: int | None = None) -> SourceView:
        """:meth:`source` for the span ``start``-``end`` of document ``doc_id`` (a cited sentence)."""
        view = self._view()
        info = view.manifest.documents.get(doc_id)
        if info is None:
            raise UnknownDocumentError(f"no document {doc_id!r} in the index; `qa list` shows the ids")
        s = self.settings
        cache = source.PageCache(s.page_cache_dir, s.page_cache_mb)
        return source.show(info, [view.passages[i] for i in info.passage_ids], int(start), int(end),
                           corpus_dir=s.corpus_dir, cache=cache, ocr=self._ocr(), page=page)

    @property
    def embedder(self) -> Embedder:
        # Loaded on first use, so `qa list` and opening an index stay fast.
        if self._embedder is None:
            # The way the index's passages were embedded (Index.open checked it
            # agrees with the settings): an int8 variant is the index's, not this CPU's pick.
            recorded = recorded_backend(self._snap.manifest.backend)
            self._embedder = load_embedder(self.settings, backend=recorded if recorded in RECORDED else None)
        return self._embedder

    def _view(self):
        """The latest committed state (a newer one another process committed is adopted)."""
        if self._rebuilding:
            return self._snap
        with self._view_lock:
            latest = self._storage.latest(self._snap)
            if latest is not self._snap:
                self._adopt(latest)
            return self._snap

    def _adopt(self, view) -> None:
        m = view.manifest
        if (m.model, m.backend, m.chunking, m.lexical) != self._expect:
            raise IndexMismatchError(
                f"the index at {self.location} was rebuilt by another process with model {m.model!r} "
                f"({m.backend}) and chunking {m.chunking}; restart this program to use it"
            )
        self._snap = view

    # ------------------------------------------------------------- inspection
    def documents(self) -> list[DocInfo]:
        """The indexed documents, sorted by id."""
        docs = self._view().manifest.documents
        return [docs[k] for k in sorted(docs)]

    def refused(self) -> list[Refusal]:
        """Corpus files a sync refused (and will not read again until they change), sorted by id."""
        return [r for _, r in sorted(refusals.load(self.path).items())]

    def __len__(self) -> int:
        """Number of passages."""
        return len(self._view().passages)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._view().manifest.documents

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
        return self._apply(docs, origin="text")[0]

    def add_files(self, paths: Iterable[str | Path], *, pages: PageProgress | None = None) -> AddReport:
        """Add or replace files. Every file is read first: one bad file raises
        :class:`DocumentError` and nothing changes. ``pages(doc_id, event)``
        hears of each page read by OCR (see :meth:`sync`)."""
        corpus = self.settings.corpus_dir.resolve()
        docs, origins, files = [], {}, {}
        for p in paths:
            path = Path(p)
            resolved = path.resolve()
            if resolved.is_relative_to(corpus):
                doc_id, origin = resolved.relative_to(corpus).as_posix(), "corpus"
            else:
                doc_id, origin = path.name, "file"
            if not path.is_file():
                raise DocumentError(str(p), "does not exist or is not a file")
            stat = _stat_of(path) if origin == "corpus" else None
            progress = None if pages is None else (lambda event, d=doc_id: pages(d, event))
            docs.append(read_document(path, doc_id, self._max_bytes(), self._ocr(), progress))
            origins[doc_id] = origin
            if stat is not None:
                files[doc_id] = stat
        return self._apply(docs, origin=origins, files=files)[0]

    def remove(self, doc_id: str) -> AddReport:
        """Remove one document; it is never returned again."""
        if doc_id not in self._view().manifest.documents:
            raise UnknownDocumentError(f"no document {doc_id!r} in the index; `qa list` shows the ids")
        return self._apply([], origin="text", remove=[doc_id])[0]

    def sync(
        self,
        corpus_dir: str | Path | None = None,
        progress: Progress | None = None,
        ray_address: str | None = None,
        *,
        wait: bool = True,
        pages: PageProgress | None = None,
    ) -> AddReport:
        """Bring the index in line with the corpus folder: add new files,
        re-index changed ones, remove deleted ones. Files that cannot be read
        are skipped and listed in the report's ``errors`` (and remembered, so
        they are read again only once they change).

        One sync of an index runs at a time: with ``wait`` a second one waits
        for the first (up to ``settings.lock_timeout_s``, then
        :class:`IndexLockedError`); without, it returns at once with a note
        and the index as it is (what a question asked meanwhile wants).

        With ``ray_address`` ("local", "auto" or "ray://host:10001") the files
        are read and embedded on that Ray cluster (see ray_ingest.py), and
        ``progress`` counts documents instead of passages; the commit is the same.

        ``pages(doc_id, event)`` hears of OCR as it goes: {"ocr": n} before a
        document's n pages are OCR'd, {"ocr": n, "done": k} after each.
        """
        timeout = self.settings.lock_timeout_s if wait else 0.0
        with self._storage.sync_lock(timeout) as held:
            if not held:
                if wait:
                    raise IndexLockedError(
                        f"another process has been syncing {self.location} for over {timeout:.0f}s; "
                        "wait for it to finish (or stop it) and try again"
                    )
                return AddReport(notes=(BUSY_NOTE,))
            return self._sync(corpus_dir, progress, ray_address, pages)

    def _ocr(self) -> readers.OcrOptions:
        s = self.settings
        return readers.ocr_options(s.ocr, s.ocr_languages, s.ocr_cache_dir if s.ocr_cache_mb > 0 else "", s.ocr_cache_mb)

    def _sync(self, corpus_dir, progress: Progress | None, ray_address: str | None, pages=None) -> AddReport:
        folder = Path(corpus_dir) if corpus_dir is not None else self.settings.corpus_dir
        listing = scan(folder, self.settings.allow_outside_links)
        known = self._view().manifest.documents
        remembered = refusals.load(self.path)
        keep: dict[str, Refusal] = {}
        to_read, same, files, present = {}, [], {}, set()
        errors: list[str] = [str(e) for e in listing.problems]
        for doc_id, path in listing.files.items():
            info = known.get(doc_id)
            mine = info is not None and info.origin == "corpus"
            try:
                stat = file_stat(path)
                present.add(doc_id)
                if mine and info.file_stat == stat:
                    # Parsing a large PDF again is the slow part of a sync, and needless.
                    same.append(doc_id)
                    continue
                old = remembered.get(doc_id)
                if old is not None and list(old.file_stat) == stat:
                    keep[doc_id] = old
                    errors.append(_remembered(old))
                    continue
                digest = file_digest(path)
            except OSError:
                present.discard(doc_id)  # gone (or unreadable) since it was listed: as if it was not there
                continue
            if mine and info.file_hash == digest:
                files[doc_id] = (stat, digest)  # touched, or copied over with its old times: same bytes
                same.append(doc_id)
                continue
            if old is not None and old.file_hash == digest:
                keep[doc_id] = replace(old, file_stat=tuple(stat))
                errors.append(_remembered(old))
                continue
            to_read[doc_id] = path
            files[doc_id] = (stat, digest)
        if ray_address is None:
            docs, failed = read_documents(to_read, self._max_bytes(), self._ocr(), pages)
            embed = None
        else:
            from .ray_ingest import RayIngest  # Ray is an optional extra: imported only when asked for

            ray = RayIngest(self.settings, ray_address, self._snap.manifest)
            docs, failed = ray.read(to_read, self._max_bytes())
            embed = ray.embed
        gone = [d.doc_id for d in known.values() if d.origin == "corpus" and d.doc_id not in present]
        report, unchunked = self._apply(docs, origin="corpus", remove=gone, progress=progress, files=files,
                                        embed=embed, lenient=True)
        for exc in failed + unchunked:
            errors.append(str(exc))
            if exc.lasting and exc.source in files:
                stat, digest = files[exc.source]
                keep[exc.source] = Refusal(exc.source, exc.reason, tuple(stat), digest)
        if keep != remembered:
            refusals.save(self.path, keep)
        return AddReport(
            report.added, report.replaced, report.unchanged + tuple(same), report.removed, report.passages,
            tuple(errors),
        )

    def _max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1_000_000)

    def _apply(
        self,
        docs: list[Document],
        origin,
        remove: Sequence[str] = (),
        progress: Progress | None = None,
        files: dict[str, tuple[list[int], str]] | None = None,
        embed: EmbedDocs | None = None,
        lenient: bool = False,
    ) -> tuple[AddReport, list[DocumentError]]:
        """Write ``docs`` (new or changed) and drop ``remove``, as one commit.

        Chunking and embedding happen first, without the writer lock, planned
        on the latest commit; under the lock the plan is checked against the
        latest commit again, and whatever another writer changed meanwhile is
        embedded and checked once more. ``lenient``: a document that fails to
        chunk is left out and returned beside the report (a sync); otherwise its
        DocumentError is raised and nothing changes. ``files``: the corpus
        files' stat and hash, by doc id.
        """
        origin_of = (lambda d: origin[d.doc_id]) if isinstance(origin, dict) else (lambda d: origin)
        files = files or {}
        ready: dict[tuple[str, str], Embedded] = {}
        failed: dict[str, DocumentError] = {}
        embedded = 0
        for _ in range(MAX_ATTEMPTS):
            plan = _Plan.of(self._view(), docs, remove, failed)
            need = [d for d in plan.todo if d.doc_id not in plan.moved and (d.doc_id, d.sha256) not in ready]
            if need:
                got, errors = self._embed(need, progress, embed, lenient)
                failed.update(errors)
                for d in need:
                    if d.doc_id in got:
                        ready[(d.doc_id, d.sha256)] = got[d.doc_id]
                        embedded += len(got[d.doc_id][0])
            with self._write_lock, self._storage.lock():
                snap = self._snap if self._rebuilding else self._storage.latest(self._snap)
                if snap is not self._snap:
                    self._adopt(snap)
                plan = _Plan.of(snap, docs, remove, failed)
                if any(d.doc_id not in plan.moved and (d.doc_id, d.sha256) not in ready for d in plan.todo):
                    continue  # another writer changed these documents meanwhile: embed them as they are now
                change = self._change(snap, plan, ready, files, origin_of)
                if change is not None:
                    self._snap = self._storage.commit(snap, change)
                    self._rebuilding = False
            report = AddReport(
                added=tuple(d.doc_id for d in plan.todo if d.doc_id not in plan.known),
                replaced=tuple(d.doc_id for d in plan.todo if d.doc_id in plan.known),
                unchanged=tuple(plan.unchanged),
                removed=tuple(plan.gone),
                passages=embedded,
            )
            return report, list(failed.values())
        raise IndexLockedError(
            f"the index at {self.location} kept changing under this write ({MAX_ATTEMPTS} tries); try again"
        )

    def _change(self, snap, plan: "_Plan", ready, files, origin_of) -> Change | None:
        """The commit that carries ``plan`` out on ``snap``; None when there is nothing to write."""
        known = plan.known
        touched = [d for d in plan.unchanged if d in files and _file_fields(known[d]) != files[d]]
        if not plan.todo and not plan.gone and not touched and not self._rebuilding:
            return None
        manifest = snap.manifest.copy()
        dropped = [manifest.documents.pop(d) for d in plan.gone + [d.doc_id for d in plan.todo if d.doc_id in known]]
        added = []
        for doc in plan.todo:
            if doc.doc_id in plan.moved:
                # A renamed file takes over the passages and vectors of its old
                # name: nothing is embedded again. Its vectors keep the old title
                # as context; the lexical index is rebuilt with the new one.
                olds = sorted((snap.passages[i] for i in plan.moved[doc.doc_id].passage_ids), key=lambda p: p.start)
                chunks = [Chunk(p.start, p.end, p.text, p.sentences, p.head) for p in olds]
                pids = [p.passage_id for p in olds]
                vecs, sent_vecs = snap.vectors.reconstruct(pids), [snap.sentences.get(i) for i in pids]
            else:
                chunks, vecs, sent_vecs = ready[(doc.doc_id, doc.sha256)]
            passages = to_passages([-1] * len(chunks), doc, chunks)  # the store gives the ids
            twins = [d.doc_id for d in manifest.documents.values() if d.sha256 == doc.sha256]
            twins += [n.info.doc_id for n in added if n.info.sha256 == doc.sha256]
            stat, digest = files.get(doc.doc_id, ([], ""))
            info = DocInfo(
                doc.doc_id, doc.title, doc.source, doc.sha256, [], len(doc.text), origin_of(doc), doc.format,
                len(doc.pages), list(doc.warnings) + [f"same content as {t}" for t in twins], list(stat), digest,
                [[n, c] for n, c in doc.ocr_pages], len(doc.tables),
            )
            texts = [context(p.title, p.text, p.heading, p.head) for p in passages]
            added.append(NewDocument(info, passages, np.asarray(vecs, np.float32),
                                     list(sent_vecs), texts))
        for doc_id in touched:  # read again but not changed: remember the new stat
            stat, digest = files[doc_id]
            manifest.documents[doc_id] = replace(manifest.documents[doc_id], file_stat=list(stat), file_hash=digest)
        return Change(manifest, dropped, added)

    def _embed(self, docs: list[Document], progress: Progress | None, embed: EmbedDocs | None, lenient: bool):
        """(Embedded by doc id, DocumentError by doc id for those that failed to chunk)."""
        if embed is not None:  # Ray: workers chunk and embed, and report their refusals
            got = embed(docs, progress)
            errors = {k: v for k, v in got.items() if isinstance(v, DocumentError)}
            if errors and not lenient:
                raise next(iter(errors.values()))
            return {k: v for k, v in got.items() if k not in errors}, errors
        chunks, errors = {}, {}
        for d in docs:
            try:
                chunks[d.doc_id] = chunk_document(d, self.embedder, self.settings)
            except DocumentError as exc:
                if not lenient:
                    raise
                errors[d.doc_id] = exc
        ok = [d for d in docs if d.doc_id in chunks]
        # All passages of all documents in one run of batches, as the progress bar counts them.
        got = embed_documents(ok, [chunks[d.doc_id] for d in ok],
                              lambda texts, spans: self._embed_batches(texts, spans, progress))
        return got, errors

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

    # ----------------------------------------------------------------- search
    def search(self, question: str, k: int = 5, history: Sequence[Answer | str] = (), *,
               docs: Sequence[str] = (), folders: Sequence[str] = ()) -> list[Hit]:
        """The ``k`` passages that best answer ``question``, best first, each
        with its citation and the sentence inside it that answers best.

        ``history`` holds the conversation's earlier answers (or questions),
        oldest first: a follow-up such as "and why?" is searched in their context.
        ``docs`` (ids) and ``folders`` (relative to the corpus folder): ask
        within those documents only (none given: all of them).
        """
        return list(self._ranked(question, k, history, docs, folders).hits)

    def answer(self, question: str, k: int = 5, history: Sequence[Answer | str] = (), *,
               docs: Sequence[str] = (), folders: Sequence[str] = ()) -> Answer:
        """Hits for ``question``, whether they are believed to answer it, and the short answer
        (``docs``, ``folders``: as for :meth:`search`)."""
        return answering.answer(self._ranked(question, k, history, docs, folders), self.settings)

    def write(self, question: str, k: int = 5, history: Sequence[Answer | str] = (), *,
              docs: Sequence[str] = (), folders: Sequence[str] = ()) -> WrittenAnswer:
        """:meth:`answer`, then written by the model ``settings.llm_url`` names from the hits, every
        sentence checked against the passages it cites (qa/verify.py). Without a model, or when the
        documents do not answer, or when the model fails: no sentences and a note saying why."""
        return writing.write(self.answer(question, k, history, docs=docs, folders=folders), self.settings,
                             self.embedder)

    def _ranked(self, question, k, history, docs, folders):
        q = answering.prepare(question, k, history, self.settings)
        view = self._view()  # one view for the whole question, even if a commit lands meanwhile
        within = Scope.of(view.manifest, docs, folders) if (docs or folders) else None
        if within is not None:
            names = ", ".join(within.doc_ids[:3]) + (f" and {len(within.doc_ids) - 3:,} more" if len(within.doc_ids) > 3 else "")
            q = replace(q, notes=q.notes + (f"Asked within {len(within.doc_ids):,} of {len(view.manifest.documents):,} "
                                            f"documents: {names}.",))
        return answering.retrieve_turn(view, self.embedder, self.settings, q, int(k), within)


@dataclass
class _Plan:
    """What one change does to one state: documents to write, unchanged, removed, renamed."""

    known: dict
    todo: list[Document]
    unchanged: list[str]
    gone: list[str]
    moved: dict[str, DocInfo]  # doc id of a renamed file -> the DocInfo of its old name

    @classmethod
    def of(cls, view, docs: list[Document], remove: Sequence[str], failed: dict) -> "_Plan":
        known = view.manifest.documents
        todo = [d for d in docs if d.doc_id not in failed and (d.doc_id not in known or known[d.doc_id].sha256 != d.sha256)]
        unchanged = [d.doc_id for d in docs if d.doc_id in known and known[d.doc_id].sha256 == d.sha256]
        gone = [r for r in remove if r in known]
        by_hash = {known[g].sha256: known[g] for g in gone}
        moved = {d.doc_id: by_hash.pop(d.sha256) for d in todo if d.sha256 in by_hash}
        return cls(known, todo, unchanged, gone, moved)


def _stat_of(path: Path) -> tuple[list[int], str] | None:
    try:
        return file_stat(path), file_digest(path)
    except OSError:
        return None


def _file_fields(info: DocInfo) -> tuple[list[int], str]:
    return list(info.file_stat), info.file_hash


def _remembered(r: Refusal) -> str:
    return f"{r.message} (refused before; the file has not changed since)"


def _mismatch(m: Manifest, where: str, model: str, backend: str, chunking: dict, lexical: dict) -> str | None:
    """Why an index with manifest ``m`` cannot be used with these settings; None when it can."""
    if m.model != model:
        return (f"the index at {where} was built with model {m.model!r}, but the configured model is "
                f"{model!r}; vectors of two models cannot be mixed: run `qa index --rebuild` (or set QA_MODEL back)")
    if not runs_like(backend, m.backend):
        return (f"the index at {where} was embedded with backend {m.backend!r}, but the configured "
                f"backend is {backend!r}; questions must be embedded like the passages: set "
                f"QA_BACKEND={m.backend} or run `qa index --rebuild`")
    if m.chunking != chunking:
        return (f"the index at {where} was built with chunking {m.chunking}, but the settings say "
                f"{chunking}; run `qa index --rebuild`")
    if m.lexical != lexical:
        return (f"the index at {where} counted its BM25 terms with {m.lexical}, but the settings say "
                f"{lexical}; run `qa index --rebuild` (or set QA_BM25_* back)")
    return None


def chunking_config(settings: Settings) -> dict:
    """The chunking an index records (and checks on open): passages of another shape do not mix."""
    return {
        "chunker": CHUNKER_VERSION,
        "passage_tokens": settings.passage_tokens,
        "overlap_tokens": settings.overlap_tokens,
        "title_context_chars": TITLE_CONTEXT_CHARS,
    }
