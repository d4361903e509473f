"""How BM25's k1/b and the dense weight move nDCG@10: one table per development set.

    PYTHONPATH=. python bench/fusion_grid.py ../shared/data/scifact-train [--index FOLDER]
    PYTHONPATH=. python bench/fusion_grid.py ../shared/data/squad-v1.1-dev/dev-v1.1.json --limit-queries 1000

Every passage is scored for every question (exact cosine and exhaustive BM25,
no candidate cut-off, no collapsing), so a cell is the fusion rule alone:
``w * meaning + (1 - w) * bm25 / max bm25``, where ``meaning`` is the shipped
dense side: ``(1 - s) * cosine + s * the best sentence's cosine`` (s is
``Settings.sentence_weight``, 0.6). BEIR is scored per document (best
passage first, 10 documents), SQuAD per passage as `qa eval` does. With a
deep enough candidate list the shipped pipeline gives the same figures (the
SciFact cell for the shipped setting equals `qa eval`'s nDCG@10 to 4 places).

The index is built with the shipped settings (as `qa eval` does; SciFact takes
about 8 minutes here) unless ``--index`` names one built earlier from the same
dataset (or a folder that does not exist yet: then it is built there and
kept); BM25 constants are applied at question time, so one index serves every
cell.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import qa  # noqa: E402
from qa.storage.folder.bm25 import Bm25  # noqa: E402
from qa.answering import best_sentence_cosines  # noqa: E402
from qa.evaluate import binary_scores, distinct, load_dataset, ndcg_at_k, open_or_build, sample_queries, squad_relevant  # noqa: E402

BM25_CONSTANTS = [(1.5, 0.75), (1.2, 0.75), (1.2, 0.5), (0.9, 0.4)]
DENSE_WEIGHTS = [0.6, 0.7, 0.75, 0.8]
DEPTH = 80  # passages ranked per question: enough for 10 distinct SciFact documents


def ndcg(scores: np.ndarray, passages, queries, kind: str) -> float:
    """Mean nDCG@10 of ranking passages by ``scores`` [questions, passages]."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :DEPTH]
    total = 0.0
    for row, q in zip(order, queries):
        if kind == "beir":
            total += ndcg_at_k(distinct(passages[i].doc_id for i in row), q.relevant, 10)
        else:
            p = [passages[i] for i in row[:10]]
            total += binary_scores([squad_relevant(x.doc_id, x.start, x.end, x.text, q) for x in p], 10)[0]
    return total / len(queries)


def dataset_args(doc: str, argv=None):
    """(args, dataset, questions) from the command line every exhaustive-scoring script here takes."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("--index", help="index folder of this dataset, built with the shipped settings (built if missing)")
    ap.add_argument("--limit-queries", type=int, metavar="N")
    args = ap.parse_args(argv)
    ds = load_dataset(args.dataset)
    return args, ds, sample_queries(ds.queries, args.limit_queries)


def main(argv=None) -> int:
    args, ds, queries = dataset_args(__doc__, argv)
    settings = qa.Settings()  # shipped defaults, not the environment
    with tempfile.TemporaryDirectory(prefix="docqa-grid-") as tmp:
        folder = Path(args.index) if args.index else Path(tmp) / "index"
        idx = open_or_build(ds, folder, settings, log=lambda m: print(m, file=sys.stderr, flush=True))
        snap = idx.view()
        bm25 = snap.lexical
        passages = [snap.passages[int(i)] for i in bm25.ids]
        qvecs = idx.embedder.embed([q.text for q in queries])
        cosine = qvecs @ snap.vectors.reconstruct(bm25.ids).T
        s = settings.sentence_weight
        best = np.stack([best_sentence_cosines(snap.sentences, bm25.ids, qv, row) for qv, row in zip(qvecs, cosine)])
        cosine = (1 - s) * cosine + s * best  # the dense side as the shipped fusion has it
        shipped = (settings.bm25_k1, settings.bm25_b, settings.dense_weight)
        dense_only = ndcg(cosine, passages, queries, ds.kind)
        rows = []
        dead = np.asarray(snap.state.dead, np.int64)
        for k1, b in BM25_CONSTANTS:
            # k1 and b are read at question time: the same term counts, scored with other constants.
            grid = Bm25(bm25.parts, dataclasses.replace(bm25.params, k1=k1, b=b), dead)
            lex = np.stack([grid.as_array(grid.scores(q.text)) for q in queries])
            top = lex.max(axis=1, keepdims=True)
            norm = lex / np.where(top > 0, top, 1)
            cells = [f"{ndcg(lex, passages, queries, ds.kind):.4f}"]
            for w in DENSE_WEIGHTS:
                v = ndcg(w * cosine + (1 - w) * norm, passages, queries, ds.kind)
                cells.append(f"**{v:.4f}**" if (k1, b, w) == shipped else f"{v:.4f}")
            rows.append([f"k1 {k1}, b {b}", *cells])
    head = ["BM25", "BM25 only (w=0)", *[f"w={w}" for w in DENSE_WEIGHTS]]
    print(f"\n### {ds.name}: nDCG@10, {len(queries)} questions, {len(passages):,} passages "
          f"(shipped: k1 {shipped[0]}, b {shipped[1]}, w {shipped[2]}, in bold)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\nDense only (w=1): {dense_only:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
