"""The parts that make docqa fast: the ONNX int8 embedder, sentence vectors
pooled at index time (no model call for evidence), the size-chosen FAISS
index, and the backend recorded in the manifest."""

import json

import numpy as np
import pytest

import qa
import qa.vectors as vectors_mod
from qa import store
from qa.embedding import INT8_VARIANTS, load_embedder
from qa.onnx_model import BATCH_JOB, available_cores, batch_sessions, int8_backend_for_this_cpu
from qa.errors import IndexMismatchError, ModelLoadError
from qa.pooling import pool_spans
from qa.sentvectors import SentenceVectors
from qa.vectors import VectorIndex

from conftest import SEED, SEED_QUESTION


def unit(rows):
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_pool_spans_averages_each_sentences_own_tokens():
    hidden = np.array([[9, 9], [1, 0], [1, 0], [0, 1], [9, 9]], np.float32)  # [CLS] a b c [SEP]
    offsets = [(0, 0), (0, 3), (4, 7), (9, 12), (0, 0)]
    out = pool_spans(hidden, offsets, [(0, 8), (9, 13), (20, 30)], fallback=np.array([0.6, 0.8], np.float32))
    assert np.allclose(out[0], [1, 0]) and np.allclose(out[1], [0, 1])
    assert np.allclose(out[2], [0.6, 0.8])  # a span cut off by truncation keeps the passage's vector


def test_sentence_vectors_change_save_and_memory_map(tmp_path):
    rng = np.random.default_rng(0)
    rows = {pid: unit(rng.normal(size=(pid % 3 + 1, 8))) for pid in range(6)}
    sv = SentenceVectors(8).changed([], rows)
    assert len(sv) == 6
    for pid, r in rows.items():
        assert np.allclose(sv.get(pid), r, atol=0.01)  # int8: error below 1/127 per component
    sv2 = sv.changed([1, 4], {9: unit(rng.normal(size=(2, 8)))})
    assert len(sv2) == 5 and len(sv) == 6  # the old one is untouched (readers keep it)
    with pytest.raises(KeyError):
        sv2.get(4)
    sv2.save(tmp_path / "s")
    back = SentenceVectors.load(tmp_path / "s", 8)
    assert isinstance(back._data, np.memmap)
    assert np.array_equal(back.get(9), sv2.get(9)) and np.array_equal(back.get(5), sv.get(5))


def test_best_sentence_of_many_passages_in_one_product():
    rng = np.random.default_rng(2)
    rows = {pid: unit(rng.normal(size=(pid % 4 + 1, 8))) for pid in (2, 5, 7, 11, 30)}
    sv = SentenceVectors(8).changed([], rows)
    q = unit(rng.normal(size=(1, 8)))[0]
    ids = [30, 2, 11, 7]  # any order, as the candidates come
    want = [max(float(r @ q) for r in sv.get(pid)) for pid in ids]
    assert np.allclose(sv.best(ids, q), want, atol=1e-6)
    assert len(sv.best([], q)) == 0
    with pytest.raises(KeyError):
        sv.best([2, 3], q)  # 3 was never stored


def test_vector_index_moves_to_ivf_past_the_size_limit_and_stays_exact_on_removal(monkeypatch, tmp_path):
    monkeypatch.setattr(vectors_mod, "ANN_MIN", 3000)
    rng = np.random.default_rng(1)
    # Clustered, as text embeddings are (topics), not uniform on the sphere.
    centres = rng.normal(size=(40, 32))
    x = unit(centres[rng.integers(40, size=4000)] + 0.5 * rng.normal(size=(4000, 32)))
    vi = VectorIndex(32)
    vi.add(np.arange(2000), x[:2000])
    assert vi.kind == "flat"
    vi.add(np.arange(2000, 4000), x[2000:])
    assert vi.kind == "ivf-sq8" and len(vi) == 4000
    assert vi.remove([7, 8]) == 2
    _, ids = vi.search(x[7:10], 5)
    assert 7 not in ids and 8 not in ids[1] and ids[2][0] == 9  # removed never returned; others found
    assert np.allclose(vi.reconstruct([9])[0], x[9], atol=0.02)
    vi.save(tmp_path / "v.faiss")
    back = VectorIndex.load(tmp_path / "v.faiss", 32)
    assert back.kind == "ivf-sq8" and len(back) == 3998
    assert sorted(back.ids()) == sorted(set(range(4000)) - {7, 8})
    # Recall of the approximate index against exact search over the same vectors.
    q = unit(centres[rng.integers(40, size=50)] + 0.5 * rng.normal(size=(50, 32)))
    _, approx = back.search(q, 10)
    _, exact = back.exact().search(q, 10)
    assert np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)]) >= 0.9


def test_answer_calls_the_model_once_and_embeds_no_sentences(folders, fake):
    idx = qa.Index.open(settings=folders, embedder=fake)
    idx.add_texts(["Green tea is steamed. Black tea is oxidised. Coffee is roasted."] * 1, ids=["t"])
    before = fake.embedded
    ans = idx.answer("how is green tea made?", k=3)
    assert fake.embedded - before == 1  # the question only: sentence vectors are stored
    assert ans.hits[0].evidence.text == "Green tea is steamed."


def test_the_backend_is_recorded_and_a_different_one_is_refused(folders, fake):
    fake.name, fake.backend = folders.model, "torch"  # as if embedded by the torch backend
    idx = qa.Index.open(settings=folders, embedder=fake)
    idx.add_texts(["some text here."], ids=["a"])
    manifest = json.loads((folders.index_dir / (folders.index_dir / "CURRENT").read_text().strip() / "manifest.json").read_text())
    assert manifest["backend"] == "torch" and manifest["version"] == store.FORMAT_VERSION
    with pytest.raises(IndexMismatchError, match="QA_BACKEND=torch"):
        qa.Index.open(settings=folders)  # configured: onnx-int8


def test_unknown_backend_says_which_ones_exist(folders):
    with pytest.raises(ModelLoadError, match="onnx-int8, onnx, torch"):
        load_embedder(folders.replace(backend="tensorrt"))


def test_onnx_backend_refuses_a_model_it_cannot_export(tmp_path):
    (tmp_path / "model").mkdir()
    with pytest.raises(ModelLoadError, match="QA_BACKEND=torch"):
        load_embedder(qa.Settings(model=str(tmp_path / "model"), model_cache_dir=tmp_path / "cache"))


@pytest.mark.slow
def test_int8_vectors_match_the_torch_model(real_embedder):
    torch_model = load_embedder(qa.Settings(backend="torch"))
    assert real_embedder.backend == int8_backend_for_this_cpu()  # "onnx-int8" as this CPU runs it
    texts = [SEED.read_text()[:600], SEED_QUESTION, "A short one."]
    a, b = real_embedder.embed(texts), torch_model.embed(texts)
    assert np.all(np.sum(a * b, axis=1) > 0.97)
    assert real_embedder.count_tokens(SEED_QUESTION) == torch_model.count_tokens(SEED_QUESTION)
    # Sentence vectors pooled inside a passage agree between the backends too.
    _, sa = real_embedder.embed_passages([texts[0]], [[(0, 120), (121, 300)]])
    _, sb = torch_model.embed_passages([texts[0]], [[(0, 120), (121, 300)]])
    assert np.all(np.sum(sa[0] * sb[0], axis=1) > 0.95)


def test_batch_jobs_get_one_session_per_core_up_to_a_bound():
    # Threads of each session.
    assert batch_sessions(1) == [1]
    assert batch_sessions(2) == [1, 1]  # this machine: two one-thread sessions
    assert batch_sessions(8) == [1] * 8
    assert batch_sessions(12) == [2, 2, 2, 2, 1, 1, 1, 1]  # at most 8 copies of the weights, every core used
    assert batch_sessions(16) == [2] * 8


@pytest.mark.slow
def test_a_text_gets_the_same_vector_alone_and_in_a_batch_job(real_embedder):
    # A batch job (indexing) runs on its own sessions, each taking the next text
    # when free; a question or a small add runs on the question session. A passage
    # must get the same vector either way, or re-adding a file would change it.
    words = SEED.read_text().split()
    texts = [" ".join(words[i : i + 7 + 11 * (i % 5)]) for i in range(0, 40 * 9, 9)]
    assert len(texts) > BATCH_JOB
    in_job = real_embedder.embed(texts)
    assert len(real_embedder._batch_sessions) == len(batch_sessions(available_cores()))
    alone = np.concatenate([real_embedder.embed([t]) for t in texts])
    np.testing.assert_allclose(in_job, alone, rtol=0, atol=1e-6)
    # Sentence vectors pooled in a batch job match the small call's too.
    spans = [[(0, len(t) // 2), (len(t) // 2 + 1, len(t))] for t in texts]
    _, job_sents = real_embedder.embed_passages(texts, spans)
    for t, sp, got in zip(texts[:5], spans, job_sents):
        np.testing.assert_allclose(got, real_embedder.embed_passages([t], [sp])[1][0], rtol=0, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("recorded", ("onnx-int8", *INT8_VARIANTS))  # "onnx-int8": an index from before the variants
def test_an_index_is_asked_with_its_own_int8_variant_on_any_cpu(folders, fake, recorded):
    # An index moved to a machine whose CPU picks the other int8 weights (or
    # built before signed weights existed) keeps embedding questions its way.
    fake.name, fake.backend = folders.model, recorded
    qa.Index.open(settings=folders, embedder=fake).add_texts(["Green tea is steamed."], ids=["a"])
    idx = qa.Index.open(settings=folders)  # configured: onnx-int8, whatever this CPU would pick
    assert idx.embedder.backend == {"onnx-int8": "onnx-int8-u8"}.get(recorded, recorded)
    torch_model = load_embedder(qa.Settings(backend="torch"))
    texts = [SEED.read_text()[:600], SEED_QUESTION]
    assert np.all(np.sum(idx.embedder.embed(texts) * torch_model.embed(texts), axis=1) > 0.97)
    # A new index records what "onnx-int8" means here.
    fresh = qa.Index.open(settings=folders.replace(index_dir=folders.index_dir.parent / "new"))
    fresh.add_texts(["Green tea is steamed."], ids=["a"])
    assert fresh._snap.manifest.backend == int8_backend_for_this_cpu()


@pytest.mark.slow
def test_a_torch_index_answers_the_seed_question_like_the_shipped_one(tmp_path, seed_index):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / SEED.name).write_bytes(SEED.read_bytes())
    settings = qa.Settings(corpus_dir=corpus, index_dir=tmp_path / "i", backend="torch")
    idx = qa.Index.open(settings=settings)
    idx.sync()
    ours = seed_index.answer(SEED_QUESTION, k=3)
    theirs = idx.answer(SEED_QUESTION, k=3)
    assert ours.found and theirs.found
    assert ours.hits[0].citation.label == theirs.hits[0].citation.label


# ------------------------------------------------------------------ segments
def test_bm25_matches_bm25s_and_is_the_same_over_segments():
    import bm25s

    from qa.lexical import B, K1, Bm25, LexicalIndex, terms

    texts = [f"document {i} about {'tea ' * (i % 4)}kettles and {'wind ' * (i % 3)}kites number{i % 7}" for i in range(60)]
    ids = np.arange(60)
    oracle = bm25s.BM25(k1=K1, b=B)
    oracle.index([terms(t) for t in texts], show_progress=False)
    whole = Bm25([LexicalIndex.build(ids, texts)])
    parts = [LexicalIndex.build(ids[:25], texts[:25]), LexicalIndex.build(ids[25:], texts[25:])]
    split = Bm25(parts)
    merged = Bm25([LexicalIndex.merge(parts, [np.ones(25, bool), np.ones(35, bool)])])
    for q in ["tea kettles", "wind wind kites", "number3 tea"]:
        ref = oracle.get_scores([t for t in terms(q) if t in oracle.vocab_dict])
        for b in (whole, split, merged):
            assert np.allclose(b.dense(b.scores(q)), ref, atol=1e-5)
            top = b.top(b.scores(q), 5)
            assert np.allclose(b.lookup(b.scores(q), top), ref[top], atol=1e-5)  # ids are positions here
    dead = Bm25(parts, np.array([3, 30]))
    assert dead.dense(dead.scores("tea kettles"))[[3, 30]].tolist() == [0, 0]
    assert 3 not in dead.top(dead.scores("tea kettles"), 60)


def test_a_documents_own_words_stay_rare_however_many_passages_repeat_them():
    # Document frequency counts a document's k passages holding a term as
    # sqrt(k): a document's subject word in four of its passages counts as
    # much as a word in one passage each of two documents (per passage: twice).
    from qa.lexical import DF_DAMPING, Bm25, LexicalIndex, documents_of

    assert DF_DAMPING == 0.5
    assert documents_of(["a", "a", "b", "c", "c", "a"]).tolist() == [0, 0, 1, 2, 2, 3]
    docs = ["kettle"] * 4 + [f"filler{i}" for i in range(40)]
    texts = [f"kettle boils water part {i}" for i in range(4)] + [
        f"{d} teapot" if d in ("filler0", "filler1") else f"{d} text" for d in docs[4:]]
    b = Bm25([LexicalIndex.build(np.arange(44), texts, documents_of(docs))])
    idf = b.scores("kettle teapot").idf
    assert idf["kettl"] == pytest.approx(idf["teapot"])
    plain = Bm25([LexicalIndex.build(np.arange(44), texts)]).scores("kettle teapot").idf
    assert plain["kettl"] < plain["teapot"]  # the per-passage count it replaces
    # One document alone keeps its order: a word in one passage is rarer than one in three.
    one = ["tea kettle", "tea cup", "tea pot", "saucer"]
    idf = Bm25([LexicalIndex.build(np.arange(4), one, documents_of(["d"] * 4))]).scores("tea saucer").idf
    assert idf["saucer"] > idf["tea"] > 0


def test_damped_counts_survive_saving_merging_and_removal(tmp_path):
    from qa.lexical import Bm25, LexicalIndex, documents_of

    docs = [f"d{i // 6}" for i in range(60)]  # ten documents of six passages
    texts = [f"{d} shared {'alpha ' * (i % 3)}beta{i % 5} gamma{i % 11}" for i, d in enumerate(docs)]
    ids = np.arange(60)
    whole = LexicalIndex.build(ids, texts, documents_of(docs))
    # Segments split at a document boundary, as the index writes them.
    parts = [LexicalIndex.build(ids[:24], texts[:24], documents_of(docs[:24])),
             LexicalIndex.build(ids[24:], texts[24:], documents_of(docs[24:]))]
    parts[1].save(tmp_path / "p1")
    parts[1] = LexicalIndex.load(tmp_path / "p1")
    merged = LexicalIndex.merge(parts, [np.ones(24, bool), np.ones(36, bool)])
    for q in ["d3 alpha", "beta2 gamma7 shared"]:
        ref = Bm25([whole]).dense(Bm25([whole]).scores(q))
        for b in (Bm25(parts), Bm25([merged])):
            assert np.allclose(b.dense(b.scores(q)), ref, atol=1e-6)
    # Removing a document's passages drops it from the counts.
    keep = [np.ones(24, bool), np.asarray([not (24 <= i < 30) for i in range(24, 60)])]
    pruned = LexicalIndex.merge(parts, keep)
    rest = [i for i in range(60) if not 24 <= i < 30]
    rebuilt = LexicalIndex.build(ids[rest], [texts[i] for i in rest], documents_of([docs[i] for i in rest]))
    assert pruned.damped_n == pytest.approx(rebuilt.damped_n) == pytest.approx(9 * 6 ** 0.5)
    assert np.allclose(pruned.damped_df[[pruned.vocab[t] for t in rebuilt.vocab]], rebuilt.damped_df)


def test_a_segment_saved_before_damping_reads_as_plain_bm25(tmp_path):
    from qa.lexical import Bm25, LexicalIndex, documents_of

    texts = [f"kettle part {i}" for i in range(4)] + ["teapot", "cup", "saucer"]
    LexicalIndex.build(np.arange(7), texts, documents_of(["k"] * 4 + ["t", "c", "s"])).save(tmp_path / "old")
    for name in ("docs.npy", "damped_df.npy"):
        (tmp_path / "old" / name).unlink()
    old = Bm25([LexicalIndex.load(tmp_path / "old")])
    plain = Bm25([LexicalIndex.build(np.arange(7), texts)])
    assert np.allclose(old.dense(old.scores("kettle teapot")), plain.dense(plain.scores("kettle teapot")))


def test_bm25_skipping_common_terms_never_changes_a_score_or_the_top():
    # Common terms are scored only where they can matter (lexical.QueryScores):
    # the top k and every score looked up must equal the exhaustive ones.
    from qa.lexical import Bm25, LexicalIndex

    rng = np.random.default_rng(0)
    common, rare = ["which", "year", "people"], [f"w{i}" for i in range(200)]
    texts = [
        " ".join([w for w in common if rng.random() < 0.3] + list(rng.choice(rare, rng.integers(1, 6))) + ["which"] * int(rng.random() < 0.01) * 5)
        for _ in range(1500)
    ]
    b = Bm25([LexicalIndex.build(range(500), texts[:500]), LexicalIndex.build(range(500, 1500), texts[500:])], np.array([7, 900]))
    pruned = 0
    for _ in range(150):
        q = " ".join(list(rng.choice(common, rng.integers(1, 4))) + list(rng.choice(rare, rng.integers(0, 3))))
        full = b.dense(b.scores(q))
        for k in (1, 10, 64):
            s = b.scores(q)
            top = b.top(s, k)
            pruned += bool(s.common)  # the shortcut was taken (else top computed everything)
            ref = np.argsort(-full, kind="stable")[:k]
            assert np.allclose(full[top], full[ref][full[ref] > 0], atol=1e-5)
            asked = rng.choice(1500, 40, replace=False)
            assert np.allclose(b.lookup(s, asked), full[asked], atol=1e-5)
    assert pruned > 100  # the test exercised the shortcut, not only the fallback


def test_merge_policy_is_size_tiered():
    from qa.segments import plan_merges

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
    snap = store.load(folders.index_dir)
    assert len(snap.segments) == 1 and len(snap.passages) == 220
    assert len(snap.manifest.dead) < 0.25 * len(snap.segments[0])  # compacted on the way
    assert len(list(seg_dir.iterdir())) <= 2  # the live one (and the previous snapshot's): old ones deleted
