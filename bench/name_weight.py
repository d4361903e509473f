"""The file-name-and-title signal (Settings.name_weight) at several weights, on one index per set.

    PYTHONPATH=. .venv/bin/python bench/name_weight.py [--weights 0 0.05 0.1 0.2] [--limit-queries 2000]
                                                       [--keep DIR]

Builds SciFact train, SQuAD dev (``--limit-queries`` questions) and the real
documents once each (into ``--keep`` when given, so a second run reuses them),
then asks every set at each weight: nDCG@10 for SciFact and SQuAD, hit@1/hit@5
and the short answer for the real documents. Weight 0 is the ranking without it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402
from qa.storage import open_store  # noqa: E402
from qa.evaluate import (  # noqa: E402
    ask_realdocs, build_file_index, load_dataset, open_or_build, realdocs_result, run_queries, sample_queries,
)

DATA = ROOT.parent / "shared" / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2])
    ap.add_argument("--limit-queries", type=int, default=2000)
    ap.add_argument("--keep", type=Path, help="folder for the indexes (kept; reused when present)")
    args = ap.parse_args()
    settings = qa.Settings()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        rows = {w: {} for w in args.weights}
        for name in ("scifact-train", "squad-v1.1-dev"):
            ds = load_dataset(DATA / name)
            folder = base / name
            open_or_build(ds, folder, settings, log=lambda m: print(m, file=sys.stderr))
            queries = sample_queries(ds.queries, args.limit_queries)
            for w in args.weights:
                idx = qa.Index.open(folder, settings=settings.replace(index_dir=folder, name_weight=w))
                rows[w][name] = run_queries(idx, ds, queries).ndcg10
        ds = load_dataset(DATA / "realdocs")
        folder = base / "realdocs"
        if not open_store(settings, folder).has_index():
            build_file_index(ds, folder, settings)
        for w in args.weights:
            idx = qa.Index.open(folder, settings=settings.replace(index_dir=folder, name_weight=w))
            scores, _, search_s = ask_realdocs(idx, ds.queries)
            res = realdocs_result(ds, idx, scores, k=5, build_s=0.0, search_s=search_s, refused_files=[])
            answerable = next(g for g in res.groups if g.group == "answerable")
            rows[w]["realdocs"] = (answerable.hit1, answerable.hit5, answerable.joined)
    print("| name_weight | SciFact nDCG@10 | SQuAD nDCG@10 | realdocs hit@1 | hit@5 | short answer |")
    print("|---:|---:|---:|---:|---:|---:|")
    for w, r in rows.items():
        h1, h5, sa = r["realdocs"]
        print(f"| {w:g} | {r['scifact-train']:.4f} | {r['squad-v1.1-dev']:.4f} | {h1:.3f} | {h5:.3f} | {sa:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
