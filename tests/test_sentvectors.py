"""Sentence vectors: int8, immutable, memory-mapped, the best sentence of many passages in one product."""

import numpy as np
import pytest

from qa.storage.folder.sentvectors import SentenceVectors

from helpers import unit


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
