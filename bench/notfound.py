"""Calibrate the "not found" threshold on SQuAD: index half of the articles, ask
the questions of both halves, and see how the score "found" is judged on
separates them.

    .venv/bin/python bench/notfound.py [--squad PATH] [--limit-questions N]

Two scores side by side, from the same run: the shipped one (``Answer.confidence``,
the best cosine of the question and a sentence of any candidate passage, read
from ``Index.answer``) and the earlier rule's (the best passage cosine in the
index). For each threshold: the false-refusal rate (answerable questions
refused) and the false-answer rate (questions about the unindexed half that are
"answered"); then, per score, the largest threshold that refuses at most 5% of
answerable questions, and the earlier rule at the shipped rule's refusal rate.
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


def rates(answerable: np.ndarray, unanswerable: np.ndarray, t: float) -> tuple[float, float]:
    """(share of answerable refused, share of unanswerable answered) at threshold ``t``."""
    return float(np.mean(answerable < t)), float(np.mean(unanswerable >= t))


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
        shipped, passage = {}, {}
        for name, half in (("answerable", indexed), ("unanswerable", held_out)):
            questions = [q["question"] for a in half for p in a["paragraphs"] for q in p["qas"]]
            if args.limit_questions:
                questions = random.Random(0).sample(questions, min(args.limit_questions, len(questions)))
            shipped[name] = np.array([idx.answer(q, k=1).confidence for q in questions])
            top, _ = idx._snap.vectors.search(idx.embedder.embed(questions), 1)
            passage[name] = top[:, 0]
    print(f"indexed {len(indexed)} articles ({len(idx)} passages) in {build:.0f}s; "
          f"{len(shipped['answerable'])} answerable and {len(shipped['unanswerable'])} unanswerable questions\n")
    print("| threshold | best sentence (shipped): answerable refused | unanswerable answered "
          "| best passage (earlier rule): answerable refused | unanswerable answered |")
    print("|---:|---:|---:|---:|---:|")
    candidates = sorted({round(x, 2) for x in np.arange(0.30, 0.47, 0.02)} | {settings.min_score})
    for t in candidates:
        mark = " (shipped)" if abs(t - settings.min_score) < 1e-9 else ""
        (sr, sa), (pr, pa) = rates(*shipped.values(), t), rates(*passage.values(), t)
        print(f"| {t:.2f}{mark} | {sr:.1%} | {sa:.1%} | {pr:.1%} | {pa:.1%} |")
    print()
    for label, s in (("best sentence (shipped)", shipped), ("best passage (earlier rule)", passage)):
        best = np.floor(np.quantile(s["answerable"], 0.05) * 100) / 100
        r, a = rates(*s.values(), best)
        print(f"{label}: largest threshold refusing <= 5% of answerable questions: {best:.2f} "
              f"(refuses {r:.1%}, answers {a:.1%} of unanswerable)")
    refused, answered = rates(*shipped.values(), settings.min_score)
    same = float(np.quantile(passage["answerable"], refused))
    r, a = rates(*passage.values(), same)
    print(f"\nat the shipped rule's {refused:.1%} of answerable questions refused, it answers {answered:.1%} "
          f"of unanswerable ones; the earlier rule (threshold {same:.3f}) refuses {r:.1%} and answers {a:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
