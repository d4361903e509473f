"""The Index contract, on a deterministic fake embedder: add, replace, remove,
persistence, refusal to mix models, damage detection, search vs brute force.

Tests taking ``store_settings`` run on both stores behind the seam (the
embedded files and Milvus Lite); the others test the embedded format itself."""

import json
import threading
from types import SimpleNamespace

import numpy as np
import pytest

import qa
from qa.storage import locks
from qa.storage.folder import snapshots as store
from qa.errors import CorruptIndexError, EmptyQuestionError, IndexMismatchError, UnknownDocumentError

from helpers import DOCS, add_all, open_index



def test_add_is_idempotent_and_replaces_changed_documents(store_settings, fake):
    idx = open_index(store_settings, fake)
    first = add_all(idx)
    assert sorted(first.added) == sorted(DOCS) and first.passages > 0
    calls = fake.embedded
    again = add_all(idx)
    assert sorted(again.unchanged) == sorted(DOCS) and not again.changed
    assert fake.embedded == calls  # same content: no work
    changed = idx.add_texts(["Bicycles now fly over mountains."], ids=["bikes"])
    assert changed.replaced == ("bikes",)
    hits = idx.search("bicycle wheels pedals gears", k=5)
    assert all("pedals" not in h.text for h in hits)  # the old version is gone
    assert any(h.doc_id == "bikes" and "fly" in h.text for h in hits)


def test_removed_document_is_never_returned(store_settings, fake):
    idx = open_index(store_settings, fake)
    add_all(idx)
    idx.remove("coffee")
    for q in ["coffee espresso beans roasted", "tea", "bicycle"]:
        assert all(h.doc_id != "coffee" for h in idx.search(q, k=10))
    reopened = open_index(store_settings, fake)
    assert all(h.doc_id != "coffee" for h in reopened.search("coffee espresso", k=10))
    with pytest.raises(UnknownDocumentError, match="qa list"):
        idx.remove("coffee")


def test_reopening_does_not_re_embed(store_settings, fake):
    add_all(open_index(store_settings, fake))
    calls = fake.embedded
    idx = open_index(store_settings, fake)
    assert sorted(d.doc_id for d in idx.documents()) == sorted(DOCS)
    assert add_all(idx).unchanged and fake.embedded == calls


def test_citation_offsets_point_into_the_document(store_settings, fake):
    idx = open_index(store_settings, fake)
    text = "Title line\n\n" + " ".join(f"Fact {i} is about tea number {i}." for i in range(40))
    idx.add_texts([text], ids=["facts"], titles=["Facts"])
    for h in idx.search("tea number 17", k=3):
        c = h.citation
        assert text[c.start : c.end] == h.text
        assert text[h.evidence.start : h.evidence.end] == h.evidence.text
        assert c.start <= h.evidence.start < h.evidence.end <= c.end
        assert c.line_start == text.count("\n", 0, c.start) + 1
        assert c.label.startswith(f"[{c.number}] facts, line")
    assert [h.citation.number for h in idx.search("tea", k=3)] == [1, 2, 3]


def test_search_matches_brute_force_and_is_deterministic(store_settings, fake):
    # Dense only, passage vectors only: comparable to the oracle of passage cosines.
    settings = store_settings.replace(dense_weight=1.0, sentence_weight=0.0)
    idx = open_index(settings, fake)
    texts = [f"document {i} mentions {' '.join(f'w{(i * j) % 50}' for j in range(8))}." for i in range(60)]
    idx.add_texts(texts, ids=[f"d{i}" for i in range(60)])
    q = "w3 w9 w27 mentions"
    hits = idx.search(q, k=5)
    qv = fake.embed([q])[0]
    # The index embeds title + text; titles of add_texts default to the id.
    vecs = fake.embed([f"d{i}\n{t}" for i, t in enumerate(texts)])
    cos = vecs @ qv
    oracle = np.argsort(-cos, kind="stable")[:5]
    # Rank by rank the oracle's cosines; passages of equal cosine may come in
    # another order (ties break on passage id, and Milvus's ids are hashes).
    assert np.allclose([cos[int(h.doc_id[1:])] for h in hits], cos[oracle], atol=1e-6)
    untied = [i for i in oracle if np.sum(np.isclose(cos, cos[i], atol=1e-6)) == 1]
    assert all(f"d{i}" in [h.doc_id for h in hits] for i in untied)
    assert [h.doc_id for h in idx.search(q, k=5)] == [h.doc_id for h in hits]
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_questions_empty_or_huge(store_settings, fake):
    idx = open_index(store_settings, fake)
    add_all(idx)
    for q in ["", "   \n\t"]:
        with pytest.raises(EmptyQuestionError):
            idx.search(q)
    answer = idx.answer("tea " * 50_000, k=2)
    assert answer.hits and "first" in answer.notes[0]


def test_other_model_or_chunking_is_refused_with_the_rebuild_command(store_settings, fake):
    add_all(open_index(store_settings, fake))

    class Other(type(fake)):
        name = "another-model"

    with pytest.raises(IndexMismatchError, match="qa index --rebuild"):
        open_index(store_settings, Other())
    with pytest.raises(IndexMismatchError, match="chunking"):
        open_index(store_settings.replace(passage_tokens=17), fake)
    rebuilt = qa.Index.open(settings=store_settings, embedder=Other(), rebuild=True)
    assert rebuilt.documents() == []


def test_damaged_index_is_detected(folders, fake):
    add_all(open_index(folders, fake))
    gen = folders.index_dir / (folders.index_dir / "CURRENT").read_text()
    segment = json.loads((gen / "manifest.json").read_text())["segments"][-1]
    (folders.index_dir / "segments" / segment / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(CorruptIndexError, match="qa index --rebuild"):
        open_index(folders, fake)
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["version"] = 999
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptIndexError, match="format version 999"):
        open_index(folders, fake)


def test_interrupted_commit_leaves_the_previous_snapshot_live(folders, fake, monkeypatch):
    idx = open_index(folders, fake)
    add_all(idx)

    def crash(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", crash)
    with pytest.raises(qa.errors.StorageFullError, match="nothing was changed"):
        idx.add_texts(["A new document about kites."], ids=["kites"])
    monkeypatch.undo()
    leftovers = [p.name for d in (folders.index_dir, folders.index_dir / "segments") for p in d.iterdir()
                 if p.name.startswith(".tmp-")]
    assert leftovers == []  # a failed commit takes its temporary folders with it
    reopened = open_index(folders, fake)
    assert sorted(d.doc_id for d in reopened.documents()) == sorted(DOCS)
    assert reopened.add_texts(["A new document about kites."], ids=["kites"]).added == ("kites",)


def test_sync_follows_the_corpus_folder(store_settings, fake):
    corpus = store_settings.corpus_dir
    (corpus / "a.txt").write_text("Apples grow on trees in orchards.")
    (corpus / "b.md").write_text("# Boats\n\nBoats float on water.")
    (corpus / "bad.txt").write_bytes(bytes(range(256)) * 4)
    idx = open_index(store_settings, fake)
    report = idx.sync()
    assert sorted(report.added) == ["a.txt", "b.md"] and any("bad.txt" in e for e in report.errors)
    idx.add_texts(["Hand-added text about tea."], ids=["manual"])
    (corpus / "a.txt").write_text("Apricots grow on trees too.")
    (corpus / "b.md").unlink()
    report = idx.sync()
    assert report.replaced == ("a.txt",) and report.removed == ("b.md",)
    assert "manual" in idx  # sync only owns what came from the corpus folder
    assert all(h.doc_id != "b.md" for h in idx.search("boats float water", k=10))
    assert not idx.sync().changed


def test_searches_during_writes_never_fail(store_settings, fake):
    idx = open_index(store_settings, fake)
    add_all(idx)
    errors, stop = [], threading.Event()

    def searcher():
        while not stop.is_set():
            try:
                hits = idx.search("tea coffee bicycle", k=3)
                assert hits and all(h.text for h in hits)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(15):
        idx.add_texts([f"Extra document {i} about tea and kites."], ids=[f"x{i}"])
        idx.remove(f"x{i}") if i % 2 else None
    stop.set()
    for t in threads:
        t.join()
    assert errors == []


def test_markdown_citations_name_the_nearest_heading(store_settings, fake):
    (store_settings.corpus_dir / "guide.md").write_text(
        "# Guide\n\nIntro text here.\n\n## Installing the kettle\n\nFill the kettle with water and press the red switch."
    )
    idx = open_index(store_settings, fake)
    idx.sync()
    hit = idx.search("press the red switch on the kettle", k=1)[0]
    assert hit.passage.heading in ("Guide", "Installing the kettle")
    assert hit.citation.label.startswith("[1] guide.md, line")


def test_paged_documents_cite_pages_and_page_ranges():
    from qa.answering import citation as _citation
    from qa.ingest import page_at, to_passages
    from qa.types import Chunk, Document

    def _passage(pid, doc, chunk):
        return to_passages([pid], doc, [chunk])[0]

    text = "Page one text.\fPage two starts. It goes on.\fPage three."
    pages = (0, text.index("Page two"), text.index("Page three"))
    doc = Document("r.pdf", "Report", text, source="r.pdf", format="pdf", pages=pages)
    assert [page_at(doc, o) for o in (0, pages[1] - 1, pages[1], len(text) - 1)] == [1, 1, 2, 3]
    spanning = _passage(7, doc, Chunk(5, pages[2] + 4, text[5 : pages[2] + 4], ()))
    assert (spanning.page_start, spanning.page_end) == (1, 3)
    assert _citation(2, spanning).label == "[2] r.pdf, pp. 1-3"
    single = _passage(8, doc, Chunk(pages[1], pages[1] + 8, text[pages[1] : pages[1] + 8], ()))
    assert _citation(1, single).label == "[1] r.pdf, p. 2"


def test_sync_does_not_reread_files_that_did_not_change(store_settings, fake, monkeypatch):
    import qa.ingest as index_module

    (store_settings.corpus_dir / "a.txt").write_text("Apples grow on trees in orchards.")
    idx = open_index(store_settings, fake)
    idx.sync()
    reads = []
    real = index_module.read_document
    monkeypatch.setattr(index_module, "read_document", lambda *a: reads.append(a[1]) or real(*a))
    assert open_index(store_settings, fake).sync().unchanged == ("a.txt",) and reads == []
    (store_settings.corpus_dir / "a.txt").write_text("Apples grow on trees in big orchards.")
    assert open_index(store_settings, fake).sync().replaced == ("a.txt",) and reads == ["a.txt"]


def test_rebuild_recovers_a_damaged_index(folders, fake):
    (folders.corpus_dir / "a.txt").write_text("Apples grow on trees in orchards.")
    idx = open_index(folders, fake)
    idx.sync()
    (folders.index_dir / "CURRENT").write_text("garbage")
    with pytest.raises(CorruptIndexError, match="qa index --rebuild"):
        open_index(folders, fake)
    rebuilt = qa.Index.open(settings=folders, embedder=fake, rebuild=True)
    assert rebuilt.sync().added == ("a.txt",)
    assert [h.doc_id for h in open_index(folders, fake).search("apples", k=1)] == ["a.txt"]


def test_a_second_writer_waits_then_gets_a_clear_error(store_settings, fake):
    idx = open_index(store_settings.replace(lock_timeout_s=0.3), fake)
    with locks.write_lock(store_settings.index_dir, 1.0):  # another writer (a separate lock file handle)
        with pytest.raises(qa.IndexLockedError, match="another process .* writing"):
            idx.add_texts(["Kites fly."], ids=["kites"])
    assert idx.add_texts(["Kites fly."], ids=["kites"]).added == ("kites",)


def test_eight_searchers_during_a_sync_see_old_or_new_state(store_settings, fake):
    corpus = store_settings.corpus_dir
    for i in range(30):
        (corpus / f"doc{i}.txt").write_text(f"Document {i} is about tea number {i}. " * 5)
    idx = open_index(store_settings, fake)
    idx.sync()
    errors, sizes, stop = [], set(), threading.Event()

    def searcher():
        while not stop.is_set():
            try:
                hits = idx.search("tea number", k=5)
                assert len(hits) == 5
                sizes.add(len(idx._snap.passages))
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(8)]
    for t in threads:
        t.start()
    for i in range(30, 60):
        (corpus / f"doc{i}.txt").write_text(f"Document {i} is about kites number {i}. " * 5)
    idx.sync()
    for i in range(0, 60, 2):
        (corpus / f"doc{i}.txt").unlink()
    idx.sync()
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(idx.documents()) == 30


def test_watch_indexes_changes_while_running(store_settings, fake):
    import time

    from qa.watch import start_watching

    idx = open_index(store_settings.replace(watch_interval_s=0.05), fake)
    reports = []
    stop = start_watching(idx, reports.append)
    try:
        (store_settings.corpus_dir / "late.txt").write_text("A late document about lanterns.")
        deadline = time.monotonic() + 20
        # The watcher reports after its sync returns: wait for the report, not only the document.
        while not any(r.added == ("late.txt",) for r in reports) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "late.txt" in idx and any(r.added == ("late.txt",) for r in reports)
        (store_settings.corpus_dir / "late.txt").unlink()
        deadline = time.monotonic() + 20  # each step gets its own time: a busy machine is slow, not wrong
        while "late.txt" in idx and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "late.txt" not in idx
    finally:
        stop.set()


def _watch_until(folder, sync, event: threading.Event, on_report=None, timeout: float = 10) -> bool:
    """Run the corpus watcher on ``folder`` with a fake index whose sync is
    ``sync``, until ``event`` is set; False if it never was."""
    from qa.watch import watch

    index = SimpleNamespace(settings=SimpleNamespace(corpus_dir=folder, watch_interval_s=0.01), sync=sync)
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(index, stop, on_report), daemon=True)
    thread.start()
    try:
        return event.wait(timeout)
    finally:
        stop.set()
        thread.join(5)


def test_watch_survives_an_unexpected_error_in_sync(tmp_path):
    # A long-running chat's watcher must not die on one failed sync (a store's
    # RPC error, say): it tries again at the next check.
    (tmp_path / "a.txt").write_text("text")
    calls, reports = [], []
    done = threading.Event()

    def flaky_sync():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("transient")
        done.set()
        return SimpleNamespace(changed=len(calls) == 2, errors=())

    assert _watch_until(tmp_path, flaky_sync, done, reports.append), "the watcher stopped after the first error"
    assert len(calls) >= 2 and len(reports) == 1


def test_watch_does_not_keep_a_file_added_and_removed_during_a_sync(tmp_path):
    # The sync reads the folder after the watcher's fingerprint: a file written
    # and deleted while a slow sync runs (Milvus Lite, a big batch) was indexed,
    # yet the folder looked unchanged afterwards, so it stayed in the index.
    late = tmp_path / "late.txt"
    indexed: set[str] = set()
    calls = []
    settled = threading.Event()

    def slow_sync():
        calls.append(1)
        if len(calls) == 1:
            late.write_text("written while the sync runs")
        before = set(indexed)
        indexed.clear()
        indexed.update(p.name for p in tmp_path.iterdir())
        if len(calls) == 1:
            late.unlink()  # and gone before the sync returns
        if len(calls) > 1 and indexed == before:
            settled.set()
        return SimpleNamespace(changed=indexed != before, errors=())

    assert _watch_until(tmp_path, slow_sync, settled), f"the watcher stopped syncing with {sorted(indexed)} indexed"
    assert indexed == set()


def test_renaming_a_corpus_file_embeds_nothing(store_settings, fake):
    corpus = store_settings.corpus_dir
    (corpus / "old-name.txt").write_text("Lanterns of paper float on the river in March. " * 10)
    idx = open_index(store_settings, fake)
    idx.sync()
    calls = fake.embedded
    (corpus / "old-name.txt").rename(corpus / "new-name.txt")
    report = idx.sync()
    assert report.added == ("new-name.txt",) and report.removed == ("old-name.txt",)
    assert report.passages == 0 and fake.embedded == calls
    hit = idx.search("paper lanterns river", k=1)[0]
    assert hit.doc_id == "new-name.txt" and hit.citation.label.startswith("[1] new-name.txt, line 1")
    assert (corpus / "new-name.txt").read_text()[hit.citation.start : hit.citation.end] == hit.text


def test_duplicate_documents_are_reported(store_settings, fake):
    (store_settings.corpus_dir / "a.txt").write_text("Same words in two files.")
    (store_settings.corpus_dir / "copy of a.txt").write_text("Same words in two files.")
    idx = open_index(store_settings, fake)
    idx.sync()
    warnings = {d.doc_id: d.warnings for d in idx.documents()}
    assert warnings["copy of a.txt"] == ["same content as a.txt"] or warnings["a.txt"] == ["same content as copy of a.txt"]
    assert len(idx.search("same words two files", k=5)) == 1  # shown once


def test_fusion_blends_the_best_sentence_into_the_dense_score():
    from qa.ranking import fuse

    ids = np.array([7, 3])
    dense = np.array([0.50, 0.45])  # 7 matches as a whole a little better ...
    sentence = np.array([0.52, 0.80])  # ... but one sentence of 3 matches far better
    lexical = np.array([4.0, 2.0])
    assert [s.passage_id for s in fuse(ids, dense, lexical, 1.0)] == [7, 3]
    out = fuse(ids, dense, lexical, 1.0, sentence, 0.6)
    assert [s.passage_id for s in out] == [3, 7]
    assert out[0].fused == pytest.approx(0.4 * 0.45 + 0.6 * 0.80)
    assert (out[0].dense, out[0].sentence, out[0].lexical) == (0.45, 0.80, 2.0)  # each part kept for the explanation
    # BM25 is scaled by the query's best score, then weighted against the dense side.
    mixed = {s.passage_id: s.fused for s in fuse(ids, dense, lexical, 0.8, sentence, 0.6)}
    assert mixed[7] == pytest.approx(0.8 * (0.4 * 0.50 + 0.6 * 0.52) + 0.2 * 1.0)
    assert mixed[3] == pytest.approx(0.8 * (0.4 * 0.45 + 0.6 * 0.80) + 0.2 * 0.5)
    # Without sentence scores the passage cosine stands in for them: weight has no effect.
    assert [s.fused for s in fuse(ids, dense, lexical, 0.8, None, 0.6)] == pytest.approx([s.fused for s in fuse(ids, dense, lexical, 0.8)])


def test_close_scores_show_variety_across_documents():
    from qa.ranking import Scored, collapse

    docs = {1: "a", 2: "a", 3: "b", 4: "a", 5: "c"}
    cands = [Scored(i, 0, 0, f) for i, f in [(1, 0.90), (2, 0.89), (3, 0.88), (4, 0.80), (5, 0.70)]]
    pick = lambda **kw: [c.passage_id for c in collapse(  # noqa: E731
        cands, key_span=lambda c: (c.passage_id * 100, c.passage_id * 100 + 50), key_doc=lambda c: docs[c.passage_id],
        key_text=lambda c: str(c.passage_id), limit=4, **kw)]
    assert pick() == [1, 3, 2, 4]  # b's close second place goes ahead of a's second passage
    assert pick(same_doc_penalty=0.0) == [1, 2, 3, 4]
    assert pick(same_doc_penalty=1.0) == [1, 3, 5, 2]


def test_overlapping_and_identical_passages_are_collapsed():
    from qa.ranking import Scored, collapse

    spans = {1: (0, 100), 2: (60, 160), 3: (80, 120), 4: (500, 600)}
    texts = {1: "x", 2: "y", 3: "z", 4: "x"}
    cands = [Scored(i, 0, 0, 1.0 - i / 10) for i in spans]
    out = collapse(cands, key_span=lambda c: spans[c.passage_id], key_doc=lambda c: "d",
                   key_text=lambda c: texts[c.passage_id], limit=5, same_doc_penalty=0.0)
    # 2 overlaps 1 by 40% (kept), 3 lies inside 1 and 2 (dropped), 4 repeats 1's text (dropped).
    assert [c.passage_id for c in out] == [1, 2]
