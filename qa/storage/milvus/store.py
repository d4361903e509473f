"""The Milvus store: the same index kept in Milvus, through ``pymilvus.MilvusClient``.

``Settings.store_uri`` picks it: a path ending in ``.db`` is Milvus Lite (in
process, for trying it), ``http://host:19530`` a Milvus standalone or
distributed server. Three collections:

- ``docqa_passages``: one row a passage. ``id`` (INT64 key), ``doc_id`` (a
  typed VARCHAR: removal and replacement filter on it), ``vector`` (the unit
  passage vector, HNSW or the engine's AUTOINDEX, inner product = cosine),
  ``terms`` (an analysed VARCHAR that Milvus's own BM25 function turns into
  the sparse ``bm25`` field), ``text``, ``meta`` (JSON: the citation's offsets, lines, pages,
  heading, title, source and sentence spans; never filtered on) and
  ``sentences`` (the int8 sentence vectors, base64: evidence needs no model
  call).
- ``docqa_documents``: the documents registry (doc_id, sha256, the rest as
  JSON), so every process on the same cluster sees the same documents.
- ``docqa_index``: one row, the index's header (model, dimension, chunking,
  backend) and a commit counter.

The ``terms`` field holds the passage's context (title, heading, text)
already analysed by analysis.terms (lower-cased, stemmed, stopwords out), and
questions are analysed the same way: Milvus's analysers differ between
versions (Milvus Lite 3.x has no stemmer), this way every engine counts the
very terms the embedded BM25 counts. Milvus computes BM25 itself, with the
embedded store's k1 and b given as index parameters (Milvus Lite 3.2 ignores
them and uses 1.5 and 0.75) and its own document frequencies, counted per
passage (the embedded store damps a document's repeats: qa.lexical.DF_DAMPING,
which Milvus's BM25 function has no way to take); the fusion above the seam divides it by the
question's best BM25 score, so only its ratios matter, and its sign is taken
off (Milvus Lite 3.x returns BM25 scores negated). Dense scores are recomputed here from the
returned vectors, whatever distance convention an engine uses.

Passage ids are a 63-bit BLAKE2b hash of (doc_id, sha256 of the text, passage
number): the same document content always gets the same ids, so writing it
again overwrites rather than duplicates, and the registry stores a count,
not a list. Every request is made at Strong consistency: once ``remove()``
returns, no search returns the removed document.

A commit upserts the new passages, deletes every stored passage of the
replaced and removed documents (found by ``doc_id``), then updates the
registry: a reader asking in between may see a changed document's old and
new passages together, never none of them, and a writer that dies midway
leaves the registry as it was, so the next sync does the change again (the
same ids: nothing is duplicated, and what it had left is deleted).

With ``QA_STORE_IMPORT_DIR`` set and a Milvus server (not Lite), a commit of
``bulk.IMPORT_ROWS`` new passages or more loads them with the
server's bulk import (Parquet files in that folder) in place of the upserts;
the same order follows, and import deletes the ids before inserting them, so
a commit done again still duplicates nothing. A server without import gets
upserts, after one warning.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import numpy as np

from ...analysis import terms
from ...errors import CorruptIndexError, ImportUnsupportedError, QAError, StoreError
from ...settings import Settings
from ...types import Passage
from .. import FORMAT, FORMAT_VERSION, Bm25Params, Change, DocInfo, Manifest, locks
from ..int8 import SCALE, quantise
from . import bulk
from .bulk import quote

PASSAGES, DOCUMENTS, HEADER = "docqa_passages", "docqa_documents", "docqa_index"
INSTALL_HINT = "pip install 'docqa[milvus]'"
REBUILD_HINT = "run `qa index --rebuild` to start it over"
STRONG = "Strong"
BATCH = 256  # rows per insert or delete request (each row carries a few kB)
MAX_VARCHAR = 65_535  # bytes: Milvus's largest VARCHAR
HNSW = {"M": 16, "efConstruction": 200}
CONNECT_ATTEMPTS = 3  # a server, before "cannot open"
CACHE_ROWS = 8192  # passage rows kept in memory (a question touches at most ~130)
_ROW_FIELDS = ["doc_id", "vector", "text", "meta", "sentences"]
_DOC_FIELDS = ["doc_id", "sha256", "info"]
log = logging.getLogger("docqa.milvus")


def _pymilvus():
    try:
        import pymilvus
    except ImportError:
        raise StoreError(f"QA_STORE_URI names a Milvus store, but pymilvus is not installed: {INSTALL_HINT}") from None
    return pymilvus


def passage_id(doc_id: str, sha256: str, n: int) -> int:
    """The id of passage ``n`` of a document: a content hash, the same in every process and run."""
    digest = hashlib.blake2b(f"{doc_id}\0{sha256}\0{n}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


class PassageIds(Sequence):
    """A document's passage ids, computed when read (the registry stores only their count)."""

    def __init__(self, doc_id: str, sha256: str, n: int):
        self._key, self._n = (doc_id, sha256), n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return passage_id(*self._key, i % self._n)


def _listening(uri: str) -> bool:
    """Whether something accepts TCP connections at a server URI's host and port."""
    try:
        parts = urlsplit(uri if "://" in uri else f"http://{uri}")
        port = parts.port or (443 if parts.scheme == "https" else 19530)
        socket.create_connection((parts.hostname or "localhost", port), timeout=2).close()
        return True
    except (OSError, ValueError):
        return False


class MilvusStore:
    """The :class:`qa.storage.Store` kept in a Milvus server or a Milvus Lite file."""

    def __init__(self, uri: str, path: Path, settings: Settings):
        pymilvus = _pymilvus()
        self.where = uri
        self._lite = uri.endswith(".db")
        self.path = path  # the local writer lock lives here, as for the embedded store
        self._lock_timeout_s = settings.lock_timeout_s
        self._dt, self._fn = pymilvus.DataType, pymilvus
        self.client = self._connect(pymilvus, uri)
        self.cache = _RowCache()
        # Milvus Lite has no bulk import, and reads no files for it: the setting is for servers.
        folder = settings.store_import_dir.strip()
        self._import_dir = bulk.check_folder(folder) if folder and not self._lite else None
        self._import_alias = None

    def _connect(self, pymilvus, uri: str):
        # A busy server may refuse a new connection for a moment (gRPC GOAWAY
        # while it throttles another client's keepalive pings): a server that
        # accepts TCP connections is asked CONNECT_ATTEMPTS times, a second
        # apart and more, before the store gives up. A port nobody listens on
        # is not asked again: that error should come at once.
        attempts = 1 if self._lite else CONNECT_ATTEMPTS
        for attempt in range(attempts):
            try:
                if self._lite:  # Milvus Lite: a local file, created with its folder
                    Path(uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
                return pymilvus.MilvusClient(uri=uri, timeout=20)
            except Exception as exc:  # pymilvus raises its own types, and OSError for a bad Lite path
                if attempt + 1 == attempts or not _listening(uri):
                    raise StoreError(
                        f"cannot open the Milvus store at {uri} ({exc}); start the server or fix QA_STORE_URI"
                    ) from exc
                time.sleep(attempt + 1)

    # ------------------------------------------------------------ the seam
    def load(self) -> "MilvusView | None":
        c = self.client
        if not all(c.has_collection(n) for n in (HEADER, DOCUMENTS, PASSAGES)):
            return None
        for name in (HEADER, DOCUMENTS, PASSAGES):
            c.load_collection(name)  # Milvus Lite opens collections released
        header = self._header()
        if header is None:
            return None  # created but never finished: start over
        manifest = Manifest(
            header["model"], header["dim"], header["chunking"], backend=header["backend"],
            documents=self._documents(), lexical=header["lexical"],
        )
        return MilvusView(self, manifest, header["generation"])

    def has_index(self) -> bool:
        return all(self.client.has_collection(n) for n in (HEADER, DOCUMENTS, PASSAGES))

    def lexical_params(self, wanted: Bm25Params) -> Bm25Params:
        """Milvus's BM25 function takes k1 and b, but counts document
        frequency per passage: it cannot damp a document's repeats (df_damping 1)."""
        return Bm25Params(wanted.k1, wanted.b, 1.0, wanted.analyzer)

    def create(self, manifest: Manifest, *, reset: bool) -> "MilvusView":
        # Nothing usable is stored when this is called (load gave None, or a
        # rebuild): drop what may be left and create the collections afresh.
        with self.lock():
            for name in (HEADER, DOCUMENTS, PASSAGES):
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            try:
                self._create_collections(manifest.dim, Bm25Params.from_dict(manifest.lexical))
            except self._fn.MilvusException as exc:
                raise StoreError(
                    f"the Milvus store at {self.where} cannot create docqa's collections ({exc}); docqa needs "
                    "Milvus 2.5 or newer (full-text search with the BM25 function)"
                ) from exc
            self._write_header(manifest, 0)
        self.cache.clear()
        return MilvusView(self, manifest, 0)

    def lock(self):
        # Serialises the writers of this machine; writers on several machines
        # must take turns themselves (Milvus has no transactions to do it).
        return locks.write_lock(self.path, self._lock_timeout_s)

    def sync_lock(self, timeout: float):
        return locks.sync_lock(self.path, timeout)

    def latest(self, view: "MilvusView") -> "MilvusView":
        header = self._header()
        if header is None or header["generation"] == view.generation:
            return view
        return self.load()

    def commit(self, view: "MilvusView", change: Change) -> "MilvusView":
        c = self.client
        manifest = change.manifest
        rows, written = [], set()
        for new in change.added:
            # Ids hash the content: writing a document again overwrites instead of duplicating.
            ids = PassageIds(new.info.doc_id, new.info.sha256, len(new.passages))
            manifest.documents[new.info.doc_id] = replace(new.info, passage_ids=ids)
            for pid, p, v, sv, t in zip(ids, new.passages, new.vectors, new.sentences, new.texts):
                rows.append(self._row(pid, replace(p, passage_id=pid), v, sv, t))
                written.add(pid)
        rows.sort(key=lambda r: r["id"])  # the engine's segments fill in id order
        if not self._imported(rows):
            for i in range(0, len(rows), BATCH):
                c.upsert(PASSAGES, rows[i : i + BATCH])
        old, new_docs = view.manifest.documents, manifest.documents
        # Every stored passage of a replaced or removed document goes, found by
        # doc_id: that also catches those a writer that died mid-commit left.
        stale_docs = [k for k, d in old.items() if k not in new_docs or new_docs[k].sha256 != d.sha256]
        stale = {pid for d in change.dropped for pid in d.passage_ids}
        for i in range(0, len(stale_docs), BATCH):
            expr = f"doc_id in [{', '.join(map(quote, stale_docs[i : i + BATCH]))}]"
            stale.update(int(r["id"]) for r in c.query(PASSAGES, filter=expr, output_fields=["id"],
                                                       consistency_level=STRONG))
        gone = sorted(stale - written)
        for i in range(0, len(gone), BATCH):
            c.delete(PASSAGES, ids=gone[i : i + BATCH])
        # The registry last: until it changes, a crashed commit is redone by the next sync.
        docs = [_doc_row(d) for k, d in new_docs.items() if old.get(k) is not d]
        for i in range(0, len(docs), BATCH):
            c.upsert(DOCUMENTS, docs[i : i + BATCH])
        gone_docs = [k for k in old if k not in new_docs]
        for i in range(0, len(gone_docs), BATCH):
            # A filter we quote ourselves: pymilvus 3.0 does not escape string ids for delete(ids=...).
            c.delete(DOCUMENTS, filter=f"doc_id in [{', '.join(map(quote, gone_docs[i : i + BATCH]))}]")
        if self._lite and (rows or gone):
            # Milvus Lite 3.x scans its unflushed rows row by row on every search
            # (the SQuAD dev set's 3.5k passages: seconds a question); flushed,
            # they are searched through an index. A server indexes growing
            # segments itself and merges small flushed ones, so it is left alone.
            c.flush(PASSAGES)
        generation = view.generation + 1
        self._write_header(manifest, generation)
        return MilvusView(self, manifest, generation)

    def _imported(self, rows: list[dict]) -> bool:
        """Whether ``rows`` went in through the server's bulk import; False: the caller upserts them."""
        if self._import_dir is None or len(rows) < bulk.IMPORT_ROWS:
            return False
        if self._import_alias is None:
            # The import calls live in pymilvus's connection registry, not on MilvusClient.
            try:
                # Named by the URI: pymilvus keeps aliases for the process, and refuses
                # one that already names another server.
                self._import_alias = bulk.connect(f"docqa-import {self.where}", self.where)
            except Exception as exc:  # pymilvus's own types, as in __init__
                raise StoreError(f"cannot open the Milvus store at {self.where} for a bulk import ({exc}); "
                                 "start the server, or unset QA_STORE_IMPORT_DIR to write with upserts") from exc
        try:
            bulk.bulk_import(self._import_alias, PASSAGES, rows, self._import_dir)
        except ImportUnsupportedError as exc:
            log.warning("%s", exc)
            self._import_dir = None  # asked once: this server will not learn it while we run
            return False
        return True

    # --------------------------------------------------------------- schema
    def _create_collections(self, dim: int, params: Bm25Params) -> None:
        c, dt = self.client, self._dt
        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", dt.INT64, is_primary=True)
        s.add_field("doc_id", dt.VARCHAR, max_length=4096)
        s.add_field("vector", dt.FLOAT_VECTOR, dim=dim)
        # The "standard" analyser only splits and lower-cases: the terms are analysed already.
        s.add_field("terms", dt.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                    analyzer_params={"type": "standard"})
        s.add_field("bm25", dt.SPARSE_FLOAT_VECTOR)
        s.add_field("text", dt.VARCHAR, max_length=MAX_VARCHAR)
        s.add_field("meta", dt.JSON)
        s.add_field("sentences", dt.VARCHAR, max_length=MAX_VARCHAR)
        s.add_function(self._fn.Function(
            name="terms_bm25", function_type=self._fn.FunctionType.BM25,
            input_field_names=["terms"], output_field_names=["bm25"],
        ))
        try:
            c.create_collection(PASSAGES, schema=s, index_params=self._passage_indexes("HNSW", params),
                                consistency_level=STRONG)
        except self._fn.MilvusException as exc:
            # Milvus Lite 2.5 (the C++ core in local mode) knows only FLAT,
            # IVF_FLAT and AUTOINDEX: let the engine pick its own.
            if "index type" not in str(exc).lower():
                raise
            c.drop_collection(PASSAGES)
            c.create_collection(PASSAGES, schema=s, index_params=self._passage_indexes("AUTOINDEX", params),
                                consistency_level=STRONG)
        for name, key in ((DOCUMENTS, "doc_id"), (HEADER, "id")):
            # Milvus wants a vector field in every collection: a constant one here.
            s = c.create_schema(auto_id=False, enable_dynamic_field=False)
            if key == "doc_id":
                s.add_field("doc_id", dt.VARCHAR, max_length=4096, is_primary=True)
                s.add_field("sha256", dt.VARCHAR, max_length=64)
            else:
                s.add_field("id", dt.INT64, is_primary=True)
            s.add_field("info", dt.JSON)
            s.add_field("pad", dt.FLOAT_VECTOR, dim=2)
            ix = c.prepare_index_params()
            ix.add_index("pad", index_type="FLAT", metric_type="IP")
            c.create_collection(name, schema=s, index_params=ix, consistency_level=STRONG)

    def _passage_indexes(self, kind: str, params: Bm25Params):
        ix = self.client.prepare_index_params()
        ix.add_index("vector", index_type=kind, metric_type="IP", params=HNSW if kind == "HNSW" else {})
        ix.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": params.k1, "bm25_b": params.b})
        ix.add_index("doc_id", index_type="INVERTED")
        return ix

    def _write_header(self, manifest: Manifest, generation: int) -> None:
        info = {"format": FORMAT, "version": FORMAT_VERSION, "model": manifest.model, "dim": manifest.dim,
                "chunking": manifest.chunking, "backend": manifest.backend, "lexical": manifest.lexical,
                "generation": generation}
        self.client.upsert(HEADER, [{"id": 0, "info": info, "pad": [1.0, 0.0]}])

    def _header(self) -> dict | None:
        got = self.client.query(HEADER, ids=[0], output_fields=["info"], consistency_level=STRONG)
        if not got:
            return None
        info = got[0]["info"]
        if info.get("format") != FORMAT or info.get("version") != FORMAT_VERSION:
            raise CorruptIndexError(
                f"the Milvus store at {self.where} holds index format {info.get('format')} "
                f"{info.get('version')}, this docqa reads {FORMAT} {FORMAT_VERSION}; {REBUILD_HINT}"
            )
        return info

    def _documents(self) -> dict[str, DocInfo]:
        got = self.client.query(DOCUMENTS, filter="", output_fields=_DOC_FIELDS, limit=16_384,
                                consistency_level=STRONG)
        if len(got) == 16_384:  # a query's largest page: read them all with an iterator
            got, it = [], self.client.query_iterator(DOCUMENTS, batch_size=4096, filter="",
                                                     output_fields=_DOC_FIELDS)
            while batch := it.next():
                got += batch
            it.close()
        docs = {}
        for r in got:
            info = dict(r["info"])
            n = info.pop("passages")
            docs[r["doc_id"]] = DocInfo(r["doc_id"], sha256=r["sha256"], passage_ids=PassageIds(r["doc_id"], r["sha256"], n),
                                        **info)
        return docs

    def _row(self, pid: int, p: Passage, vector: np.ndarray, sentences: np.ndarray, context: str) -> dict:
        sv = sentences if sentences.dtype == np.int8 else quantise(sentences)
        encoded = base64.b64encode(np.ascontiguousarray(sv).tobytes()).decode("ascii")
        if len(encoded) > MAX_VARCHAR:
            raise QAError(
                f"a passage of {p.doc_id} has {len(sv)} sentences, more than a Milvus row holds; "
                "lower QA_PASSAGE_TOKENS and run `qa index --rebuild`"
            )
        meta = {f.name: getattr(p, f.name) for f in fields(Passage) if f.name not in ("passage_id", "doc_id", "text")}
        return {"id": pid, "doc_id": p.doc_id, "vector": np.asarray(vector, np.float32).tolist(),
                "terms": " ".join(terms(context)), "text": p.text, "meta": meta, "sentences": encoded}

    # --------------------------------------------------------------- reads
    def rows(self, ids) -> list["_Row"]:
        """The rows of passage ``ids`` (KeyError for one not stored), reading the uncached ones in one request."""
        got = {int(i): self.cache.get(int(i)) for i in ids}
        missing = [i for i, r in got.items() if r is None]
        if missing:
            for r in self.client.get(PASSAGES, ids=missing, output_fields=_ROW_FIELDS, consistency_level=STRONG):
                got[int(r["id"])] = self.cache.put(r)
        if None in got.values():
            raise KeyError(next(i for i, r in got.items() if r is None))
        return [got[int(i)] for i in ids]


def _doc_row(d: DocInfo) -> dict:
    info = {f.name: getattr(d, f.name) for f in fields(DocInfo) if f.name not in ("doc_id", "sha256", "passage_ids")}
    info["passages"] = len(d.passage_ids)
    return {"doc_id": d.doc_id, "sha256": d.sha256, "info": info, "pad": [1.0, 0.0]}


class _Row:
    """One passage row as read back: immutable, since its id hashes its content."""

    __slots__ = ("passage", "vector", "sentences")

    def __init__(self, r: dict):
        m = r["meta"]
        self.passage = Passage(
            passage_id=int(r["id"]), doc_id=r["doc_id"], text=r["text"],
            **{k: v for k, v in m.items() if k != "sentences"}, sentences=tuple(tuple(s) for s in m["sentences"]),
        )
        self.vector = np.asarray(r["vector"], np.float32)
        raw = np.frombuffer(base64.b64decode(r["sentences"]), np.int8)
        self.sentences = raw.reshape(-1, len(self.vector))


class _RowCache:
    """Recently read passage rows by id; bounded, shared by the views (and threads) of one storage.

    Callers keep the rows they got, so a reset by another thread never loses
    a row between reading and using it."""

    def __init__(self):
        self._rows: dict[int, _Row] = {}

    def get(self, pid: int) -> "_Row | None":
        return self._rows.get(pid)

    def put(self, r: dict) -> "_Row":
        row = _Row(r)
        if len(self._rows) >= CACHE_ROWS:
            self._rows = {}  # cheaper than tracking recency; a question refills what it needs
        self._rows[row.passage.passage_id] = row
        return row

    def clear(self) -> None:
        self._rows = {}


class MilvusView:
    """One state of the registry, with read views that ask Milvus (same attributes as store.Snapshot)."""

    def __init__(self, storage: MilvusStore, manifest: Manifest, generation: int):
        self.manifest, self.generation = manifest, generation
        self.passages = _Passages(storage, manifest)
        self.vectors = _Vectors(storage, manifest.dim)
        self.lexical = _Lexical(storage)
        self.sentences = _Sentences(storage)


class _Passages(Mapping):
    def __init__(self, storage: MilvusStore, manifest: Manifest):
        self._storage, self._manifest = storage, manifest
        self._len = sum(len(d.passage_ids) for d in manifest.documents.values())

    def __getitem__(self, pid: int) -> Passage:
        return self._storage.rows([pid])[0].passage

    def __iter__(self) -> Iterator[int]:
        for d in self._manifest.documents.values():
            yield from d.passage_ids

    def __len__(self) -> int:
        return self._len


def scope_filter(within) -> str:
    """The filter expression of a qa.storage.Scope ("" for none): its documents by the typed doc_id field."""
    if within is None:
        return ""
    return f"doc_id in [{', '.join(map(quote, within.doc_ids))}]"


class _Vectors:
    def __init__(self, storage: MilvusStore, dim: int):
        self._storage, self.dim = storage, dim
        self.kind = "milvus"  # HNSW, or the engine's AUTOINDEX

    def search(self, queries: np.ndarray, k: int, within=None) -> tuple[np.ndarray, np.ndarray]:
        """Cosine scores and ids, [n_queries, k] each, best first; missing slots have id -1.
        ``within`` (a qa.storage.Scope): a filter on the typed ``doc_id`` field."""
        queries = np.atleast_2d(np.asarray(queries, np.float32))
        st = self._storage
        res = st.client.search(
            PASSAGES, data=queries.tolist(), anns_field="vector", limit=k, output_fields=_ROW_FIELDS,
            search_params={"metric_type": "IP", "params": {"ef": max(2 * k, 128)}}, consistency_level=STRONG,
            filter=scope_filter(within),
        )
        scores = np.zeros((len(queries), k), np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for q, hits in enumerate(res):
            for n, h in enumerate(hits):
                row = st.cache.put({"id": h["id"], **h["entity"]})
                ids[q, n] = h["id"]
                # The cosine itself, whatever sign or scale the engine reports as distance.
                scores[q, n] = float(row.vector @ queries[q])
            order = np.argsort(-scores[q, : len(hits)], kind="stable")
            scores[q, : len(hits)], ids[q, : len(hits)] = scores[q, order], ids[q, order]
        return scores, ids

    def reconstruct(self, ids) -> np.ndarray:
        rows = self._storage.rows(ids)
        return np.stack([r.vector for r in rows]) if rows else np.zeros((0, self.dim), np.float32)


class _Sentences:
    def __init__(self, storage: MilvusStore):
        self._storage = storage

    def get(self, pid: int) -> np.ndarray:
        return self._storage.rows([pid])[0].sentences.astype(np.float32) / SCALE

    def best(self, ids, query: np.ndarray) -> np.ndarray:
        """Per id, the best cosine of ``query`` with one of its sentences (NaN: none);
        the rows are the ones the candidates' vectors were just read with (cached)."""
        q = np.asarray(query, np.float32)
        return np.asarray(
            [float((r.sentences.astype(np.float32) @ q).max()) / SCALE if len(r.sentences) else np.nan
             for r in self._storage.rows(ids)], np.float32)


class _Query:
    """A question's BM25 request and the scores Milvus gave so far (by passage id)."""

    def __init__(self, text: str):
        self.text, self.known = text, {}


class _Lexical:
    """BM25 through Milvus's full-text search, with the embedded Bm25's scores/top/lookup verbs."""

    def __init__(self, storage: MilvusStore):
        self._storage = storage

    def scores(self, query: str) -> _Query | None:
        q = " ".join(terms(query))
        return _Query(q) if q else None

    def _search(self, q: _Query, k: int, filter: str = "", output_fields=None) -> list[int]:
        res = self._storage.client.search(
            PASSAGES, data=[q.text], anns_field="bm25", limit=k, filter=filter,
            output_fields=output_fields or ["doc_id"], search_params={"metric_type": "BM25"},
            consistency_level=STRONG,
        )
        out = []
        for h in res[0]:
            # BM25 is never negative: the magnitude is the score whatever sign an engine reports.
            q.known[int(h["id"])] = abs(float(h["distance"]))
            out.append(int(h["id"]))
            if output_fields:
                self._storage.cache.put({"id": h["id"], **h["entity"]})
        return out

    def top(self, scores: _Query | None, k: int, within=None) -> np.ndarray:
        """Ids of the (up to) ``k`` best BM25 passages, best first (``within``: of those documents)."""
        if scores is None:
            return np.zeros(0, np.int64)
        ids = self._search(scores, k, filter=scope_filter(within), output_fields=_ROW_FIELDS)
        return np.asarray([i for i in ids if scores.known[i] > 0], np.int64)

    def lookup(self, scores: _Query | None, ids: np.ndarray) -> np.ndarray:
        """BM25 scores of ``ids`` (0 for passages without a query term)."""
        out = np.zeros(len(ids), np.float32)
        if scores is None or not len(ids):
            return out
        missing = [int(i) for i in ids if int(i) not in scores.known]
        if missing:
            self._search(scores, len(missing), filter=f"id in {missing}")
            for i in missing:
                scores.known.setdefault(i, 0.0)
        for n, i in enumerate(ids):
            out[n] = scores.known[int(i)]
        return out
