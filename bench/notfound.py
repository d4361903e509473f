"""Calibrate the "not found" threshold on SQuAD: index half of the articles, ask
the questions of both halves, and see how the best dense score separates them.

    .venv/bin/python bench/notfound.py [--squad PATH] [--limit-questions N]

Prints the false-refusal rate (answerable questions refused) and the
false-answer rate (questions about the unindexed half that are "answered") at
the shipped threshold and at candidate thresholds, and the threshold that
refuses at most 5% of answerable questions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402

DEFAULT_SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "dev-v1.1.json"


def term_coverage(idx, question: str) -> float:
    """Share of the question's terms found in its best BM25 passage."""
    from qa.lexical import terms

    q = set(terms(question))
    _, ids = idx._snap.lexical.search(question, 1)
    if not q or not len(ids):
        return 0.0
    p = idx._snap.passages[int(ids[0])]
    return len(q & set(terms(p.title + " " + p.text))) / len(q)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    ap.add_argument("--limit-questions", type=int, default=0, help="sample this many per half (0: all)")
    args = ap.parse_args()

    articles = json.loads(args.squad.read_text())["data"]
    indexed, held_out = articles[0::2], articles[1::2]
    settings = qa.Settings()
    with tempfile.TemporaryDirectory() as tmp:
        idx = qa.Index.open(Path(tmp) / "index", settings=settings)
        t0 = time.perf_counter()
        idx.add_texts(
            ["\n\n".join(p["context"] for p in a["paragraphs"]) for a in indexed],
            ids=[a["title"] for a in indexed],
            titles=[a["title"].replace("_", " ") for a in indexed],
        )
        build = time.perf_counter() - t0
        scores, coverage = {}, {}
        for name, half in (("answerable", indexed), ("unanswerable", held_out)):
            questions = [q["question"] for a in half for p in a["paragraphs"] for q in p["qas"]]
            if args.limit_questions:
                questions = random.Random(0).sample(questions, min(args.limit_questions, len(questions)))
            vecs = idx.embedder.embed(questions)
            top, _ = idx._snap.vectors.search(vecs, 1)
            scores[name] = top[:, 0]
            coverage[name] = np.array([term_coverage(idx, q) for q in questions])
    ans, una = scores["answerable"], scores["unanswerable"]
    print(f"indexed {len(indexed)} articles ({len(idx)} passages) in {build:.0f}s; "
          f"{len(ans)} answerable and {len(una)} unanswerable questions\n")
    print("| threshold | answerable refused | unanswerable answered |")
    print("|---:|---:|---:|")
    candidates = sorted({round(x, 2) for x in np.arange(0.10, 0.51, 0.05)} | {settings.min_score})
    for t in candidates:
        mark = " (shipped)" if abs(t - settings.min_score) < 1e-9 else ""
        print(f"| {t:.2f}{mark} | {np.mean(ans < t):.1%} | {np.mean(una >= t):.1%} |")
    print("\nwith lexical coverage (share of question terms in the best BM25 passage):")
    print("| rule | answerable refused | unanswerable answered |")
    print("|---|---:|---:|")
    ca, cu = coverage["answerable"], coverage["unanswerable"]
    for t in (0.25, 0.3, 0.35):
        for low in (0.1, 0.15, 0.2):
            for c in (0.5, 0.67, 0.75, 1.0):
                fa = (ans >= t) | ((ans >= low) & (ca >= c))
                fu = (una >= t) | ((una >= low) & (cu >= c))
                print(f"| dense>={t} or (dense>={low} and cov>={c}) | {1 - fa.mean():.1%} | {fu.mean():.1%} |")
    best = np.floor(np.quantile(ans, 0.05) * 100) / 100
    print(f"\nlargest threshold refusing <= 5% of answerable questions: {best:.2f} "
          f"(refuses {np.mean(ans < best):.1%}, answers {np.mean(una >= best):.1%} of unanswerable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
