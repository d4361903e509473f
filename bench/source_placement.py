"""How often the source viewer places a cited sentence on its page, and whether it is the right place.

    PYTHONPATH=. .venv/bin/python bench/source_placement.py [--index /tmp/rdview] [--limit N]

Over the real-documents dev set (``../shared/data/realdocs``): every
question is asked, and the first hit in a PDF (or image) is opened with
``Index.source``. Counted: highlighted, shown without a highlight (and
why), and, of the highlighted ones, how many the independent oracle agrees
with: pdfplumber (pdfminer.six) reads the words whose centres lie in the highlight boxes,
and the sentence's letters and digits must be at least ``--agree`` of
theirs (difflib over folded text) and theirs of the sentence's. Baseline,
in the same run: the naive placement a viewer without layout knowledge
does, searching the sentence verbatim (whitespace squeezed) in pdfplumber's
page text.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REALDOCS = ROOT.parent / "shared" / "data" / "realdocs"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="/tmp/docqa-rdview")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--agree", type=float, default=0.8)
    ap.add_argument("--show", action="store_true", help="print each disagreement (stderr)")
    args = ap.parse_args()
    import pdfplumber

    import qa
    from qa.evaluate import read_jsonl
    from qa.source import folded

    settings = qa.Settings(corpus_dir=REALDOCS / "docs", index_dir=Path(args.index),
                           page_cache_dir=Path(args.index) / "pages")
    idx = qa.Index.open(settings=settings)
    t = time.perf_counter()
    idx.sync()
    print(f"index ready in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    questions = list(read_jsonl(REALDOCS / "questions.jsonl"))
    if args.limit:
        questions = questions[: args.limit]
    counts, reasons, naive = collections.Counter(), collections.Counter(), collections.Counter()
    seconds = []
    for q in questions:
        hits = [h for h in idx.answer(q["question"]).hits if h.passage.page_start]
        if not hits:
            continue
        hit = hits[0]
        t = time.perf_counter()
        view = idx.source(hit)
        seconds.append(time.perf_counter() - t)
        if view.kind != "page":
            counts["not a page view"] += 1
            continue
        counts["views"] += 1
        path = settings.corpus_dir / hit.doc_id
        sentence = hit.evidence.text
        with pdfplumber.open(path) as pdf:
            page = pdf.pages[view.page - 1]
            text = re.sub(r"\s+", " ", page.extract_text() or "")
            naive["views"] += 1
            naive["highlighted"] += re.sub(r"\s+", " ", sentence).strip() in text
            if not view.highlight:
                counts["no highlight"] += 1
                reasons[view.note.split(";")[0]] += 1
                continue
            counts["highlighted"] += 1
            # The viewer's points are from the displayed (crop) box's top-left corner; pdfplumber's
            # from its page box's, and it gives the crop box in its own coordinates.
            cx, ctop = page.cropbox[0], page.cropbox[1]
            inside = []
            words = page.extract_words()
            for r in view.highlight:
                x0, top, x1, bottom = r.x0 + cx - 1, r.top + ctop - 1, r.x1 + cx + 1, r.bottom + ctop + 1
                inside.append(" ".join(w["text"] for w in words
                                       if x0 <= (w["x0"] + w["x1"]) / 2 <= x1 and top <= (w["top"] + w["bottom"]) / 2 <= bottom))
        got, want = folded(" ".join(inside))[0], folded(sentence)[0]
        m = difflib.SequenceMatcher(None, want, got, autojunk=False)
        same = sum(b.size for b in m.get_matching_blocks())
        if want and got and same / len(want) >= args.agree and same / len(got) >= args.agree:
            counts["oracle agrees"] += 1
        elif args.show:
            ocr = " (OCR page)" if any(int(n) == view.page for n, _ in idx.documents()[0].ocr_pages) else ""
            print(f"--- {hit.doc_id} p. {view.page}{ocr}\n  cited:  {sentence[:160]!r}\n"
                  f"  inside: {' | '.join(inside)[:160]!r}", file=sys.stderr)
    views = counts["views"] or 1
    print(f"{len(questions)} questions; first PDF hit opened: {counts['views']} page views "
          f"(median {sorted(seconds)[len(seconds) // 2] if seconds else 0:.3f} s per view)\n")
    print(f"| {'placement':<44} | {'highlighted':>11} | {'oracle agrees':>13} |")
    print(f"|{'-' * 46}|{'-' * 13}|{'-' * 15}|")
    print(f"| {'docqa (folded letters, three reading orders)':<44} | {counts['highlighted'] / views:>11.3f} | "
          f"{counts['oracle agrees'] / max(1, counts['highlighted']):>13.3f} |")
    print(f"| {'verbatim search in pdfplumber page text':<44} | {naive['highlighted'] / max(1, naive['views']):>11.3f} | "
          f"{'':>13} |")
    print("\nshown without a highlight, by reason:")
    for reason, n in reasons.most_common():
        print(f"  {n:>4}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
