"""The written-answer checker on prepared right and wrong sentences: how many it accepts.

    PYTHONPATH=. .venv/bin/python bench/verify_wrong.py [--questions 500] [--grid]

From SQuAD dev (``../shared/data/squad-v1.1-dev``): for each question, the
gold paragraph's sentence that holds the answer is the right sentence, cited
to the gold paragraph among five passages (the gold one and four other
paragraphs of the same article: the hardest neighbours). Wrong ones, each
of which must be removed:

* ``number changed``: a number of the sentence plus one (sentences with a number);
* ``name swapped``: a capitalised name of the sentence replaced by one from
  another paragraph of the article that the gold paragraph lacks;
* ``cited elsewhere``: the right sentence, cited to a neighbour, the gold
  paragraph not given at all;
* ``other article``: a sentence of another article, cited to the gold paragraph.

Right ones, which should be kept: the sentence as written, and cut at its
last comma (a shorter claim). ``--grid`` prints the accept rates for other
values of MIN_SUPPORT (the same scores, re-thresholded), to calibrate it.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "dev-v1.1.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--grid", action="store_true")
    args = ap.parse_args()
    import json

    from qa import verify as v
    from qa.chunking import split_sentences
    from qa.embedding import load_embedder

    emb = load_embedder()
    data = json.loads(SQUAD.read_text("utf-8"))["data"]
    rng = random.Random(7)
    items = []
    for art in data:
        paras = [p["context"] for p in art["paragraphs"]]
        for k, p in enumerate(art["paragraphs"]):
            for q in p["qas"]:
                items.append((art["title"], paras, k, q["answers"][0]["text"] if q["answers"] else ""))
    rng.shuffle(items)
    items = items[: args.questions]
    other_sentences = [p["context"] for art in data for p in art["paragraphs"]]
    cases: list[tuple[str, bool, str, list]] = []  # (kind, should be kept, sentence with marks, sources)
    for title, paras, k, gold in items:
        text = paras[k]
        spans = split_sentences(text)
        sentence = next((text[a:b] for a, b in spans if gold and gold in text[a:b]), None)
        if not sentence or len(sentence) > 400:
            continue
        others = [i for i in range(len(paras)) if i != k]
        rng.shuffle(others)
        neigh = others[:4]

        def source(n: int, i: int) -> v.Source:
            t = paras[i]
            return v.Source(n, f"{title}#{i}", 0, t, tuple(split_sentences(t)))

        given = [source(1, k)] + [source(n + 2, i) for n, i in enumerate(neigh)]
        cases.append(("right, as written", True, f"{sentence} [1]", given))
        if "," in sentence[:-1]:
            cut = sentence[: sentence.rindex(",")].rstrip() + "."
            if len(cut.split()) >= 5:
                cases.append(("right, cut at a comma", True, f"{cut} [1]", given))
        nums = re.findall(r"(?<![\w.])\d+(?![\d.,]\d)", sentence)
        if nums:
            n = rng.choice(nums)
            cases.append(("wrong: number changed", False,
                          re.sub(rf"(?<![\w.]){n}(?![\d.,]\d)", str(int(n) + 1), sentence, count=1) + " [1]", given))
        caps = [w for w in re.findall(r"(?<=\s)[A-Z][a-z]{2,}", sentence)]
        pool = {w for i in neigh for w in re.findall(r"(?<=\s)[A-Z][a-z]{2,}", paras[i])} - set(re.findall(r"\w+", text))
        if caps and pool:
            a, b = rng.choice(caps), rng.choice(sorted(pool))
            cases.append(("wrong: name swapped", False, sentence.replace(a, b, 1) + " [1]", given))
        if neigh:
            cases.append(("wrong: cited elsewhere", False, f"{sentence} [2]", given[1:]))
        far = rng.choice(other_sentences)
        fs = split_sentences(far)
        if fs:
            a, b = rng.choice(fs)
            cases.append(("wrong: other article", False, f"{far[a:b]} [1]", given))
    rows: dict[str, list] = {}
    scores: dict[str, list[tuple[float, bool]]] = {}
    for kind, keep, written, given in cases:
        got = v.verify(written, given, emb)
        ok = bool(got) and all(s.verdict == "verified" for s in got)
        right_mark = ok and all(1 in s.marks for s in got) if keep else ok
        r = rows.setdefault(kind, [0, 0])
        r[0] += 1
        r[1] += right_mark if keep else ok
        facts_ok = bool(got) and not (got[0].verdict == "removed" and "is not in" in got[0].reason)
        scores.setdefault(kind, []).append((got[0].score if got else 0.0, facts_ok))
    print(f"{len(cases)} sentences from {len(items)} SQuAD dev questions (seed 7); MIN_SUPPORT {v.MIN_SUPPORT}, "
          f"COVER_WEIGHT {v.COVER_WEIGHT}\n")
    print(f"| {'sentence':<24} | {'n':>5} | {'kept':>6} |")
    print(f"|{'-' * 26}|{'-' * 7}|{'-' * 8}|")
    for kind in sorted(rows):
        n, kept = rows[kind]
        print(f"| {kind:<24} | {n:>5} | {kept / n:>6.3f} |")
    wrong = [rows[k] for k in rows if k.startswith("wrong")]
    n = sum(r[0] for r in wrong)
    print(f"| {'all wrong (false accept)':<24} | {n:>5} | {sum(r[1] for r in wrong) / max(1, n):>6.3f} |")
    if args.grid:
        print("\nMIN_SUPPORT grid (facts check as is): kept share per kind")
        for t in (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0):
            line = []
            for kind in sorted(scores):
                vals = scores[kind]
                line.append(f"{kind.split(': ')[-1]}={sum(s >= t and f for s, f in vals) / len(vals):.3f}")
            print(f"  {t:.2f}: " + "  ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
