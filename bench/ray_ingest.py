"""Ingestion on Ray next to plain `qa index`, both measured in one run on the same corpus.

    .venv/bin/python bench/ray_ingest.py                   # the first 12 SQuAD dev articles
    .venv/bin/python bench/ray_ingest.py --squad 0 --scifact 500

The corpus is written as text files (title on the first line) into a
temporary folder; each row indexes it from scratch into its own index folder,
through `Index.sync` as `qa index` does. Rows:

* plain: one process, the model loaded before the clock starts.
* Ray: a local Ray instance with every core of this machine (`--ray local`);
  its start-up is timed apart. Indexing time includes what every Ray sync
  pays: the read tasks, starting the actor pool and loading the model in it.

Start-up is shown apart because a cluster is started once, not per sync.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

import qa  # noqa: E402
from qa.embedding import load_embedder  # noqa: E402
from qa.evaluate import load_dataset  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from speed import machine, table  # noqa: E402


def write_corpus(folder: Path, n_squad: int, n_scifact: int) -> int:
    """The first articles / abstracts as text files; returns how many."""
    docs = []
    if n_squad:
        squad = load_dataset(DATA / "squad-v1.1-dev" / "dev-v1.1.json")
        docs += list(zip(squad.ids, squad.titles, squad.texts))[:n_squad]
    if n_scifact:
        sci = load_dataset(DATA / "scifact-train")
        docs += list(zip(sci.ids, sci.titles, sci.texts))[:n_scifact]
    folder.mkdir(parents=True)
    for n, (doc_id, title, text) in enumerate(docs):
        (folder / f"{n:05d}-{str(doc_id)[:40].replace('/', '_')}.txt").write_text(f"{title}\n\n{text}\n")
    return len(docs)


def timed_sync(settings: qa.Settings, ray_address: str | None = None) -> tuple[float, int]:
    """Seconds to index the corpus into a new index, and its passages."""
    t0 = time.perf_counter()
    idx = qa.Index.open(settings=settings, rebuild=True)
    report = idx.sync(ray_address=ray_address)
    assert not report.errors, report.errors
    return time.perf_counter() - t0, len(idx)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--squad", type=int, default=12, help="SQuAD dev articles (default 12)")
    ap.add_argument("--scifact", type=int, default=0, help="SciFact abstracts (default 0)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="docqa-ray-bench-"))
    n_docs = write_corpus(work / "corpus", args.squad, args.scifact)
    settings = qa.Settings(corpus_dir=work / "corpus", index_dir=work / "plain")
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}")
    print(f"corpus: {n_docs} documents ({args.squad} SQuAD articles, {args.scifact} SciFact abstracts)\n")

    t0 = time.perf_counter()
    load_embedder(settings)  # the plain row's model, loaded (and exported, once) before its clock
    model_s = time.perf_counter() - t0
    plain_s, plain_n = timed_sync(settings)

    import ray

    t0 = time.perf_counter()
    ray.init(address="local", include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    start_s = time.perf_counter() - t0
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ray_s, ray_n = timed_sync(settings.replace(index_dir=work / "ray"), "local")
    cpus = int(ray.cluster_resources().get("CPU", 0))
    ray.shutdown()
    assert ray_n == plain_n, (ray_n, plain_n)

    rows = [
        ["plain `qa index`", f"{model_s:.1f} (model load)", plain_n, f"{plain_s:.1f}", f"{plain_n / plain_s:.1f}",
         f"{plain_n / (plain_s + model_s):.1f}"],
        [f"`qa index --ray local` ({cpus} CPUs)", f"{start_s:.1f} (ray.init)", ray_n, f"{ray_s:.1f}",
         f"{ray_n / ray_s:.1f}", f"{ray_n / (ray_s + start_s):.1f}"],
    ]
    print(table(["path", "start-up s", "passages", "indexing s", "passages/s", "passages/s with start-up"], rows))
    print(f"\nRay / plain, indexing only: {plain_s / ray_s:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
