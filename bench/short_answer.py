"""How often the chat's short answer and highlight hold the answer, on SQuAD, as the chat asks (k=5).

    PYTHONPATH=. python bench/short_answer.py [--index FOLDER] [--limit-queries 2000] [--seed 0]

For each question: the top hit's evidence sentence (the highlight), the short
answer's first quote, and any of its quotes, each counted when it comes from
the question's article and contains a gold answer (as `qa eval` counts
evidence). Rows: all questions, and those that ask "where", "when" or "how
many" (qa/answertype.py; the split is skipped where that module is missing,
so the script also runs on a checkout from before it, for a before/after).

The index is built with the shipped settings unless ``--index`` names one
built earlier from SQuAD dev (or a folder that does not exist yet: built there).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402
from qa.evaluate import contains_answer, load_dataset, open_or_build, sample_queries  # noqa: E402

try:
    from qa.answertype import expected_type
except ImportError:  # a checkout from before answer types
    expected_type = None

SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "dev-v1.1.json"
K = 5  # the chat's number of passages


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default=str(SQUAD))
    ap.add_argument("--index", help="SQuAD index folder built with the shipped settings (built if missing)")
    ap.add_argument("--limit-queries", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0, help="which fixed sample of questions")
    args = ap.parse_args(argv)
    ds = load_dataset(args.dataset)
    queries = sample_queries(ds.queries, args.limit_queries, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="docqa-short-") as tmp:
        folder = Path(args.index) if args.index else Path(tmp) / "index"
        idx = open_or_build(ds, folder, qa.Settings(), log=lambda m: print(m, file=sys.stderr, flush=True))
        rows = {"all": [], "where / when / how many": []}
        for q in queries:
            a = idx.answer(q.text, k=K)
            top = a.hits[0] if a.hits else None

            def holds(doc_id, text):
                return doc_id == q.doc_id and contains_answer(text, q.answers)

            flags = (
                bool(top) and holds(top.passage.doc_id, top.evidence.text),
                bool(a.quotes) and holds(a.quotes[0].doc_id, a.quotes[0].text),
                any(holds(x.doc_id, x.text) for x in a.quotes),
            )
            rows["all"].append(flags)
            if expected_type is not None and expected_type(q.text) is not None:
                rows["where / when / how many"].append(flags)
    print(f"### Short answer and highlight on {ds.name}, {len(queries)} questions (seed {args.seed}), k={K}\n")
    print("| questions | n | highlight holds an answer | first quote does | any quote does |")
    print("|---|---|---|---|---|")
    for name, flags in rows.items():
        if flags:
            n = len(flags)
            cells = [f"{sum(f[i] for f in flags) / n:.3f}" for i in range(3)]
            print(f"| {name} | {n} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
