"""The seam between the index and where it keeps its passages.

:class:`Index` decides what changes (chunks, vectors, which documents come
and go) and how to rank; a :class:`Storage` keeps passages, their vectors,
the lexical index, sentence vectors and the documents registry, and answers
the few reads a question needs. There are exactly two: :class:`FileStorage`
(the embedded default: FAISS and BM25 files in the index folder, see
store.py and segments.py) and ``MilvusStorage`` (milvus_store.py), picked by
``Settings.store_uri`` alone.

Both hand out a *view* of one consistent state with the same read
attributes as :class:`store.Snapshot`: ``manifest`` (the documents
registry), ``passages`` (a mapping id -> Passage), ``vectors``
(``search(qv, k)``, ``reconstruct(ids)``), ``lexical`` (``scores(query)``,
``top(scores, k)``, ``lookup(scores, ids)``) and ``sentences``
(``get(id)``), so the question path in :meth:`Index.answer` is one code for
both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ContextManager, Protocol

import numpy as np

from . import store
from .errors import StorageFullError, StoreError
from .segments import Segment, dead_counts, plan_merges
from .settings import Settings
from .store import Manifest, Snapshot
from .types import Passage


@dataclass
class Change:
    """One commit: the registry after it, and the passages it adds and drops.

    ``vectors`` and ``texts`` (what BM25 indexes) follow the sorted ids of
    ``passages``; ``sentences`` maps each new id to its sentence vectors.
    """

    manifest: Manifest
    removed: set[int]  # passage ids of removed and replaced documents
    passages: dict[int, Passage]
    vectors: np.ndarray
    sentences: dict[int, np.ndarray]
    texts: list[str]


class Storage(Protocol):
    """Where an index keeps its passages; one per :class:`Index`."""

    where: str  # for messages: a folder or a URI

    def load(self):
        """The current view, or None when nothing was stored yet."""

    def create(self, manifest: Manifest, *, reset: bool):
        """An empty view; ``reset`` also drops what is stored now (a rebuild)."""

    def lock(self) -> ContextManager:
        """Held by the one writer while it commits."""

    def sync_lock(self, timeout: float) -> ContextManager[bool]:
        """Held for a whole sync; yields False when another process held it for ``timeout`` s."""

    def latest(self, view):
        """``view``, or a newer one another process committed; cheap when nothing changed
        (it is asked before every question)."""

    def new_ids(self, manifest: Manifest, doc_id: str, sha256: str, n: int) -> list[int]:
        """Passage ids for the ``n`` passages of a document about to be written."""

    def commit(self, view, change: Change):
        """Write ``change`` on top of ``view``; the new view once it is durable."""


def open_storage(settings: Settings, path: Path) -> Storage:
    """The storage ``settings.store_uri`` names: empty for the index folder at ``path``."""
    uri = settings.store_uri.strip()
    if not uri:
        return FileStorage(path, settings.lock_timeout_s)
    if uri.endswith(".db") or uri.startswith(("http://", "https://", "tcp://", "unix:")):
        from .milvus_store import MilvusStorage

        return MilvusStorage(uri, path, settings)
    raise StoreError(
        f"QA_STORE_URI={uri!r} is not a store docqa knows: leave it empty for the index folder, "
        "give a Milvus Lite file ending in .db (e.g. ./milvus.db) or a Milvus server "
        "(e.g. http://localhost:19530)"
    )


class FileStorage:
    """The embedded store: immutable segments and snapshots in one folder (store.py)."""

    def __init__(self, path: Path, lock_timeout_s: float):
        self.path = path
        self.where = str(path)
        self._lock_timeout_s = lock_timeout_s
        self._tidied = False

    def load(self) -> Snapshot | None:
        if not self._tidied:  # what a crashed or failed commit left behind
            self._tidied = True
            store.remove_orphans(self.path)
        return store.load(self.path)

    def create(self, manifest: Manifest, *, reset: bool) -> Snapshot:
        # Nothing is written now: a rebuild's first commit writes the new
        # index beside the old one, which answers until that commit is whole.
        manifest.next_segment = max(manifest.next_segment, store.next_segment_number(self.path))
        return Snapshot(manifest, [])

    def lock(self) -> ContextManager:
        return store.write_lock(self.path, self._lock_timeout_s)

    def sync_lock(self, timeout: float) -> ContextManager[bool]:
        return store.sync_lock(self.path, timeout)

    def latest(self, view: Snapshot) -> Snapshot:
        gen = store.current_generation(self.path)
        if gen is not None and gen != view.generation:
            return store.load(self.path)
        return view

    def new_ids(self, manifest: Manifest, doc_id: str, sha256: str, n: int) -> list[int]:
        # Ids only ever grow: segments then hold increasing, disjoint ranges.
        ids = list(range(manifest.next_id, manifest.next_id + n))
        manifest.next_id += n
        return ids

    def commit(self, view: Snapshot, change: Change) -> Snapshot:
        manifest = change.manifest
        dead = set(manifest.dead) | change.removed
        segments = list(view.segments)
        if change.passages:
            # Only the new passages are indexed: the others' segments stay as they are.
            segments.append(
                Segment.build(_segment_name(manifest), manifest.dim, change.passages, change.vectors,
                              change.sentences, change.texts)
            )
        merged, left = _merge(list(segments), set(dead), manifest)
        try:
            return self._save(manifest, merged, left)
        except StorageFullError:
            if merged == segments:
                raise
            # Merging writes copies of old passages; without it a removal
            # writes only a small manifest, which may still fit on a full disk.
            return self._save(manifest, segments, dead)

    def _save(self, manifest: Manifest, segments: list[Segment], dead: set[int]) -> Snapshot:
        manifest.segments, manifest.dead = [s.name for s in segments], sorted(dead)
        new = Snapshot(manifest, segments)
        store.save(self.path, new)
        return new


def _segment_name(manifest: Manifest) -> str:
    manifest.next_segment += 1
    return f"seg-{manifest.next_segment - 1:06d}"


def _merge(segments: list[Segment], dead: set[int], manifest: Manifest):
    """Apply the size-tiered merge policy (segments.plan_merges); returns segments and dead ids left."""
    sizes = [len(s) for s in segments]
    dead_in = dead_counts(segments, dead)
    for start, end in reversed(plan_merges(sizes, dead_in)):
        parts = segments[start:end]
        merged = Segment.merge(_segment_name(manifest), parts, dead)
        dead -= {pid for p in parts for pid in p.passages}
        segments[start:end] = [merged] if len(merged) else []
    return segments, dead
