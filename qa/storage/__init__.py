"""The seam between the index and where it keeps its passages.

:class:`qa.index.Index` decides what changes (which documents come and go,
their passages and vectors) and :mod:`qa.answering` how to rank; a
:class:`Store` keeps passages, their vectors, the lexical index, sentence
vectors and the documents registry, and hands out a :class:`View`: one
consistent state with the few reads a question needs. Two stores implement
it, picked by ``Settings.store_uri`` alone (:func:`open_store`):

- :mod:`qa.storage.folder`: the default, embedded; FAISS and BM25 files in
  the index folder, versioned snapshots, atomic commits;
- :mod:`qa.storage.milvus`: a Milvus server or a Milvus Lite file.

What both share lives here: the registry (:class:`Manifest`,
:class:`DocInfo`), the commit (:class:`Change`), the BM25 parameters every
lexical index records (:class:`Bm25Params`), the int8 form of sentence
vectors, and the locks (:mod:`qa.storage.locks`). Neither store imports the
other; each makes its own store-specific choices (passage ids, the order it
takes rows in, how it finds a newer state).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ContextManager, Mapping, Protocol, Sequence

import numpy as np

from ..errors import QAError, StoreError, UnknownDocumentError
from ..settings import Settings
from ..types import Passage

FORMAT = "docqa-index"
# 4: BM25 parameters and analyzer saved with every lexical segment and in the header.
FORMAT_VERSION = 4
REBUILD_HINT = "run `qa index --rebuild` to rebuild it from the corpus folder"


@dataclass(frozen=True)
class Bm25Params:
    """How BM25 counts and scores: recorded by every lexical index, checked on load.

    ``k1`` and ``b`` are Lucene's; ``df_damping``: a document's k passages
    holding a term count k ** df_damping towards its document frequency (1:
    per passage, as Lucene); ``analyzer`` names the tokenizer, stopwords and
    stemmer (qa.analysis.ANALYZER). Terms counted one way and scored another
    must not mix, so an index written with other parameters asks for a rebuild.
    """

    k1: float
    b: float
    df_damping: float
    analyzer: str

    def as_dict(self) -> dict:
        return {"k1": self.k1, "b": self.b, "df_damping": self.df_damping, "analyzer": self.analyzer}

    @classmethod
    def from_dict(cls, d: dict) -> "Bm25Params":
        return cls(float(d["k1"]), float(d["b"]), float(d["df_damping"]), str(d["analyzer"]))

    @classmethod
    def of(cls, settings: Settings) -> "Bm25Params":
        from ..analysis import ANALYZER

        return cls(settings.bm25_k1, settings.bm25_b, settings.bm25_df_damping, ANALYZER)


@dataclass
class DocInfo:
    """What the registry records of one document."""

    doc_id: str
    title: str
    source: str
    sha256: str
    passage_ids: list[int]
    chars: int
    origin: str = "text"  # "corpus": owned by sync; "file" or "text": added by hand
    format: str = "text"
    pages: int = 0
    warnings: list[str] = field(default_factory=list)
    # A corpus file when read: [size, mtime_ns, ctime_ns, inode] (corpus.file_stat) and its bytes' hash.
    file_stat: list[int] = field(default_factory=list)
    file_hash: str = ""
    ocr_pages: list[list] = field(default_factory=list)  # [page, mean word confidence 0-1] of each OCR'd page
    tables: int = 0  # tables the reader found


@dataclass
class Manifest:
    """The index's description of itself, the same in every store: how its
    passages were made (model, backend, dimension, chunking, BM25) and its
    documents. Validated on every open."""

    model: str
    dim: int
    chunking: dict
    documents: dict[str, DocInfo] = field(default_factory=dict)
    backend: str = ""  # how the model ran ("onnx-int8-s8", "torch", ...): questions must run the same way
    lexical: dict = field(default_factory=dict)  # Bm25Params.as_dict()

    def copy(self) -> "Manifest":
        """A copy to build the next commit on. DocInfo objects are shared:
        they are replaced, never changed, once in a manifest."""
        return replace(self, chunking=dict(self.chunking), documents=dict(self.documents), lexical=dict(self.lexical))


@dataclass
class NewDocument:
    """A document a commit writes: its registry entry and its passages.

    The store gives the passages their ids (``passage_id`` is ignored here)
    and fills ``info.passage_ids``. ``texts``: what BM25 indexes for each
    passage (its text with title and heading); ``sentences``: each passage's
    sentence vectors.
    """

    info: DocInfo
    passages: list[Passage]
    vectors: np.ndarray
    sentences: list[np.ndarray]
    texts: list[str]


@dataclass
class Change:
    """One commit: the registry after it (less the new documents), the
    documents it drops (removed, or replaced by a new version) and those it writes."""

    manifest: Manifest
    dropped: list[DocInfo]
    added: list[NewDocument]


@dataclass(frozen=True)
class Scope:
    """The documents a question is asked within: their ids, and their passages' ids (sorted)."""

    doc_ids: tuple[str, ...]
    passage_ids: np.ndarray

    @classmethod
    def of(cls, manifest: "Manifest", docs: Sequence[str] = (), folders: Sequence[str] = ()) -> "Scope":
        """The documents ``docs`` (ids) and those under ``folders`` (corpus-relative, "reports/2019").

        Raises :class:`UnknownDocumentError` for an id the index does not hold, and
        :class:`QAError` for a folder holding no indexed document."""
        known = manifest.documents
        docs, folders = ([x] if isinstance(x, str) else list(x) for x in (docs, folders))
        chosen = dict.fromkeys(str(d) for d in docs)
        for d in chosen:
            if d not in known:
                raise UnknownDocumentError(f"no document {d!r} in the index; `qa list` shows the ids")
        for folder in folders:
            prefix = str(folder).replace("\\", "/").strip("/")
            under = [d for d in sorted(known) if prefix in ("", ".") or d.startswith(prefix + "/")]
            if not under:
                raise QAError(f"no indexed document is in the folder {folder!r}; `qa list` shows the ids "
                              "(folders are relative to the corpus folder)")
            chosen.update(dict.fromkeys(under))
        ids = [i for d in chosen for i in known[d].passage_ids]
        return cls(tuple(chosen), np.unique(np.asarray(ids, np.int64)))


class DenseSearch(Protocol):
    def search(self, queries: np.ndarray, k: int, within: Scope | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores and passage ids, [n_queries, k] each, best first; id -1 where there are fewer.
        ``within``: only passages of those documents."""

    def reconstruct(self, ids) -> np.ndarray:
        """The stored unit vectors of passage ``ids``."""


class LexicalSearch(Protocol):
    def scores(self, query: str):
        """BM25 scores of ``query``, to read with top and lookup; None when no term is known."""

    def top(self, scores, k: int, within: Scope | None = None) -> np.ndarray:
        """Ids of the (up to) ``k`` best-scoring passages with a score above 0, best first
        (``within``: of those documents only)."""

    def lookup(self, scores, ids: np.ndarray) -> np.ndarray:
        """The scores of passage ``ids`` (0 where a passage has no query term)."""


class SentenceSearch(Protocol):
    def get(self, pid: int) -> np.ndarray:
        """float32 [sentences, dim] of passage ``pid``."""

    def best(self, ids, query: np.ndarray) -> np.ndarray:
        """Per passage id, the best cosine of ``query`` with one of its sentences (NaN: none)."""


class View(Protocol):
    """One consistent state of a store: what a question reads."""

    manifest: Manifest
    passages: Mapping[int, Passage]
    vectors: DenseSearch
    lexical: LexicalSearch
    sentences: SentenceSearch


class Store(Protocol):
    """Where an index keeps its passages; one per :class:`qa.index.Index`."""

    where: str  # for messages: a folder or a URI

    def load(self) -> View | None:
        """The current view, or None when nothing was stored yet."""

    def create(self, manifest: Manifest, *, reset: bool) -> View:
        """An empty view; with ``reset`` (a rebuild) it replaces what is stored at the first commit."""

    def lock(self) -> ContextManager:
        """Held by the one writer while it commits."""

    def sync_lock(self, timeout: float) -> ContextManager[bool]:
        """Held for a whole sync; yields False when another process held it for ``timeout`` s."""

    def latest(self, view: View) -> View:
        """``view``, or a newer one another process committed; cheap when nothing changed
        (it is asked before every question)."""

    def commit(self, view: View, change: Change) -> View:
        """Write ``change`` on top of ``view``; the new view once it is durable."""

    def has_index(self) -> bool:
        """Whether an index is stored (without reading it)."""

    def lexical_params(self, wanted: Bm25Params) -> Bm25Params:
        """The BM25 parameters this store's lexical index works with when ``wanted`` are asked for."""


def open_store(settings: Settings, path: Path) -> Store:
    """The store ``settings.store_uri`` names: empty for the index folder at ``path``."""
    uri = settings.store_uri.strip()
    if not uri:
        from .folder import FolderStore

        return FolderStore(path, settings.lock_timeout_s)
    if uri.endswith(".db") or uri.startswith(("http://", "https://", "tcp://", "unix:")):
        from .milvus import MilvusStore

        return MilvusStore(uri, path, settings)
    raise StoreError(
        f"QA_STORE_URI={uri!r} is not a store docqa knows: leave it empty for the index folder, "
        "give a Milvus Lite file ending in .db (e.g. ./milvus.db) or a Milvus server "
        "(e.g. http://localhost:19530)"
    )
