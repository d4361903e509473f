"""nDCG@10 of the shipped pipeline at several dense and sentence weights: one table per set.

    PYTHONPATH=. python bench/weight_grid.py ../shared/data/scifact-train --index FOLDER
    PYTHONPATH=. python bench/weight_grid.py ../shared/data/squad-v1.1-dev/dev-v1.1.json --dense 0.7,0.75,0.8 --sentence 0,0.6

Unlike bench/fusion_grid.py (every passage scored, the fusion rule alone), each
cell here is `qa eval`'s own path: candidates, fusion with the best sentence's
cosine, collapsing, BEIR deepening. Both weights apply at question time, so one
index serves every cell; it is built with the shipped settings (SciFact: 5-8
minutes here) unless ``--index`` names one built earlier from the same dataset
(or is a folder that does not exist yet: then it is built there and kept).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402
from qa.evaluate import load_dataset, open_or_build, run_queries, sample_queries  # noqa: E402


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("--index", help="index folder of this dataset, built with the shipped settings (built if missing)")
    ap.add_argument("--limit-queries", type=int, metavar="N")
    ap.add_argument("--dense", type=floats, default=[0.7, 0.75, 0.8], help="dense weights (comma-separated)")
    ap.add_argument("--sentence", type=floats, default=[0.0, 0.5, 0.6, 0.75], help="sentence weights (comma-separated)")
    args = ap.parse_args(argv)
    ds = load_dataset(args.dataset)
    queries = sample_queries(ds.queries, args.limit_queries)
    shipped = qa.Settings()
    with tempfile.TemporaryDirectory(prefix="docqa-grid-") as tmp:
        folder = Path(args.index) if args.index else Path(tmp) / "index"
        open_or_build(ds, folder, shipped, log=lambda m: print(m, file=sys.stderr, flush=True))
        cells = {}
        for w in args.dense:
            for s in args.sentence:
                idx = qa.Index.open(folder, settings=shipped.replace(index_dir=folder, dense_weight=w, sentence_weight=s))
                cells[w, s] = run_queries(idx, ds, queries).ndcg10
                print(f"  w={w:g} s={s:g}: {cells[w, s]:.4f}", file=sys.stderr, flush=True)
    mark = (shipped.dense_weight, shipped.sentence_weight)
    print(f"#### {ds.name}: nDCG@10, {len(queries)} questions (shipped: w {mark[0]:g}, s {mark[1]:g}, in bold)\n")
    print("| dense weight w \\ sentence weight s | " + " | ".join(f"{s:g}" for s in args.sentence) + " |")
    print("|---" * (len(args.sentence) + 1) + "|")
    for w in args.dense:
        row = [f"**{cells[w, s]:.4f}**" if (w, s) == mark else f"{cells[w, s]:.4f}" for s in args.sentence]
        print(f"| {w:g} | " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
