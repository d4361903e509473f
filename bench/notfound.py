"""Calibrate the "not found" threshold on SQuAD: index half of the articles, ask
the questions of both halves, and see how the score "found" is judged on
separates them.

    .venv/bin/python bench/notfound.py [--squad PATH] [--limit-questions N]
                                       [--also BEIR_FOLDER [--also-index DIR]]

Three rules side by side, from the same run and index:
- shipped: ``Answer.confidence`` as ``Index.answer`` returns it (the best cosine
  of the question and a sentence of any candidate, plus
  ``qa.confidence.COVERAGE_WEIGHT`` x the share of the question's terms in the
  first hit);
- its sentence part alone (session 6's first rule);
- the best passage cosine in the index (the rule before session 6).
And what ``Index.answer`` says in the end: the threshold, a name in the
question that no passage holds (qa.answering.unknown_names), and one that the
first hit's document never mentions (qa.answering.unmatched_words).

Prints the shipped rule's false-refusal rate (answerable questions refused) and
false-answer rate (questions about the unindexed half that are "answered") at
thresholds around the shipped one; then each rule at the shipped rule's refusal
rate and at its own 5% limit. ``--also`` asks the queries of a BEIR folder of
another domain (SciFact) with its whole corpus indexed, so every query is
answerable, and prints the share each rule refuses at its SQuAD threshold.
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
from qa.evaluate import load_dataset, open_or_build  # noqa: E402
from qa.answering import term_share, unknown_names  # noqa: E402
from qa.confidence import COVERAGE_WEIGHT  # noqa: E402

DEFAULT_SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "dev-v1.1.json"
RULES = ("shipped: sentence + terms", "best sentence alone", "best passage cosine (before)")


def scores(idx, questions: list[str]) -> np.ndarray:
    """[question, rule] scores for the three RULES, then three columns: whether
    Index.answer said found, whether the question names a word no passage holds,
    and whether it names one that the first hit's document never mentions (a near miss)."""
    out = []
    lexical = idx.view().lexical
    for q in questions:
        a = idx.answer(q, k=1)
        near = any(n.startswith("The document that matches best") for n in a.notes)
        out.append((a.confidence, a.confidence - COVERAGE_WEIGHT * term_share(a.query, a.hits[0].passage),
                    float(a.found), float(bool(unknown_names(lexical, q))), float(near)))
    out = np.array(out)
    top, _ = idx.view().vectors.search(idx.embedder.embed(questions), 1)
    return np.column_stack([out[:, :2], top[:, 0], out[:, 2:]])


def rates(answerable: np.ndarray, unanswerable: np.ndarray, t: float) -> tuple[float, float]:
    """(share of answerable refused, share of unanswerable answered) at threshold ``t``."""
    return float(np.mean(answerable < t)), float(np.mean(unanswerable >= t))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    ap.add_argument("--limit-questions", type=int, default=0, help="sample this many per half (0: all)")
    ap.add_argument("--also", type=Path, help="a BEIR folder of another domain, every query answerable")
    ap.add_argument("--also-index", type=Path, help="its index folder (built there if missing)")
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
        got = {}
        for name, half in (("answerable", indexed), ("unanswerable", held_out)):
            questions = [q["question"] for a in half for p in a["paragraphs"] for q in p["qas"]]
            if args.limit_questions:
                questions = random.Random(0).sample(questions, min(args.limit_questions, len(questions)))
            got[name] = scores(idx, questions)
        other = None
        if args.also:
            ds = load_dataset(args.also)
            folder = args.also_index or Path(tmp) / "also"
            other = scores(open_or_build(ds, folder, settings), [q.text for q in ds.queries])
    ans, una = got["answerable"], got["unanswerable"]
    print(f"indexed {len(indexed)} articles ({len(idx)} passages) in {build:.0f}s; "
          f"{len(ans)} answerable and {len(una)} unanswerable questions\n")
    print("#### The shipped rule around its threshold\n")
    print("| threshold | answerable refused | unanswerable answered |")
    print("|---:|---:|---:|")
    m = settings.min_score
    for t in sorted({round(x, 2) for x in np.arange(m - 0.1, m + 0.09, 0.02)} | {m}):
        r, a = rates(ans[:, 0], una[:, 0], t)
        print(f"| {t:.2f}{' (shipped)' if abs(t - m) < 1e-9 else ''} | {r:.1%} | {a:.1%} |")
    print("\n#### What Index.answer says: the threshold, names no passage holds, names the best document lacks\n")
    print("| | answerable refused | unanswerable answered | a name no passage holds: answerable | unanswerable "
          "| a name the best document lacks: answerable | unanswerable |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| shipped | {np.mean(ans[:, 3] == 0):.1%} | {np.mean(una[:, 3] == 1):.1%} | "
          f"{np.mean(ans[:, 4]):.1%} | {np.mean(una[:, 4]):.1%} | {np.mean(ans[:, 5]):.1%} | {np.mean(una[:, 5]):.1%} |")
    refused, _ = rates(ans[:, 0], una[:, 0], m)
    print(f"\n#### Each rule at the shipped rule's refusal rate ({refused:.1%}) and at its own 5% limit\n")
    head = "| rule | threshold | answerable refused | unanswerable answered | 5% limit | refused | answered |"
    print(head + (f" {args.also.name} queries refused at the first threshold |" if other is not None else ""))
    print("|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if other is not None else ""))
    for j, rule in enumerate(RULES):
        same = m if j == 0 else float(np.quantile(ans[:, j], refused))
        limit = np.floor(np.quantile(ans[:, j], 0.05) * 100) / 100
        row = [rule, f"{same:.3f}", *(f"{x:.1%}" for x in rates(ans[:, j], una[:, j], same)),
               f"{limit:.2f}", *(f"{x:.1%}" for x in rates(ans[:, j], una[:, j], limit))]
        if other is not None:
            row.append(f"{np.mean(other[:, j] < same):.1%}")
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
