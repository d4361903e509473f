"""The FAISS adapter: exact search while small, IVF-SQ8 past the size limit, removal exact in both."""

import numpy as np

from qa.storage.folder import vectors as vectors_mod
from qa.storage.folder.vectors import VectorIndex

from helpers import unit


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
