"""Retrieval quality benchmark: dense-only, lexical-only and the shipped fusion,
on SciFact (BEIR), SQuAD v1.1 dev and the real-documents dev set, measured in one run.

    python bench/quality.py                       # everything (slow on a laptop CPU)
    python bench/quality.py --limit-queries 300   # a fixed-seed sample of questions
    python bench/quality.py --only realdocs       # one set

The real documents (``../shared/data/realdocs``: PDF, DOCX and HTML files
read by the real readers) get their own table, scored as ``qa eval`` scores
them (the set's README): the right document and page first and in the top
5, the short answer holding the answer (all, tables, prose), and the
refusals of unanswerable and answerable questions.

Each dataset is indexed once, with the shipped settings, in a temporary folder;
the rows differ only in the weights used at query time (the same index folder
is reopened with other settings, nothing is re-embedded): dense only (passage
and best-sentence cosines), lexical only, the shipped fusion without the
sentence cosines (passage vectors only), and the shipped fusion. The build
time is the same for the rows of a dataset. q/s includes the
evidence-sentence step of every search, as users see it.

Targets (issue "Retrieval quality you can measure"): SciFact nDCG@10 >= 0.75;
SQuAD R@5 >= 0.95 and nDCG@10 >= 0.89; the shipped fusion beats the better
single retriever by >= 0.02 nDCG@10 on both sets.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402
from qa.evaluate import (  # noqa: E402
    DEFAULT_K, REALDOCS_K, ask_realdocs, build_file_index, build_index, format_table, load_dataset, realdocs_result,
    run_queries, sample_queries,
)

DATA = ROOT.parent / "shared" / "data"
DEFAULTS = {
    "scifact": DATA / "scifact-train",
    "squad": DATA / "squad-v1.1-dev" / "dev-v1.1.json",
    "realdocs": DATA / "realdocs",
}
TARGETS = {"scifact": {"ndcg10": 0.75}, "squad": {"recall5": 0.95, "ndcg10": 0.89}}
FUSION_MARGIN = 0.02


def _progress(label):
    def report(done, total):
        print(f"\r{label}: {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)

    return report


def run(datasets: dict[str, Path], limit: int | None, settings: qa.Settings, quiet: bool = False, k: int = DEFAULT_K) -> list[dict]:
    rows = []
    variants = [
        ("dense-only", 1.0, settings.sentence_weight),
        ("lexical-only", 0.0, settings.sentence_weight),
        ("passage vectors only", settings.dense_weight, 0.0),
        ("shipped", settings.dense_weight, settings.sentence_weight),
    ]
    for name, path in datasets.items():
        ds = load_dataset(path)
        queries = sample_queries(ds.queries, limit)
        with tempfile.TemporaryDirectory(prefix=f"docqa-bench-{name}-") as tmp:
            folder = Path(tmp) / "index"
            if ds.kind == "realdocs":
                rows += _realdocs(ds, queries, folder, settings, variants, quiet)
                continue
            idx, build_s = build_index(ds, folder, settings, progress=None if quiet else _progress(f"{name}: indexing"))
            for label, weight, sentence in variants:
                view = qa.Index.open(
                    folder, settings=settings.replace(dense_weight=weight, sentence_weight=sentence), embedder=idx.embedder
                )
                result = run_queries(
                    view, ds, queries, k=k, build_s=build_s,
                    progress=None if quiet else _progress(f"{name} {label}: questions"),
                )
                rows.append({"dataset": name, "run": label, "result": result})
    return rows


def _realdocs(ds, queries, folder: Path, settings: qa.Settings, variants, quiet: bool) -> list[dict]:
    idx, build_s, refused = build_file_index(ds, folder, settings,
                                             progress=None if quiet else _progress("realdocs: indexing"))
    rows = []
    for label, weight, sentence in variants:
        view = qa.Index.open(folder, settings=settings.replace(dense_weight=weight, sentence_weight=sentence),
                             embedder=idx.embedder)
        scores, _, search_s = ask_realdocs(view, queries, k=REALDOCS_K)
        result = realdocs_result(ds, view, scores, k=REALDOCS_K, build_s=build_s, search_s=search_s,
                                 refused_files=refused)
        rows.append({"dataset": "realdocs", "run": label, "result": result, "weights": (weight, sentence)})
    return rows


def realdocs_table(rows: list[dict]) -> str:
    """The real documents' rows: retrieval by document and page, short answer, refusals."""
    out = ["| run | hit@1 | hit@5 | short answer | tables | prose | unanswerable refused | answerable refused |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        groups = {g["group"]: g for g in r["result"].to_dict()["groups"]}
        a, t, p = groups["answerable"], groups["table"], groups["prose"]
        w, s = r["weights"]
        out.append(f"| {r['run']} (w={w:g}, s={s:g}) | {a['hit1']:.3f} | {a['hit5']:.3f} | {a['joined']:.3f} | "
                   f"{t['joined']:.3f} | {p['joined']:.3f} | {r['result'].unanswerable_refused:.3f} | "
                   f"{r['result'].answerable_refused:.3f} |")
    return "\n".join(out)


def verdicts(rows: list[dict]) -> list[str]:
    out = []
    by = {(r["dataset"], r["run"]): r["result"] for r in rows if r["dataset"] != "realdocs"}
    for name in dict.fromkeys(r["dataset"] for r in rows if r["dataset"] != "realdocs"):
        shipped = by[(name, "shipped")]
        for metric, target in TARGETS.get(name, {}).items():
            value = getattr(shipped, metric)
            out.append(f"{name} {metric} {value:.3f} >= {target}: {'PASS' if value >= target else 'FAIL'}")
        best_single = max(by[(name, "dense-only")].ndcg10, by[(name, "lexical-only")].ndcg10)
        margin = shipped.ndcg10 - best_single
        out.append(
            f"{name} fusion margin over best single retriever {margin:+.3f} >= {FUSION_MARGIN}: "
            + ("PASS" if margin >= FUSION_MARGIN else "FAIL")
        )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scifact", type=Path, default=DEFAULTS["scifact"], help="BEIR SciFact folder")
    p.add_argument("--squad", type=Path, default=DEFAULTS["squad"], help="SQuAD v1.1 dev JSON file")
    p.add_argument("--realdocs", type=Path, default=DEFAULTS["realdocs"], help="real-documents folder (docs/, questions.jsonl)")
    p.add_argument("--only", choices=sorted(DEFAULTS), help="run one dataset only")
    p.add_argument("--limit-queries", type=int, metavar="N", help="ask N questions per dataset (fixed-seed sample)")
    p.add_argument("--passage-tokens", type=int, help="override the shipped passage length")
    p.add_argument("-k", type=int, default=DEFAULT_K,
                   help="hits (passages) asked per question first; BEIR asks more until 10 distinct documents are ranked")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)

    settings = qa.Settings()  # the shipped defaults, not the environment
    if args.passage_tokens:
        settings = settings.replace(passage_tokens=args.passage_tokens)
    datasets = {"scifact": args.scifact, "squad": args.squad, "realdocs": args.realdocs}
    if args.only:
        datasets = {args.only: datasets[args.only]}
    t0 = time.perf_counter()
    rows = run(datasets, args.limit_queries, settings, quiet=args.quiet or args.json, k=args.k)
    total = time.perf_counter() - t0
    if args.json:
        print(json.dumps(
            {
                "settings": {"dense_weight": settings.dense_weight, "sentence_weight": settings.sentence_weight,
                             "passage_tokens": settings.passage_tokens, "k": args.k},
                "rows": [{"dataset": r["dataset"], "run": r["run"], **r["result"].to_dict()} for r in rows],
                "verdicts": verdicts(rows),
                "total_s": total,
            },
            indent=1,
        ))
        return 0
    table_rows = [(f"{r['dataset']:<8} {r['run']} (w={r['result'].dense_weight:g}, s={r['result'].sentence_weight:g})",
                   r["result"]) for r in rows if r["dataset"] != "realdocs"]
    if table_rows:
        print(format_table(table_rows))
        print()
    real = [r for r in rows if r["dataset"] == "realdocs"]
    if real:
        print(realdocs_table(real))
        print()
    print(f"shipped settings: dense_weight={settings.dense_weight}, sentence_weight={settings.sentence_weight}, "
          f"passage_tokens={settings.passage_tokens}; k={args.k} hits per question (realdocs: {REALDOCS_K}); build s is per dataset "
          f"(one index, four query-time settings); total {total:.0f} s")
    for line in verdicts(rows):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
