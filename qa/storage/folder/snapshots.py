"""The index folder on disk: a versioned, snapshot-per-commit format.

Layout::

    index_dir/
      CURRENT            name of the live snapshot, e.g. "gen-000007"
      gen-000007/
        manifest.json    format version, model, backend, dimension, chunking,
                         BM25 parameters, documents, the segments it is made
                         of, dead passage ids
        segments.txt     the segment names alone, for garbage collection
      segments/
        seg-000003/      immutable once written (see segments.py)
          vectors.faiss  FAISS index (passage id -> unit vector)
          passages.jsonl one passage per line, in id order (memory-mapped)
          passages.idx.npy  id and byte span of each line
          lexical/       term frequencies for BM25, and the parameters they were counted with
          sentences/     int8 sentence vectors for the evidence step
      .lock              held by the one process writing (qa/storage/locks.py)
      .sync.lock         held by the one process syncing

A commit writes its new segment (if any) into a temporary folder, fsyncs it
and renames it into place, then does the same with the snapshot folder, then
atomically replaces ``CURRENT``. A crash at any point leaves ``CURRENT``
naming a complete snapshot (the old or the new one) whose segments are all
on disk; readers that opened the old snapshot keep reading it undisturbed.
Segments no snapshot refers to are deleted after the switch.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ...errors import CorruptIndexError, IndexMismatchError, StorageFullError
from .. import FORMAT, FORMAT_VERSION, REBUILD_HINT, Bm25Params, DocInfo, Manifest
from .bm25 import TermFrequencies
from .passages import PassageTable
from .segments import Segment, views
from .sentvectors import SentenceVectors
from .vectors import VectorIndex


@dataclass
class FolderState:
    """What the folder store adds to the manifest: which segments hold the
    passages, which of their passages are dead, and the next free numbers."""

    segments: list[str] = field(default_factory=list)  # oldest first
    dead: list[int] = field(default_factory=list)  # removed passage ids still stored in a segment
    next_id: int = 0
    next_segment: int = 0

    def copy(self) -> "FolderState":
        return FolderState(list(self.segments), list(self.dead), self.next_id, self.next_segment)


def manifest_json(manifest: Manifest, state: FolderState) -> str:
    """manifest.json: the format, the manifest, and the folder's state."""
    # Built by hand, not with asdict (a deep copy): this runs on every commit.
    data = {"format": FORMAT, "version": FORMAT_VERSION}
    data.update({f.name: getattr(manifest, f.name) for f in fields(manifest) if f.name != "documents"})
    data["documents"] = {k: {**vars(d), "passage_ids": _runs(d.passage_ids)} for k, d in manifest.documents.items()}
    data.update(vars(state))
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), check_circular=False)


def read_manifest(raw: str, where: Path) -> tuple[Manifest, FolderState]:
    """The manifest and state of a manifest.json; CorruptIndexError naming the fix when it is not one."""
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise CorruptIndexError(f"{where} is not a docqa index; {REBUILD_HINT}")
        if data.get("version") != FORMAT_VERSION:
            raise CorruptIndexError(
                f"{where} has index format version {data.get('version')}, this docqa reads "
                f"version {FORMAT_VERSION}; {REBUILD_HINT}"
            )
        docs = {}
        for k, v in data.pop("documents").items():
            v["passage_ids"] = [i for a, b in v["passage_ids"] for i in range(a, b)]
            docs[k] = DocInfo(**v)
        state = FolderState(**{f.name: data.pop(f.name) for f in fields(FolderState)})
        data.pop("format"), data.pop("version")
        return Manifest(documents=docs, **data), state
    except CorruptIndexError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CorruptIndexError(f"{where} is damaged ({exc}); {REBUILD_HINT}") from exc


def _runs(ids: list[int]) -> list[list[int]]:
    """[[start, stop), ...] of sorted ids: a document's passages are consecutive, so usually one run."""
    if ids and ids[-1] - ids[0] + 1 == len(ids):  # the usual case, without a loop
        return [[ids[0], ids[-1] + 1]]
    out: list[list[int]] = []
    for i in ids:
        if out and out[-1][1] == i:
            out[-1][1] = i + 1
        else:
            out.append([i, i + 1])
    return out


class Snapshot:
    """One consistent state of the index, as read from or written to disk (a :class:`qa.storage.View`)."""

    def __init__(self, manifest: Manifest, state: FolderState, segments: list[Segment], generation: int = 0):
        self.manifest = manifest
        self.state = state
        self.segments = segments
        self.generation = generation
        v = views(segments, frozenset(state.dead), Bm25Params.from_dict(manifest.lexical))
        # Read views over all segments, dead passages hidden.
        self.passages, self.vectors, self.lexical, self.sentences = v.passages, v.vectors, v.lexical, v.sentences


def current_generation(index_dir: Path) -> int | None:
    """The live snapshot's number, or None for an index folder not yet written."""
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    if not name.startswith("gen-") or not name[4:].isdigit():
        raise CorruptIndexError(f"{index_dir}/CURRENT is damaged; {REBUILD_HINT}")
    return int(name[4:])


# Segments are immutable: one loaded by this process is reused by later
# snapshots instead of being read again (keyed by folder and name).
_loaded: dict[tuple[str, str], Segment] = {}
_loaded_lock = threading.Lock()


def load(index_dir: Path) -> Snapshot | None:
    """Read the live snapshot, or None when the folder holds no index yet."""
    for _ in range(5):
        gen = current_generation(index_dir)
        if gen is None:
            return None
        try:
            return _load(index_dir, gen)
        except CorruptIndexError:
            # Two commits by another process can retire the snapshot named
            # by CURRENT while it is read; damage stays where it is.
            if current_generation(index_dir) == gen:
                raise
    return _load(index_dir, current_generation(index_dir))


def _load(index_dir: Path, gen: int) -> Snapshot:
    folder = index_dir / _gen_name(gen)
    try:
        manifest, state = read_manifest((folder / "manifest.json").read_text("utf-8"), index_dir)
        params = Bm25Params.from_dict(manifest.lexical)
        segments = [_load_segment(index_dir, name, manifest.dim, params) for name in state.segments]
    except (CorruptIndexError, IndexMismatchError):
        raise
    except Exception as exc:  # FAISS, numpy, scipy and json each raise their own types
        raise CorruptIndexError(f"index at {index_dir} cannot be read ({exc}); {REBUILD_HINT}") from exc
    snap = Snapshot(manifest, state, segments, gen)
    expected = np.fromiter((pid for d in manifest.documents.values() for pid in d.passage_ids), np.int64)
    stored = np.concatenate([s.passages.ids for s in segments]) if segments else np.zeros(0, np.int64)
    live = np.setdiff1d(stored, np.asarray(state.dead, np.int64))
    if len(live) != len(expected) or not np.array_equal(live, np.sort(expected)):
        raise CorruptIndexError(
            f"index at {index_dir} is inconsistent ({len(snap.passages)} live passages, "
            f"{len(expected)} listed); " + REBUILD_HINT
        )
    return snap


def _load_segment(index_dir: Path, name: str, dim: int, params: Bm25Params) -> Segment:
    folder = index_dir / "segments" / name
    key = (str(index_dir.resolve()), name)
    with _loaded_lock:
        seg = _loaded.get(key)
    # A cached copy is used only while its files are the ones it was read from.
    if seg is not None and getattr(seg, "stamp", None) == _stamp(folder):
        return seg
    vectors = VectorIndex.load(folder / "vectors.faiss", dim)
    lexical = TermFrequencies.load(folder / "lexical", params)
    sentences = SentenceVectors.load(folder / "sentences", dim)
    passages = PassageTable.open(folder)
    if not (len(vectors) == len(passages) == len(lexical) == len(sentences)):
        raise CorruptIndexError(
            f"segment {name} of {index_dir} is inconsistent ({len(vectors)} vectors, {len(passages)} passages); "
            + REBUILD_HINT
        )
    seg = Segment(name, vectors, lexical, passages, sentences, saved=True)
    seg.stamp = _stamp(folder)
    with _loaded_lock:
        _loaded[key] = seg
    return seg


def _stamp(folder: Path) -> tuple:
    out = []
    for name in ("vectors.faiss", "passages.jsonl", "lexical/tf.npz", "sentences/vectors.npy"):
        try:
            st = (folder / name).stat()
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def save(index_dir: Path, snap: Snapshot) -> int:
    """Write ``snap`` as the next snapshot and make it live; returns its number.

    A write that fails (a full disk, a read-only folder) removes what it had
    written and raises :class:`StorageFullError`: ``CURRENT`` still names the
    snapshot before, whole.
    """
    new = [seg for seg in snap.segments if not seg.saved]
    try:
        return _save(index_dir, snap, new)
    except OSError as exc:
        _discard(index_dir, new)
        raise StorageFullError(write_failure(index_dir, exc)) from None


def write_failure(index_dir: Path, exc: OSError) -> str:
    """The one line a user gets for a failed write of the index."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"cannot write the index at {index_dir}: no space left on the device; nothing was changed "
                "(free some space, or set QA_INDEX_DIR to a folder on a disk with room, and try again)")
    return f"cannot write the index at {index_dir} ({exc.strerror or exc}); nothing was changed"


def _discard(index_dir: Path, new: list[Segment]) -> None:
    """Remove what a failed save of this process left: its temporary folders,
    the segments it renamed into place, a half-written CURRENT.tmp."""
    pid = f"-{os.getpid()}"
    for child in _temporaries(index_dir):
        if child.name.endswith(pid):
            shutil.rmtree(child, ignore_errors=True)
    for seg in new:
        if not seg.saved:
            shutil.rmtree(index_dir / "segments" / seg.name, ignore_errors=True)
    with contextlib.suppress(OSError, CorruptIndexError):
        (index_dir / "CURRENT.tmp").unlink(missing_ok=True)
        live = current_generation(index_dir) or 0
        for child in index_dir.iterdir():  # a snapshot folder renamed into place but never made live
            if child.name.startswith("gen-") and child.name[4:].isdigit() and int(child.name[4:]) > live:
                shutil.rmtree(child, ignore_errors=True)


def remove_orphans(index_dir: Path) -> None:
    """Remove temporary folders whose writer process is gone (a crash, a full disk)."""
    for child in _temporaries(index_dir):
        _remove_if_orphan(child)


def _temporaries(index_dir: Path) -> list[Path]:
    """The temporary folders of commits in progress (or abandoned) in an index folder."""
    out = []
    for folder in (index_dir, index_dir / "segments"):
        try:
            out += [c for c in folder.iterdir() if c.name.startswith(".tmp-")]
        except OSError:
            continue
    return out


def next_segment_number(index_dir: Path) -> int:
    """One past the highest segment number on disk: a new index written beside
    an old one (a rebuild) must not reuse a name the old one still reads."""
    try:
        names = [c.name for c in (index_dir / "segments").iterdir()]
    except OSError:
        return 0
    numbers = [int(n[4:]) for n in names if n.startswith("seg-") and n[4:].isdigit()]
    return max(numbers, default=-1) + 1


def _save(index_dir: Path, snap: Snapshot, new: list[Segment]) -> int:
    index_dir.mkdir(parents=True, exist_ok=True)
    seg_dir = index_dir / "segments"
    seg_dir.mkdir(exist_ok=True)
    for seg in new:
        _save_segment(seg_dir, seg)
    # Number past every snapshot folder, not just CURRENT's: a rebuild over a
    # damaged CURRENT must not reuse a name that is still on disk.
    existing = [int(c.name[4:]) for c in index_dir.iterdir() if c.name.startswith("gen-") and c.name[4:].isdigit()]
    gen = max(existing, default=0) + 1
    tmp = index_dir / f".tmp-{_gen_name(gen)}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    _write(tmp / "manifest.json", manifest_json(snap.manifest, snap.state))
    # The segment names again, alone: garbage collection reads them without parsing the manifest.
    _write(tmp / "segments.txt", "".join(f"{n}\n" for n in snap.state.segments))
    _fsync_tree(tmp)
    final = index_dir / _gen_name(gen)
    shutil.rmtree(final, ignore_errors=True)  # a leftover of a crash after rename, never live
    os.rename(tmp, final)
    _fsync_dir(index_dir)
    _write(index_dir / "CURRENT.tmp", _gen_name(gen))
    os.replace(index_dir / "CURRENT.tmp", index_dir / "CURRENT")
    for seg in new:  # live now: a failure from here on must not discard them
        seg.saved = True
    with contextlib.suppress(OSError):
        _fsync_dir(index_dir)
    for seg in new:
        seg.stamp = _stamp(index_dir / "segments" / seg.name)
        with _loaded_lock:
            _loaded[(str(index_dir.resolve()), seg.name)] = seg
    snap.generation = gen
    with contextlib.suppress(OSError):  # the commit is done; leftovers go at the next one
        _collect_garbage(index_dir, keep=gen)
    return gen


def _save_segment(seg_dir: Path, seg: Segment) -> None:
    tmp = seg_dir / f".tmp-{seg.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    seg.vectors.save(tmp / "vectors.faiss")
    seg.lexical.save(tmp / "lexical")
    seg.sentences.save(tmp / "sentences")
    seg.passages.save(tmp)
    _fsync_tree(tmp)
    final = seg_dir / seg.name
    # A folder of this name can only be a leftover of a crashed commit (live
    # segments are never written again): replace it.
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    _fsync_dir(seg_dir)


def _collect_garbage(index_dir: Path, keep: int) -> None:
    # Keep the previous snapshot too: a reader in another process may have
    # read CURRENT just before the switch and still be loading it.
    referenced: set[str] = set()
    for child in index_dir.iterdir():
        name = child.name
        if name.startswith("gen-") and name[4:].isdigit():
            if int(name[4:]) < keep - 1:
                shutil.rmtree(child, ignore_errors=True)
            else:
                try:
                    referenced.update((child / "segments.txt").read_text("utf-8").split())
                except OSError:
                    return  # unreadable snapshot: delete no segment rather than a live one
        elif name.startswith(".tmp-gen-"):
            _remove_if_orphan(child)
    seg_dir = index_dir / "segments"
    for child in seg_dir.iterdir() if seg_dir.is_dir() else ():
        if child.name.startswith(".tmp-"):
            _remove_if_orphan(child)
        elif child.name not in referenced:
            shutil.rmtree(child, ignore_errors=True)
            with _loaded_lock:
                _loaded.pop((str(index_dir.resolve()), child.name), None)


def _remove_if_orphan(tmp: Path) -> None:
    """Remove a temporary folder whose writer process is gone."""
    pid = tmp.name.rsplit("-", 1)[-1]
    if pid.isdigit() and not _alive(int(pid)):
        shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _gen_name(gen: int) -> str:
    return f"gen-{gen:06d}"


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_tree(folder: Path) -> None:
    for root, dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
