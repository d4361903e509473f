"""BM25 over segments: bm25s's scores whatever the segmentation, document
frequency damped within a document, common terms skipped only where they
cannot matter, and the parameters saved with every segment and checked."""

import json

import numpy as np
import pytest

import qa
from qa.analysis import terms
from qa.errors import IndexMismatchError
from qa.storage import Bm25Params
from qa.storage.folder.bm25 import Bm25, TermFrequencies, documents_of

PARAMS = Bm25Params.of(qa.Settings())


def tf(ids, texts, docs=None) -> TermFrequencies:
    return TermFrequencies.build(ids, texts, PARAMS, docs)


def bm25(parts, dead=None) -> Bm25:
    return Bm25(parts, PARAMS, dead)


def test_bm25_matches_bm25s_and_is_the_same_over_segments():
    import bm25s


    texts = [f"document {i} about {'tea ' * (i % 4)}kettles and {'wind ' * (i % 3)}kites number{i % 7}" for i in range(60)]
    ids = np.arange(60)
    oracle = bm25s.BM25(k1=PARAMS.k1, b=PARAMS.b)
    oracle.index([terms(t) for t in texts], show_progress=False)
    whole = bm25([tf(ids, texts)])
    parts = [tf(ids[:25], texts[:25]), tf(ids[25:], texts[25:])]
    split = bm25(parts)
    merged = bm25([TermFrequencies.merge(parts, [np.ones(25, bool), np.ones(35, bool)])])
    for q in ["tea kettles", "wind wind kites", "number3 tea"]:
        ref = oracle.get_scores([t for t in terms(q) if t in oracle.vocab_dict])
        for b in (whole, split, merged):
            assert np.allclose(b.as_array(b.scores(q)), ref, atol=1e-5)
            top = b.top(b.scores(q), 5)
            assert np.allclose(b.lookup(b.scores(q), top), ref[top], atol=1e-5)  # ids are positions here
    dead = bm25(parts, np.array([3, 30]))
    assert dead.as_array(dead.scores("tea kettles"))[[3, 30]].tolist() == [0, 0]
    assert 3 not in dead.top(dead.scores("tea kettles"), 60)


def test_a_documents_own_words_stay_rare_however_many_passages_repeat_them():
    # Document frequency counts a document's k passages holding a term as
    # sqrt(k): a document's subject word in four of its passages counts as
    # much as a word in one passage each of two documents (per passage: twice).

    assert PARAMS.df_damping == 0.5  # the shipped setting
    assert documents_of(["a", "a", "b", "c", "c", "a"]).tolist() == [0, 0, 1, 2, 2, 3]
    docs = ["kettle"] * 4 + [f"filler{i}" for i in range(40)]
    texts = [f"kettle boils water part {i}" for i in range(4)] + [
        f"{d} teapot" if d in ("filler0", "filler1") else f"{d} text" for d in docs[4:]]
    b = bm25([tf(np.arange(44), texts, documents_of(docs))])
    idf = b.scores("kettle teapot").idf
    assert idf["kettl"] == pytest.approx(idf["teapot"])
    plain = bm25([tf(np.arange(44), texts)]).scores("kettle teapot").idf
    assert plain["kettl"] < plain["teapot"]  # the per-passage count it replaces
    # One document alone keeps its order: a word in one passage is rarer than one in three.
    one = ["tea kettle", "tea cup", "tea pot", "saucer"]
    idf = bm25([tf(np.arange(4), one, documents_of(["d"] * 4))]).scores("tea saucer").idf
    assert idf["saucer"] > idf["tea"] > 0


def test_damped_counts_survive_saving_merging_and_removal(tmp_path):

    docs = [f"d{i // 6}" for i in range(60)]  # ten documents of six passages
    texts = [f"{d} shared {'alpha ' * (i % 3)}beta{i % 5} gamma{i % 11}" for i, d in enumerate(docs)]
    ids = np.arange(60)
    whole = tf(ids, texts, documents_of(docs))
    # Segments split at a document boundary, as the index writes them.
    parts = [tf(ids[:24], texts[:24], documents_of(docs[:24])),
             tf(ids[24:], texts[24:], documents_of(docs[24:]))]
    parts[1].save(tmp_path / "p1")
    parts[1] = TermFrequencies.load(tmp_path / "p1", PARAMS)
    merged = TermFrequencies.merge(parts, [np.ones(24, bool), np.ones(36, bool)])
    for q in ["d3 alpha", "beta2 gamma7 shared"]:
        ref = bm25([whole]).as_array(bm25([whole]).scores(q))
        for b in (bm25(parts), bm25([merged])):
            assert np.allclose(b.as_array(b.scores(q)), ref, atol=1e-6)
    # Removing a document's passages drops it from the counts.
    keep = [np.ones(24, bool), np.asarray([not (24 <= i < 30) for i in range(24, 60)])]
    pruned = TermFrequencies.merge(parts, keep)
    rest = [i for i in range(60) if not 24 <= i < 30]
    rebuilt = tf(ids[rest], [texts[i] for i in rest], documents_of([docs[i] for i in rest]))
    assert pruned.damped_n == pytest.approx(rebuilt.damped_n) == pytest.approx(9 * 6 ** 0.5)
    assert np.allclose(pruned.damped_df[[pruned.vocab[t] for t in rebuilt.vocab]], rebuilt.damped_df)


def test_bm25_skipping_common_terms_never_changes_a_score_or_the_top():
    # Common terms are scored only where they can matter (lexical.QueryScores):
    # the top k and every score looked up must equal the exhaustive ones.

    rng = np.random.default_rng(0)
    common, rare = ["which", "year", "people"], [f"w{i}" for i in range(200)]
    texts = [
        " ".join([w for w in common if rng.random() < 0.3] + list(rng.choice(rare, rng.integers(1, 6))) + ["which"] * int(rng.random() < 0.01) * 5)
        for _ in range(1500)
    ]
    b = bm25([tf(range(500), texts[:500]), tf(range(500, 1500), texts[500:])], np.array([7, 900]))
    pruned = 0
    for _ in range(150):
        q = " ".join(list(rng.choice(common, rng.integers(1, 4))) + list(rng.choice(rare, rng.integers(0, 3))))
        full = b.as_array(b.scores(q))
        for k in (1, 10, 64):
            s = b.scores(q)
            top = b.top(s, k)
            pruned += bool(s.common)  # the shortcut was taken (else top computed everything)
            ref = np.argsort(-full, kind="stable")[:k]
            assert np.allclose(full[top], full[ref][full[ref] > 0], atol=1e-5)
            asked = rng.choice(1500, 40, replace=False)
            assert np.allclose(b.lookup(s, asked), full[asked], atol=1e-5)
    assert pruned > 100  # the test exercised the shortcut, not only the fallback


def test_a_segment_counted_with_other_parameters_is_refused_with_the_fix(tmp_path):
    tf(np.arange(3), ["tea kettle", "tea cup", "saucer"]).save(tmp_path / "seg")
    assert json.loads((tmp_path / "seg" / "params.json").read_text())["k1"] == PARAMS.k1
    other = Bm25Params(1.5, 0.75, PARAMS.df_damping, PARAMS.analyzer)
    with pytest.raises(IndexMismatchError, match=r"counted with .*k1.: 0.9.*qa index --rebuild"):
        TermFrequencies.load(tmp_path / "seg", other)
    back = TermFrequencies.load(tmp_path / "seg", PARAMS)
    assert np.allclose(bm25([back]).as_array(bm25([back]).scores("tea")), bm25([tf(np.arange(3), ["tea kettle", "tea cup", "saucer"])]).as_array(bm25([tf(np.arange(3), ["tea kettle", "tea cup", "saucer"])]).scores("tea")))


def test_an_index_with_other_bm25_settings_asks_for_a_rebuild(folders, fake):
    qa.Index.open(settings=folders, embedder=fake).add_texts(["Green tea is steamed."], ids=["a"])
    with pytest.raises(IndexMismatchError, match=r"BM25 terms with .*QA_BM25"):
        qa.Index.open(settings=folders.replace(bm25_k1=1.2), embedder=fake)
    rebuilt = qa.Index.open(settings=folders.replace(bm25_k1=1.2), embedder=fake, rebuild=True)
    rebuilt.add_texts(["Green tea is steamed."], ids=["a"])
    assert qa.Index.open(settings=folders.replace(bm25_k1=1.2), embedder=fake).search("tea", k=1)[0].doc_id == "a"
