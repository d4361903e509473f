"""How the tokens repeated between neighbouring passages move retrieval quality.

    PYTHONPATH=. python bench/overlap.py ../shared/data/scifact-train
    PYTHONPATH=. python bench/overlap.py ../shared/data/squad-v1.1-dev/dev-v1.1.json [--limit-queries 2000]
    PYTHONPATH=. python bench/overlap.py DATASET --overlap 0 16 32 64

One index per overlap (``Settings.overlap_tokens``; everything else shipped),
built and asked through the same path as ``qa eval``. Each row is compared
question by question with the first one (the baseline, 32 by default: what
shipped before run 14): the mean difference in nDCG@10 with its standard
error, and how many questions got better and worse, so a change can be told
from the noise of one set of questions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import qa  # noqa: E402
from qa.evaluate import build_index, load_dataset, run_queries, sample_queries  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from speed import table  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("--overlap", type=int, nargs="+", default=[32, 0, 16, 64],
                    help="overlaps in tokens; the first is the baseline of the paired columns")
    ap.add_argument("--limit-queries", type=int, metavar="N")
    args = ap.parse_args(argv)
    ds = load_dataset(args.dataset)
    queries = sample_queries(ds.queries, args.limit_queries)
    base = qa.Settings()  # shipped defaults, not the environment
    rows, baseline = [], None
    for overlap in args.overlap:
        settings = base.replace(overlap_tokens=overlap)
        with tempfile.TemporaryDirectory(prefix="docqa-overlap-") as tmp:
            idx, build_s = build_index(ds, Path(tmp) / "index", settings)
            r = run_queries(idx, ds, queries, build_s=build_s)
        scores = np.array([q.ndcg10 for q in r.per_query])
        if baseline is None:
            baseline = scores
        d = scores - baseline
        rows.append([
            f"{overlap}" + (" (baseline)" if len(rows) == 0 else ""), f"{r.passages:,}", f"{r.ndcg10:.4f}",
            f"{r.recall5:.3f}", "" if r.evidence_accuracy is None else f"{r.evidence_accuracy:.3f}",
            f"{d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(len(d)):.4f}" if len(rows) else "",
            f"{(d > 0).sum()} / {(d < 0).sum()}" if len(rows) else "", f"{build_s:.0f}",
        ])
        print(f"overlap {overlap}: nDCG@10 {r.ndcg10:.4f}", file=sys.stderr, flush=True)
    head = ["overlap tokens", "passages", "nDCG@10", "R@5", "evidence", "paired diff ± s.e.", "better / worse", "build s"]
    print(f"\n### {ds.name}: {len(queries)} questions, passage_tokens {base.passage_tokens}\n")
    print(table(head, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
