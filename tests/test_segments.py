"""Segments: the size-tiered merge policy, and a small add to a large index writing only a small segment."""

import qa
from qa.storage.folder import snapshots
from qa.storage.folder.segments import plan_merges


def test_merge_policy_is_size_tiered():
    assert plan_merges([1000], [0]) == []
    assert plan_merges([1000, 3], [0, 0]) == []  # one small add: nothing is rewritten
    assert plan_merges([1000, 100, 60], [0, 0, 0]) == [(1, 3)]  # the tail merges...
    assert plan_merges([1000, 400, 300], [0, 0, 0]) == [(0, 3)]  # ...and grows into the base
    assert plan_merges([1000, 10], [300, 0]) == [(0, 2)]  # a quarter dead: compact all


def test_adding_to_a_large_index_writes_only_a_small_segment(folders, fake):
    idx = qa.Index.open(settings=folders, embedder=fake)
    idx.add_texts([f"Base document {i} about tea number{i}." for i in range(300)], ids=[f"b{i}" for i in range(300)])
    seg_dir = folders.index_dir / "segments"
    (base,) = [p for p in seg_dir.iterdir()]
    before = (base / "lexical" / "tf.npz").stat()
    idx.add_texts(["A new note about kites and wind."], ids=["new"])
    names = sorted(p.name for p in seg_dir.iterdir())
    assert len(names) == 2 and base.name in names
    after = (base / "lexical" / "tf.npz").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)  # untouched
    assert idx.search("kites wind", k=1)[0].doc_id == "new"
    assert idx.search("tea number7", k=1)[0].doc_id == "b7"
    idx.remove("b7")  # removal masks the passage; the base segment is not rewritten
    assert all(h.doc_id != "b7" for h in idx.search("tea number7", k=20))
    assert (base / "lexical" / "tf.npz").stat().st_mtime_ns == before.st_mtime_ns
    reopened = qa.Index.open(settings=folders, embedder=fake)
    assert len(reopened) == 300 and all(h.doc_id != "b7" for h in reopened.search("tea number7", k=20))
    for i in range(80):  # a quarter removed: compacted into one segment, dead passages gone
        idx.remove(f"b{100 + i}")
    snap = snapshots.load(folders.index_dir)
    assert len(snap.segments) == 1 and len(snap.passages) == 220
    assert len(snap.state.dead) < 0.25 * len(snap.segments[0])  # compacted on the way
    assert len(list(seg_dir.iterdir())) <= 2  # the live one (and the previous snapshot's): old ones deleted
