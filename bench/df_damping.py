"""How BM25's document-frequency damping moves nDCG@10: one table per development set.

    PYTHONPATH=. python bench/df_damping.py ../shared/data/scifact-train [--index FOLDER]
    PYTHONPATH=. python bench/df_damping.py ../shared/data/squad-v1.1-dev/dev-v1.1.json --limit-queries 2000 [--index FOLDER]

The folder store's BM25 counts the k passages of one document that hold a term as
k ** DF_DAMPING in its document frequency (1: per passage, as Lucene does;
0: once per document). Each row rebuilds the lexical statistics of the same
index at one damping and scores every passage for every question (exhaustive
BM25 and exact cosines, as bench/fusion_grid.py does): BM25 alone, and fused
with the shipped dense side and weight. For SQuAD a second block indexes each
article alone (one-document collections, the case per-document counting
would ruin) and asks that article's questions.

The index is built with the shipped settings unless ``--index`` names one
built earlier from the same dataset (or a folder that does not exist yet:
then it is built there and kept).
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import qa  # noqa: E402
from qa.storage.folder.bm25 import Bm25, TermFrequencies, documents_of  # noqa: E402
from qa.evaluate import binary_scores, open_or_build, squad_relevant  # noqa: E402
from qa.answering import best_sentence_cosines  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from fusion_grid import dataset_args, ndcg  # noqa: E402

DAMPINGS = [1.0, 0.75, 0.5, 0.25, 0.0]


def bm25_matrix(whole: TermFrequencies, rows: np.ndarray, docs: list[str], queries, damping: float) -> np.ndarray:
    """BM25 of ``queries`` over the passages ``rows`` of ``whole``, with their own statistics at ``damping``."""
    keep = np.zeros(len(whole), bool)
    keep[rows] = True
    part = TermFrequencies.merge([whole], [keep])  # the rows alone, in order
    params = dataclasses.replace(whole.params, df_damping=damping)  # the counts are made with it
    part = TermFrequencies(params, part.ids, part.vocab, part.tf, part.lengths, documents_of([docs[i] for i in rows]))
    bm25 = Bm25([part], params)
    return np.stack([bm25.as_array(bm25.scores(q.text)) for q in queries])


def fused(meaning: np.ndarray, lex: np.ndarray, w: float) -> np.ndarray:
    top = lex.max(axis=1, keepdims=True)
    return w * meaning + (1 - w) * lex / np.where(top > 0, top, 1)


def main(argv=None) -> int:
    args, ds, queries = dataset_args(__doc__, argv)
    settings = qa.Settings()  # shipped defaults, not the environment
    w, s = settings.dense_weight, settings.sentence_weight
    with tempfile.TemporaryDirectory(prefix="docqa-damping-") as tmp:
        folder = Path(args.index) if args.index else Path(tmp) / "index"
        idx = open_or_build(ds, folder, settings, log=lambda m: print(m, file=sys.stderr, flush=True))
        snap = idx.view()
        parts = snap.lexical.parts
        whole = TermFrequencies.merge(parts, [np.ones(len(p), bool) for p in parts])  # rows in id order
        passages = [snap.passages[int(i)] for i in whole.ids]
        docs = [p.doc_id for p in passages]
        qvecs = idx.embedder.embed([q.text for q in queries])
        cosine = qvecs @ snap.vectors.reconstruct(whole.ids).T
        best = np.stack([best_sentence_cosines(snap.sentences, whole.ids, qv, row) for qv, row in zip(qvecs, cosine)])
        meaning = (1 - s) * cosine + s * best
        every = np.arange(len(whole))
        print(f"\n#### {ds.name}: nDCG@10, {len(queries)} questions, {len(whole):,} passages, "
              f"{len(set(docs)):,} documents (shipped: damping {settings.bm25_df_damping}, w {w}, in bold)\n")
        print("| damping | BM25 only | fused |" + (" BM25 only, each article alone | fused, each article alone |" if ds.kind != "beir" else ""))
        print("|---|---|---|" + ("---|---|" if ds.kind != "beir" else ""))
        for d in DAMPINGS:
            lex = bm25_matrix(whole, every, docs, queries, d)
            cells = [ndcg(lex, passages, queries, ds.kind), ndcg(fused(meaning, lex, w), passages, queries, ds.kind)]
            if ds.kind != "beir":
                cells += alone(whole, docs, passages, queries, meaning, w, d)
            mark = "**" if d == settings.bm25_df_damping else ""
            print(f"| {d:g} | " + " | ".join(f"{mark}{c:.4f}{mark}" for c in cells) + " |", flush=True)
    return 0


def alone(whole, docs, passages, queries, meaning, w, damping) -> list[float]:
    """Mean nDCG@10 (BM25 alone, fused) with each SQuAD article indexed alone and asked its own questions."""
    lex_scores, fused_scores = [], []
    docs_arr = np.asarray(docs)
    for art in dict.fromkeys(docs):
        rows = np.flatnonzero(docs_arr == art)
        asked = [n for n, q in enumerate(queries) if q.doc_id == art]
        if not asked:
            continue
        lex = bm25_matrix(whole, rows, docs, [queries[n] for n in asked], damping)
        both = fused(meaning[np.ix_(asked, rows)], lex, w)
        for scores, out in ((lex, lex_scores), (both, fused_scores)):
            for row, n in zip(np.argsort(-scores, axis=1, kind="stable")[:, :10], asked):
                hits = [passages[rows[i]] for i in row]
                out.append(binary_scores([squad_relevant(p.doc_id, p.start, p.end, p.text, queries[n]) for p in hits], 10)[0])
    return [float(np.mean(lex_scores)), float(np.mean(fused_scores))]


if __name__ == "__main__":
    sys.exit(main())
