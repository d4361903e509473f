"""The embedding model as docqa runs it: the ONNX int8 embedder (one session
per core for indexing, the same vector alone or in a batch), sentence vectors
pooled at index time (no model call for evidence), and the backend an index
records and is asked with."""

import json

import numpy as np
import pytest

import qa
from qa.embedding import INT8_VARIANTS, load_embedder
from qa.errors import IndexMismatchError, ModelLoadError
from qa.onnx_model import BATCH_JOB, available_cores, batch_sessions, int8_backend_for_this_cpu
from qa.pooling import pool_spans
from qa.storage import FORMAT_VERSION

from helpers import SEED, SEED_QUESTION


def test_pool_spans_averages_each_sentences_own_tokens():
    hidden = np.array([[9, 9], [1, 0], [1, 0], [0, 1], [9, 9]], np.float32)  # [CLS] a b c [SEP]
    offsets = [(0, 0), (0, 3), (4, 7), (9, 12), (0, 0)]
    out = pool_spans(hidden, offsets, [(0, 8), (9, 13), (20, 30)], fallback=np.array([0.6, 0.8], np.float32))
    assert np.allclose(out[0], [1, 0]) and np.allclose(out[1], [0, 1])
    assert np.allclose(out[2], [0.6, 0.8])  # a span cut off by truncation keeps the passage's vector


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
    assert manifest["backend"] == "torch" and manifest["version"] == FORMAT_VERSION
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
    assert fresh.view().manifest.backend == int8_backend_for_this_cpu()


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
