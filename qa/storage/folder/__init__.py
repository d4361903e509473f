"""The embedded store: immutable segments and snapshots in one folder.

The default store, and the only one with no server: FAISS vectors, BM25 term
frequencies, passages and sentence vectors in segments (segments.py) that a
commit never changes, and a snapshot per commit naming them (snapshots.py,
which also describes the layout on disk). Passage ids are consecutive
integers, given out in commit order, so each segment holds an increasing
range of them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path

import numpy as np

from ...errors import StorageFullError
from .. import Bm25Params, Change, Manifest, locks
from . import snapshots
from .segments import Segment, dead_counts, plan_merges
from .snapshots import FolderState, Snapshot


class FolderStore:
    """A :class:`qa.storage.Store` in the index folder ``path``."""

    def __init__(self, path: Path, lock_timeout_s: float):
        self.path = path
        self.where = str(path)
        self._lock_timeout_s = lock_timeout_s
        self._tidied = False

    def lexical_params(self, wanted: Bm25Params) -> Bm25Params:
        """What this store's BM25 does with ``wanted``: exactly that."""
        return wanted

    def has_index(self) -> bool:
        return snapshots.current_generation(self.path) is not None

    def load(self) -> Snapshot | None:
        if not self._tidied:  # what a crashed or failed commit left behind
            self._tidied = True
            snapshots.remove_orphans(self.path)
        return snapshots.load(self.path)

    def create(self, manifest: Manifest, *, reset: bool) -> Snapshot:
        # Nothing is written now: a rebuild's first commit writes the new
        # index beside the old one, which answers until that commit is whole.
        state = FolderState(next_segment=snapshots.next_segment_number(self.path))
        return Snapshot(manifest, state, [])

    def lock(self) -> AbstractContextManager:
        return locks.write_lock(self.path, self._lock_timeout_s)

    def sync_lock(self, timeout: float) -> AbstractContextManager[bool]:
        return locks.sync_lock(self.path, timeout)

    def latest(self, view: Snapshot) -> Snapshot:
        gen = snapshots.current_generation(self.path)
        if gen is not None and gen != view.generation:
            return snapshots.load(self.path)
        return view

    def commit(self, view: Snapshot, change: Change) -> Snapshot:
        manifest, state = change.manifest, view.state.copy()
        dead = set(state.dead) | {pid for d in change.dropped for pid in d.passage_ids}
        passages, vectors, sentences, texts = {}, [], {}, []
        for new in change.added:
            # Ids only ever grow: segments then hold increasing, disjoint ranges.
            ids = list(range(state.next_id, state.next_id + len(new.passages)))
            state.next_id += len(ids)
            manifest.documents[new.info.doc_id] = replace(new.info, passage_ids=ids)
            for pid, p, v, sv, t in zip(ids, new.passages, new.vectors, new.sentences, new.texts):
                passages[pid] = replace(p, passage_id=pid)
                vectors.append(v)
                sentences[pid] = sv
                texts.append(t)
        segments = list(view.segments)
        if passages:
            # Only the new passages are indexed: the others' segments stay as they are.
            stacked = np.stack(vectors).astype(np.float32)
            segments.append(Segment.build(_segment_name(state), manifest.dim, passages, stacked, sentences, texts,
                                          Bm25Params.from_dict(manifest.lexical)))
        merged, left = _merge(list(segments), set(dead), state)
        try:
            return self._save(manifest, state, merged, left)
        except StorageFullError:
            if merged == segments:
                raise
            # Merging writes copies of old passages; without it a removal
            # writes only a small manifest, which may still fit on a full disk.
            return self._save(manifest, state, segments, dead)

    def _save(self, manifest: Manifest, state: FolderState, segments: list[Segment], dead: set[int]) -> Snapshot:
        state = replace(state, segments=[s.name for s in segments], dead=sorted(dead))
        new = Snapshot(manifest, state, segments)
        snapshots.save(self.path, new)
        return new


def _segment_name(state: FolderState) -> str:
    state.next_segment += 1
    return f"seg-{state.next_segment - 1:06d}"


def _merge(segments: list[Segment], dead: set[int], state: FolderState):
    """Apply the size-tiered merge policy (segments.plan_merges); returns segments and dead ids left."""
    sizes = [len(s) for s in segments]
    dead_in = dead_counts(segments, dead)
    for start, end in reversed(plan_merges(sizes, dead_in)):
        parts = segments[start:end]
        merged = Segment.merge(_segment_name(state), parts, dead)
        dead -= {pid for p in parts for pid in p.passages}
        segments[start:end] = [merged] if len(merged) else []
    return segments, dead
