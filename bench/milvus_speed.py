"""Speed of the Milvus store next to the index folder (issue 6), every row measured in one run.

    bash bench/milvus_engine.sh     # once: installs the real engine into bench/.milvus25
    PYTHONPATH=. .venv/bin/python bench/milvus_speed.py        # 300 abstracts; 300 questions at 100k
    PYTHONPATH=. .venv/bin/python bench/milvus_speed.py --index /tmp/bench/idx-100000 --skip-lite

``--index`` takes an index folder bench/speed.py built (``--keep DIR``: DIR/idx-100000).

Three stores: the index folder (the default store), Milvus Lite 3.x
(``QA_STORE_URI=x.db``: a Python engine in docqa's process, behind a gRPC
server on a thread) and a real
Milvus engine, the C++ server that the ``milvus-lite==2.5.1`` wheel ships
(``MILVUS_SERVER_BIN`` names another copy), started on a local port as
tests/conftest.py does and spoken to over gRPC like any Milvus server. It runs
on the same cores as docqa: a cluster's latency adds its network and nodes.

* Ingest: passages/s from raw text to a searchable index through
  ``Index.add_texts``, 256 documents a call as ``qa eval`` builds, for the
  same SciFact abstracts in every store. The model's seconds are timed apart
  (the same work in every store), so "rest" is chunking, BM25 terms and the
  store's writes: the store's own cost.
* Latency: ``Index.answer(q, k=5)`` (evidence and short answer included),
  p50/p99 over SQuAD dev questions after 20 warm-up ones, on a 100k-passage
  index folder (``--index``; without it, the ingest's folder padded to
  ``--size`` passages as bench/speed.py pads), then on its very passages,
  vectors and sentence vectors copied into each Milvus store (copy_to of
  bench/milvus_quality.py: no model work). docqa flushes Milvus Lite after
  every commit and leaves a server to seal its segments itself; this script
  flushes the server after the copy and waits until the server process
  idles ("settle s": index builds, compaction; this engine does not report
  their progress), so the questions find it as a long-running server would
  be and the clock does not count its background work. "same top doc" is
  the share of questions whose first hit is from the same document as the
  index folder's first hit.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import qa  # noqa: E402
from qa.storage.milvus import store as milvus_store  # noqa: E402
from qa.embedding import load_embedder  # noqa: E402
from qa.evaluate import BATCH_DOCS, load_dataset  # noqa: E402

from milvus_engine import EngineError, engine_binary, running_engine  # noqa: E402
from milvus_quality import copy_to  # noqa: E402
from speed import DATA, machine, padded_copy, table  # noqa: E402

WARM_UP = 20  # questions asked before the clock starts: first calls allocate and fill caches


class TimedModel:
    """The embedder, counting the seconds spent in it."""

    def __init__(self, model):
        self.model, self.seconds = model, 0.0

    def __getattr__(self, name):  # name, dim, backend, count_tokens, ...: the model's own
        return getattr(self.model, name)

    def _timed(self, fn, *args):
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds += time.perf_counter() - t0

    def embed(self, texts):
        return self._timed(self.model.embed, texts)

    def embed_passages(self, texts, spans):
        from qa.embedding import embed_passages  # the model's own one-pass method when it has one

        return self._timed(embed_passages, self.model, texts, spans)


@contextmanager
def milvus_engine(folder: Path):
    """URI and process id of the real Milvus engine (bench/milvus_engine.py), stopped on exit."""
    binary = engine_binary()
    if binary is None:
        raise SystemExit("no Milvus engine: run `bash bench/milvus_engine.sh`, "
                         "set MILVUS_SERVER_BIN, or pass --skip-engine")
    try:
        with running_engine(binary, folder) as (uri, pid):
            yield uri, pid
    except EngineError as exc:
        raise SystemExit(str(exc)) from None


NAMES = {"folder": "index folder", "lite": "Milvus Lite 3.2.2 (in process)", "engine": "Milvus 2.5.1 engine (gRPC)"}


def stores(args, work: Path, engine_uri: str | None) -> dict[str, str]:
    """Store key -> QA_STORE_URI, for the stores this run times."""
    out = {"folder": ""}
    if engine_uri:
        out["engine"] = engine_uri
    if not args.skip_lite:  # last: the slowest to copy into at 100k
        out["lite"] = str(work / "lite.db")
    return out


def settings_for(folder: Path, uri: str) -> qa.Settings:
    # For a Milvus store the folder only holds the writer lock.
    return qa.Settings(index_dir=folder, corpus_dir=folder / "no-corpus", store_uri=uri)


# -------------------------------------------------------------------- ingest
def section_ingest(args, work: Path, model: TimedModel, uris: dict[str, str]) -> Path:
    sci = load_dataset(DATA / "scifact-train")
    ids, titles, texts = sci.ids[: args.docs], sci.titles[: args.docs], sci.texts[: args.docs]
    rows, folder = [], None
    for key, uri in uris.items():
        settings = settings_for(work / "ingest" / key, uri)
        idx = qa.Index.open(settings=settings, embedder=model, rebuild=True)
        model.seconds = 0.0
        t0 = time.perf_counter()
        for i in range(0, len(ids), BATCH_DOCS):
            idx.add_texts(texts[i : i + BATCH_DOCS], ids=ids[i : i + BATCH_DOCS], titles=titles[i : i + BATCH_DOCS])
        total = time.perf_counter() - t0
        n = len(idx)
        rest = total - model.seconds
        rows.append([NAMES[key], n, f"{total:.1f}", f"{n / total:.1f}", f"{model.seconds:.1f}", f"{rest:.1f}",
                     f"{1000 * rest / n:.1f}"])
        print(f"  ingest {key}: {total:.1f} s", file=sys.stderr, flush=True)
        if key == "folder":
            folder = settings.index_dir
    print(f"\n### Ingest: {len(ids)} SciFact abstracts through Index.add_texts ({BATCH_DOCS} a call)\n")
    print(table(["store", "passages", "seconds", "passages/s", "model s", "rest s", "rest ms/passage"], rows),
          flush=True)
    return folder


# ------------------------------------------------------------------- latency
def latency(idx: qa.Index, questions: list[str]) -> tuple[list[float], list[str | None]]:
    """Milliseconds of each answer after the warm-up, and each answer's first document."""
    for q in questions[:WARM_UP]:
        idx.answer(q, 5)
    times, tops = [], []
    for q in questions[WARM_UP:]:
        t0 = time.perf_counter()
        a = idx.answer(q, 5)
        times.append((time.perf_counter() - t0) * 1000)
        tops.append(a.hits[0].passage.doc_id if a.hits else None)
    return times, tops


def settle(uri: str, pid: int) -> float:
    """Seconds to flush the server's new rows into sealed segments and for it to finish
    the work that starts (index builds, compaction): until it idles for 3 s."""
    from pymilvus import MilvusClient

    t0 = time.perf_counter()
    client = MilvusClient(uri=uri, timeout=600)
    client.flush(milvus_store.PASSAGES)
    client.close()
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / ticks  # utime + stime

    before = cpu()
    while time.perf_counter() - t0 < 600:
        time.sleep(3)
        now = cpu()
        if now - before < 0.15:  # under 5% of a core
            break
        before = now
    return time.perf_counter() - t0


def section_latency(args, work: Path, model: TimedModel, uris: dict[str, str], source: Path, engine_pid) -> None:
    squad = load_dataset(DATA / "squad-v1.1-dev" / "dev-v1.1.json")
    questions = [q.text for q in squad.queries[: args.queries + WARM_UP]]
    folder = qa.Index.open(source, settings=settings_for(source, ""), embedder=model)
    rows, first = [], None
    for key, uri in uris.items():
        copy_s = settle_s = None
        if key == "folder":
            idx = folder
        else:
            print(f"  copying {len(folder):,} passages into {key} ...", file=sys.stderr, flush=True)
            where = work / "latency" / key
            idx, copy_s = copy_to(folder, settings_for(where, uri), where)
            if key == "engine":
                settle_s = settle(uri, engine_pid)
        asked = questions[: args.lite_queries + WARM_UP] if key == "lite" else questions
        t0 = time.perf_counter()
        times, tops = latency(idx, asked)
        first = first or tops
        same = sum(a == b for a, b in zip(tops, first)) / len(tops)
        times.sort()
        rows.append([NAMES[key], f"{len(idx):,}", len(times), f"{statistics.median(times):.1f}",
                     f"{times[min(len(times) - 1, int(0.99 * len(times)))]:.1f}", f"{same:.3f}",
                     "" if copy_s is None else f"{copy_s:.0f}", "" if settle_s is None else f"{settle_s:.0f}"])
        print(f"  latency {key} ({time.perf_counter() - t0:.0f} s): {rows[-1]}", file=sys.stderr, flush=True)
    print(f"\n### Latency of Index.answer (k=5, evidence and short answer included), SQuAD dev questions\n")
    print(table(["store", "passages", "questions", "p50 ms", "p99 ms", "same top doc", "copy s", "settle s"], rows),
          flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=300, help="SciFact abstracts to ingest")
    ap.add_argument("--queries", type=int, default=300, help="SQuAD questions timed per store")
    ap.add_argument("--lite-queries", type=int, default=300, help="at most this many for Milvus Lite")
    ap.add_argument("--index", type=Path, help="the index folder to time and copy (default: the ingest's, padded)")
    ap.add_argument("--size", type=int, default=100_000, help="passages to pad to without --index")
    ap.add_argument("--skip-lite", action="store_true")
    ap.add_argument("--skip-engine", action="store_true")
    ap.add_argument("--only", choices=["ingest", "latency"])
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the engine is stopped, the folder removed
    # pymilvus logs the engine's refusal of HNSW (the store falls back to AUTOINDEX) with a
    # traceback; its import configures its loggers, so quieten them after it.
    import pymilvus  # noqa: F401

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    print(f"Machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="docqa-mspeed-"))
    # At exit, after Milvus Lite's own shutdown (registered later, so run first), which writes its files once more.
    atexit.register(shutil.rmtree, work, True)
    model = TimedModel(load_embedder(qa.Settings()))
    model.embed(["warm-up"])  # the model loaded before any clock starts
    with milvus_engine(work / "engine") if not args.skip_engine else _nothing() as (engine_uri, engine_pid):
        uris = stores(args, work, engine_uri)
        folder = None
        if args.only != "latency":
            folder = section_ingest(args, work, model, uris)
        if args.only != "ingest":
            source = args.index
            if source is None:
                if folder is None:
                    raise SystemExit("--only latency needs --index")
                source = work / "padded"
                t0 = time.perf_counter()
                padded_copy(folder, source, args.size)
                print(f"  padded to {args.size:,} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            section_latency(args, work, model, uris, source, engine_pid)
    return 0


@contextmanager
def _nothing():
    yield None, None


if __name__ == "__main__":
    sys.exit(main())
