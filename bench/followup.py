"""Follow-up or new question? Scripted two-turn conversations from the dev sets, classified.

    PYTHONPATH=. .venv/bin/python bench/followup.py [--per-article 12] [--index /tmp/docqa-squad]

Each conversation: a first question of a SQuAD dev article is asked (the real
index over the SQuAD dev articles, the real model), then a second question:

* ``follow-up, pronoun``: another question of the same article that names
  the article's subject, with that name replaced by "it" ("When did it
  open?" after a question about the bridge): it needs the conversation;
* ``follow-up, short``: "why?", "and when?", "what about <a word of another
  question of the article>?";
* ``new, other article``: a question of another SQuAD article, as written;
* ``new, real documents``: a question of the realdocs dev set, as written.

Classified right: a follow-up searched with the conversation's context, a
new question searched on its own (``Index.answer(..., history=)``: what the
chat does). Columns: docqa (a question that leans by its form but names a
subject of its own is searched alone first, and stays a follow-up only if
that finds the conversation's documents) and, in the same run, the rule by
form alone (openers, pronouns, few content words).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-article", type=int, default=12)
    ap.add_argument("--index", default="/tmp/docqa-squad-followup")
    args = ap.parse_args()

    import qa
    from qa.evaluate import open_or_build, read_jsonl, read_squad
    from qa.followup import is_follow_up

    squad = read_squad(SHARED / "squad-v1.1-dev" / "dev-v1.1.json")
    settings = qa.Settings()
    idx = open_or_build(squad, args.index, settings, log=lambda m: print(m, file=sys.stderr))
    real = [q["question"] for q in read_jsonl(SHARED / "realdocs" / "questions.jsonl")]
    rng = random.Random(13)
    by_article: dict[str, list[str]] = {}
    for q in squad.queries:
        by_article.setdefault(q.doc_id, []).append(q.text)
    titles = dict(zip(squad.ids, squad.titles))
    articles = sorted(by_article)
    cases: list[tuple[str, bool, str, str]] = []  # (kind, is follow-up, first, second)
    for n, art in enumerate(articles):
        qs = by_article[art]
        title = titles[art]
        named = [q for q in qs if re.search(rf"\b{re.escape(title)}\b", q, re.I)]
        others = [q for a in articles if a != art for q in by_article[a]]
        for _ in range(args.per_article):
            first = rng.choice(qs)
            if named:
                second = rng.choice(named)
                cases.append(("follow-up, pronoun", True, first,
                              re.sub(rf"\b(the )?{re.escape(title)}\b", "it", second, count=1, flags=re.I)))
            word = rng.choice([w for w in re.findall(r"[A-Za-z]{5,}", rng.choice(qs))] or ["that"])
            cases.append(("follow-up, short", True, first, rng.choice(["why?", "and when?", "how?",
                                                                      f"what about {word.lower()}?"])))
            cases.append(("new, other article", False, first, rng.choice(others)))
            cases.append(("new, real documents", False, first, rng.choice(real)))
    firsts = {}
    rows: dict[str, list[int]] = {}
    for kind, follow, first, second in cases:
        if first not in firsts:
            firsts[first] = idx.answer(first, k=5)
        got = idx.answer(second, k=5, history=[firsts[first]])
        ours = got.query != got.question  # searched with the conversation's context
        form = is_follow_up(second)
        r = rows.setdefault(kind, [0, 0, 0])
        r[0] += 1
        r[1] += ours == follow
        r[2] += form == follow
    print(f"{len(cases)} conversations over {len(articles)} SQuAD dev articles (seed 13)\n")
    print(f"| {'second question':<22} | {'n':>5} | {'docqa: right':>12} | {'form alone: right':>17} |")
    print(f"|{'-' * 24}|{'-' * 7}|{'-' * 14}|{'-' * 19}|")
    for kind in ("follow-up, pronoun", "follow-up, short", "new, other article", "new, real documents"):
        n, ours, form = rows.get(kind, [0, 0, 0])
        print(f"| {kind:<22} | {n:>5} | {ours / max(1, n):>12.3f} | {form / max(1, n):>17.3f} |")
    for label, pick in (("all follow-ups", True), ("all new questions", False)):
        sel = [v for k, v in rows.items() if k.startswith("follow") == pick]
        n = sum(v[0] for v in sel)
        print(f"| {label:<22} | {n:>5} | {sum(v[1] for v in sel) / max(1, n):>12.3f} | "
              f"{sum(v[2] for v in sel) / max(1, n):>17.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
