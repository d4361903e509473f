"""Retrieval quality through the Milvus store next to the embedded store, on the same passages.

    PYTHONPATH=. python bench/milvus_quality.py ../shared/data/scifact-train [--limit-queries N] [--store-uri m.db]

Embedding a development set is most of `qa eval`'s time (SciFact: 18k
passages, about 8 minutes on two cores), so this script embeds it once: it
builds the embedded index as `qa eval` does, asks the questions, then writes
the very same passages, vectors and sentence vectors into the Milvus store
(through the storage seam, with the Milvus store's own ids) and asks the same
questions through :meth:`Index.search` there. The difference between the two
rows is the store's alone: HNSW against exact FAISS search, and Milvus's BM25
index against the embedded one. (`QA_STORE_URI=... qa eval DATASET` runs the
whole path through Milvus, embedding included.)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from qa import evaluate  # noqa: E402
from qa.index import Index  # noqa: E402
from qa.ingest import context as _context  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.storage import Change, NewDocument  # noqa: E402


def copy_to(src: Index, settings: Settings, folder: Path) -> tuple[Index, float]:
    """A new index in ``settings``' store holding ``src``'s passages and vectors; returns it and the seconds taken."""
    t0 = time.perf_counter()
    dst = Index.open(folder, settings=settings, embedder=src.embedder, rebuild=True)
    snap, view = src.view(), dst.view()
    docs = list(snap.manifest.documents.values())
    for i in range(0, len(docs), evaluate.BATCH_DOCS):  # one commit per batch, as add_texts does
        added = []
        for d in docs[i : i + evaluate.BATCH_DOCS]:
            old = list(d.passage_ids)
            passages = [snap.passages[o] for o in old]
            texts = [_context(p.title, p.text, p.heading) for p in passages]
            added.append(NewDocument(dataclasses.replace(d, passage_ids=[]), passages, snap.vectors.reconstruct(old),
                                     [snap.sentences.get(o) for o in old], texts))
        view = dst.store.commit(view, Change(view.manifest.copy(), [], added))
    dst = Index.open(folder, settings=settings, embedder=src.embedder)
    return dst, time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset")
    p.add_argument("--limit-queries", type=int)
    p.add_argument("--store-uri", default="", help="Milvus store to compare (default: Milvus Lite in a temporary folder)")
    p.add_argument("--files-index", help="an index folder already built from this dataset with the shipped "
                   "settings (by an earlier run), instead of embedding it again")
    p.add_argument("--json", help="also write both results here")
    args = p.parse_args(argv)
    settings = Settings.from_env()
    dataset = evaluate.load_dataset(args.dataset)
    queries = evaluate.sample_queries(dataset.queries, args.limit_queries)
    with tempfile.TemporaryDirectory(prefix="docqa-mq-") as tmp:
        if args.files_index:
            files, build_s = Index.open(args.files_index, settings=settings.replace(store_uri="")), 0.0
            if len(files.documents()) != len(dataset.ids):
                raise SystemExit(f"{args.files_index} holds {len(files.documents())} documents, the dataset {len(dataset.ids)}")
        else:
            files, build_s = evaluate.build_index(dataset, Path(tmp) / "files", settings.replace(store_uri=""))
        ours = evaluate.run_queries(files, dataset, queries, build_s=build_s)
        milvus_settings = settings.replace(store_uri=args.store_uri or str(Path(tmp) / "milvus.db"))
        milvus, copy_s = copy_to(files, milvus_settings, Path(tmp) / "milvus")
        theirs = evaluate.run_queries(milvus, dataset, queries, build_s=copy_s)
    rows = [("embedded (FAISS + BM25 files)", ours), (f"milvus ({milvus_settings.store_uri.split('/')[-1]})", theirs)]
    print(evaluate.format_table(rows))
    print(f"nDCG@10 difference (milvus - embedded): {theirs.ndcg10 - ours.ndcg10:+.4f}; "
          f"milvus 'build s' is the copy of the embedded index's passages into Milvus, not embedding")
    if args.json:
        Path(args.json).write_text(json.dumps({"embedded": ours.to_dict(), "milvus": theirs.to_dict()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
