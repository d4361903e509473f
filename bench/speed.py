"""Speed and memory benchmark: docqa next to baselines, every row measured in one run.

    .venv/bin/python bench/speed.py                      # ingest + 10k/100k latency + start-up
    .venv/bin/python bench/speed.py --sizes 10000,100000,1000000
    .venv/bin/python bench/speed.py --only ingest --ingest-docs 600

Sections (each prints a table; paste them into bench/RESULTS.md):

* Ingestion, passages/s from raw text to a saved, searchable index, on SciFact
  abstracts and SQuAD articles from ../shared/data. Rows: docqa as shipped
  (ONNX int8), docqa with the torch backend, the naive pipeline
  (sentence-transformers ``encode`` fp32, batch 32, ``IndexFlatIP``, written
  to disk), and txtai ``Embeddings`` with the same bundled model path. All four
  embed the very same passage texts (the ones docqa's chunker made, title
  included), so they do the same model work; docqa's time also includes
  chunking, BM25, sentence vectors and the atomic snapshot. txtai is installed
  on first use into bench/.txtai (ignored by git), never into the project.
* Query latency of ``Index.answer`` end to end (question embedding, dense +
  BM25 search, fusion, collapse, evidence sentences, short answer), p50/p99
  over real SQuAD questions, at each size. Above the real corpus's size the
  index is padded with synthetic passages (words of real passages shuffled,
  vectors near real ones), marked "padded" in the table. Each size runs in a
  fresh process, which also reports resident memory after opening the index
  and disk bytes per passage. For an approximate FAISS index, Recall@10
  against exact search over the same vectors.
* Start-up: seconds from starting the chat server (``qa serve``) on
  the 100k index until its HTTP API returns the first answer; next to it,
  the same server importing Gradio the ordinary way (its .pyi stub pass
  kept, see ui/gradio_import.py), rounds alternating.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
TXTAI_DIR = ROOT / "bench" / ".txtai"
# Synthetic passage vectors: a real passage's vector plus Gaussian noise of
# this deviation per dimension (norm about 0.4 against the vector's 1.0), so
# they cluster by topic as real ones do, without being copies.
NOISE = 0.02

import qa  # noqa: E402
from qa.storage import Bm25Params, DocInfo  # noqa: E402
from qa.storage.folder import snapshots  # noqa: E402
from qa.evaluate import load_dataset  # noqa: E402
from qa.ingest import context as _context  # noqa: E402
from qa.storage.folder.segments import Segment  # noqa: E402
from qa.storage.int8 import quantise  # noqa: E402
from qa.types import Passage  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def table(header: list[str], rows: list[list]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in cells[1:]])


def machine() -> str:
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    from qa.onnx_model import has_vnni

    return f"{cpu}, {os.cpu_count()} cores, {'with' if has_vnni() else 'no'} VNNI, Python {sys.version.split()[0]}"


# ------------------------------------------------------------------ ingestion
def corpus_docs(n_scifact: int, n_squad: int):
    sci = load_dataset(DATA / "scifact-train")
    squad = load_dataset(DATA / "squad-v1.1-dev" / "dev-v1.1.json")
    ids = list(sci.ids[:n_scifact]) + list(squad.ids[:n_squad])
    titles = list(sci.titles[:n_scifact]) + list(squad.titles[:n_squad])
    texts = list(sci.texts[:n_scifact]) + list(squad.texts[:n_squad])
    return ids, titles, texts


def ingest_ours(folder: Path, backend: str, ids, titles, texts) -> tuple[float, "qa.Index"]:
    settings = qa.Settings(index_dir=folder, corpus_dir=folder / "no-corpus", backend=backend)
    idx = qa.Index.open(settings=settings, rebuild=True)
    idx.embedder  # model loaded (and exported, once) before the clock starts
    t0 = time.perf_counter()
    for i in range(0, len(ids), 500):  # a few commits, as a user adding folders would
        idx.add_texts(texts[i : i + 500], ids=ids[i : i + 500], titles=titles[i : i + 500])
    return time.perf_counter() - t0, idx


def ingest_naive(passages: list[str], folder: Path) -> float:
    import faiss
    from sentence_transformers import SentenceTransformer

    from qa.embedding import bundled_model_path

    model = SentenceTransformer(bundled_model_path(), device="cpu")
    t0 = time.perf_counter()
    vecs = model.encode(passages, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    faiss.write_index(index, str(folder / "naive.faiss"))
    return time.perf_counter() - t0


TXTAI_SCRIPT = r"""
import json, os, sys, time
os.environ["HF_HUB_OFFLINE"] = "1"
from txtai import Embeddings
path, texts_file, out = sys.argv[1:4]
texts = json.load(open(texts_file))
emb = Embeddings(path=path, content=True)
emb.search  # nothing loaded yet; txtai loads the model on index()
t0 = time.perf_counter()
emb.index((i, t, None) for i, t in enumerate(texts))
emb.save(out)
print(json.dumps({"seconds": time.perf_counter() - t0, "count": emb.count()}))
"""


def ingest_txtai(passages: list[str], folder: Path) -> float | None:
    site = TXTAI_DIR / "site"
    if not (site / "txtai").is_dir():
        print("installing txtai into bench/.txtai (benchmark only) ...", file=sys.stderr, flush=True)
        r = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), "txtai", "msgpack"],
            capture_output=True, text=True,
        )
        if r.returncode:
            print(f"txtai could not be installed: {r.stderr[-500:]}", file=sys.stderr)
            return None
    from qa.embedding import bundled_model_path

    (folder / "texts.json").write_text(json.dumps(passages))
    env = {**os.environ, "PYTHONPATH": str(site)}
    r = subprocess.run(
        [sys.executable, "-c", TXTAI_SCRIPT, bundled_model_path(), str(folder / "texts.json"), str(folder / "txtai")],
        capture_output=True, text=True, env=env,
    )
    if r.returncode:
        print(f"txtai failed: {r.stderr[-800:]}", file=sys.stderr)
        return None
    # The model load happens inside index(); measure it alone and take it off.
    load = subprocess.run(
        [sys.executable, "-c", "import os,time,sys;os.environ['HF_HUB_OFFLINE']='1';"
         "from txtai.vectors import VectorsFactory;t=time.perf_counter();"
         "VectorsFactory.create({'path':sys.argv[1]},None);print(time.perf_counter()-t)", bundled_model_path()],
        capture_output=True, text=True, env=env,
    )
    load_s = float(load.stdout.strip().splitlines()[-1]) if load.returncode == 0 else 0.0
    return json.loads(r.stdout.strip().splitlines()[-1])["seconds"] - load_s


def section_ingest(args, work: Path) -> Path:
    ids, titles, texts = corpus_docs(args.ingest_docs, args.ingest_articles)
    rows = []
    secs, idx = ingest_ours(work / "ours", "onnx-int8", ids, titles, texts)
    passages = [_context(p.title, p.text, p.heading) for p in (idx.view().passages[k] for k in sorted(idx.view().passages))]
    n = len(passages)
    results = {f"docqa (onnx-int8 = {idx.view().manifest.backend} here, shipped)": secs}
    if idx.view().manifest.backend != "onnx-int8-u8":  # a VNNI CPU: the other CPUs' variant beside it
        results["docqa (onnx-int8-u8, as on CPUs without VNNI)"] = ingest_ours(
            work / "ours-u8", "onnx-int8-u8", ids, titles, texts)[0]
    if not args.skip_torch:
        results["docqa (torch backend)"] = ingest_ours(work / "ours-torch", "torch", ids, titles, texts)[0]
    results["naive: ST encode fp32 b32 + IndexFlatIP"] = ingest_naive(passages, work)
    if not args.skip_txtai:
        t = ingest_txtai(passages, work)
        if t is not None:
            results["txtai Embeddings (same model path)"] = t
    base = results["naive: ST encode fp32 b32 + IndexFlatIP"]
    for name, s in results.items():
        rows.append([name, n, f"{s:.1f}", f"{n / s:.1f}", f"{base / s:.2f}x"])
    print(f"\n### Ingestion: {len(ids)} documents ({args.ingest_docs} SciFact abstracts, "
          f"{args.ingest_articles} SQuAD articles) -> {n} passages\n")
    print(table(["pipeline", "passages", "seconds", "passages/s", "vs naive"], rows), flush=True)
    return work / "ours"


# ------------------------------------------------------------------- padding
def padded_copy(real: Path, dest: Path, size: int, seed: int = 0) -> bool:
    """A copy of the index at ``real`` with synthetic passages added up to ``size``; True when padded.
    A copy left in a ``--keep`` folder by an earlier run is made again (the measured code may
    have changed how it writes an index)."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(real, dest)
    snap = snapshots.load(dest)
    n_real = len(snap.passages)
    if size <= n_real:
        return False
    rng = np.random.default_rng(seed)
    real_ids = np.asarray(sorted(snap.passages), np.int64)
    real_vecs = snap.vectors.reconstruct(real_ids)
    words = [snap.passages[int(p)].text.split() for p in real_ids]
    extra, per_doc = size - n_real, 10
    manifest, state = snap.manifest, snap.state.copy()
    pid = state.next_id
    passages, vecs, sents, texts = {}, [], {}, []
    noise = rng.normal(0, NOISE, (extra, real_vecs.shape[1])).astype(np.float32)
    for d in range(0, extra, per_doc):
        doc_id = f"synthetic-{d // per_doc:07d}"
        pids, offset = [], 0
        for _ in range(min(per_doc, extra - d)):
            src = int(rng.integers(n_real))
            w = list(words[src])
            rng.shuffle(w)
            # Sentences of about 20 words, so the evidence step has several to choose from.
            parts = [" ".join(w[i : i + 20]) + "." for i in range(0, max(len(w), 1), 20)]
            text = " ".join(parts)
            spans, pos = [], offset
            for part in parts:
                spans.append((pos, pos + len(part)))
                pos += len(part) + 1
            passages[pid] = Passage(pid, doc_id, doc_id, "", offset, offset + len(text), 1, 1, text, tuple(spans))
            v = real_vecs[src] + noise[pid - snap.state.next_id]
            v /= np.linalg.norm(v)
            vecs.append(v)
            sv = v[None, :] + rng.normal(0, 0.05, (len(spans), real_vecs.shape[1])).astype(np.float32)
            sents[pid] = quantise(sv / np.linalg.norm(sv, axis=1, keepdims=True))
            texts.append(f"{doc_id}\n{text}")
            pids.append(pid)
            offset += len(text) + 1
            pid += 1
        manifest.documents[doc_id] = DocInfo(doc_id, doc_id, "", doc_id, pids, offset, "text")
    state.next_id = pid
    seg = Segment.build(f"seg-{state.next_segment:06d}", manifest.dim, passages, np.stack(vecs), sents, texts,
                        Bm25Params.from_dict(manifest.lexical))
    state.next_segment += 1
    state.segments.append(seg.name)
    snapshots.save(dest, snapshots.Snapshot(manifest, state, snap.segments + [seg]))
    return True


def disk_bytes(index_dir: Path) -> int:
    """Bytes of the live snapshot: its manifest and its segments."""
    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    folders = [gen] + [index_dir / "segments" / n for n in json.loads((gen / "manifest.json").read_text())["segments"]]
    return sum(f.stat().st_size for d in folders for f in d.rglob("*") if f.is_file())


def probe(index_dir: Path, n_queries: int, out: Path) -> None:
    """Run in a fresh process: open the index, ask questions, report latency and memory."""
    base = rss_mb()
    settings = qa.Settings(index_dir=index_dir, corpus_dir=index_dir / "no-corpus")
    t0 = time.perf_counter()
    idx = qa.Index.open(settings=settings)
    open_s = time.perf_counter() - t0
    idx.embedder
    opened = rss_mb()
    squad = load_dataset(DATA / "squad-v1.1-dev" / "dev-v1.1.json")
    questions = [q.text for q in squad.queries[: n_queries + 20]]
    for q in questions[:20]:  # warm-up: first calls allocate
        idx.answer(q, 5)
    times = []
    for q in questions[20:]:
        t = time.perf_counter()
        idx.answer(q, 5)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    result = {
        "passages": len(idx),
        "open_s": open_s,
        "p50_ms": statistics.median(times),
        "p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))],
        "rss_open_mb": opened - base,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vector_kind": idx.view().vectors.kind,
        "disk_bytes": disk_bytes(index_dir),
    }
    # Adding one small document: new segment only (the model call is included).
    t = time.perf_counter()
    note = f"bench-note-{time.time_ns()}"  # new each run, so a re-run of the probe adds again
    idx.add_texts([f"A short new note ({note}): the bench adds one small document to a large index."], ids=[note])
    result["add_one_s"] = time.perf_counter() - t
    result["segments_after_add"] = len(idx.view().segments)
    if idx.view().vectors.kind != "flat":
        vi = idx.view().vectors
        exact = vi.exact()
        qv = idx.embedder.embed(questions[20 : 20 + 200])
        _, approx_ids = vi.search(qv, 10)
        _, exact_ids = exact.search(qv, 10)
        result["recall10"] = float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx_ids, exact_ids)]))
    out.write_text(json.dumps(result))


def section_latency(args, real: Path, work: Path) -> dict[int, Path]:
    rows, made = [], {}
    for size in args.sizes:
        dest = work / f"idx-{size}"
        t0 = time.perf_counter()
        padded = padded_copy(real, dest, size)
        build_s = time.perf_counter() - t0
        made[size] = dest
        out = work / f"probe-{size}.json"
        subprocess.run([sys.executable, __file__, "--probe", str(dest), "--queries", str(args.queries), "--out", str(out)],
                       check=True)
        r = json.loads(out.read_text())
        n = r["passages"]
        vec_bytes = n * 384 * (1 if r["vector_kind"] != "flat" else 4)
        rows.append([
            f"{n:,}" + (" (padded)" if padded else ""), r["vector_kind"], f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
            f"{r['open_s']:.1f}", f"{r['rss_open_mb']:.0f}", f"{r['rss_open_mb'] * 1e6 / n:.0f}",
            f"{(r['rss_open_mb'] * 1e6 - vec_bytes) / 1e6:.0f}", f"{r['disk_bytes'] / n:.0f}",
            f"{r['recall10']:.3f}" if "recall10" in r else "exact", f"{r['add_one_s']:.2f}", f"{build_s:.0f}",
        ])
        print(f"  {size}: {r}", file=sys.stderr, flush=True)
    print(f"\n### Query latency of Index.answer (k=5, evidence and short answer included), {args.queries} SQuAD questions\n")
    print(table(["passages", "FAISS", "p50 ms", "p99 ms", "open s", "RSS after open MB", "RSS B/passage",
                 "RSS beyond vectors MB", "disk B/passage", "Recall@10 vs exact", "add 1 doc s", "pad+save s"], rows),
          flush=True)
    return made


def time_to_first_answer(index_dir: Path, extra_env: dict[str, str]) -> float | None:
    """Seconds from starting `qa serve` on ``index_dir`` until its HTTP API answers (None: never did)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    empty = Path(tempfile.mkdtemp())
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "QA_CORPUS_DIR": str(empty), "QA_PORT": str(port),
           "HF_HUB_OFFLINE": "1", **extra_env}
    from gradio_client import Client  # imported before the clock starts: the client's cost is not the server's

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t0 < 300 and proc.poll() is None:
            try:  # a bare connect until the port is open: cheap, so polling steals no CPU from the server
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                time.sleep(0.05)
                continue
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
                out = client.predict("Which NFL team represented the AFC at Super Bowl 50?", api_name="/answer")
                if isinstance(out, dict) and out.get("hits"):
                    return time.perf_counter() - t0
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        return None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(empty, ignore_errors=True)


# Start-up rows: (label, environment). The baseline is the same server with
# Gradio's stub-writing pass left in its import (ui/gradio_import.py).
STARTUP_ROWS = [
    ("docqa (`qa serve`)", {}),
    ("the same, Gradio's .pyi stub pass kept (DOCQA_GRADIO_STUBS=1)", {"DOCQA_GRADIO_STUBS": "1"}),
]


def section_startup(index_dir: Path, rounds: int = 3) -> None:
    # Rows alternate, round after round, so a slow minute of this shared machine hits both.
    times: dict[str, list[float | None]] = {label: [] for label, _ in STARTUP_ROWS}
    for _ in range(rounds):
        for label, env in STARTUP_ROWS:
            times[label].append(time_to_first_answer(index_dir, env))
    n = len(snapshots.load(index_dir).passages)

    def cell(xs):
        ok = sorted(x for x in xs if x is not None)
        if not ok:
            return "failed", "failed"
        return f"{ok[len(ok) // 2]:.1f}", " / ".join(f"{x:.1f}" if x is not None else "failed" for x in xs)

    print(f"\n### Start-up: `qa serve` on a {n:,}-passage index to the first answer over HTTP ({rounds} rounds)\n")
    print(table(["server", "median s", "each round s"], [[label, *cell(times[label])] for label, _ in STARTUP_ROWS]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["ingest", "latency", "startup"], action="append")
    ap.add_argument("--ingest-docs", type=int, default=1500, help="SciFact abstracts to ingest")
    ap.add_argument("--ingest-articles", type=int, default=12, help="SQuAD articles to ingest")
    ap.add_argument("--sizes", default="10000,100000", help="index sizes for the latency table")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--skip-txtai", action="store_true")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--keep", help="folder to keep the built indexes in (default: a temporary one)")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.probe:
        probe(Path(args.probe), args.queries, Path(args.out))
        return 0
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    only = set(args.only or ["ingest", "latency", "startup"])
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="docqa-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {machine()}")
    try:
        real = work / "ours"
        if "ingest" in only or not (real / "CURRENT").exists():
            real = section_ingest(args, work)
        made = {}
        if "latency" in only or "startup" in only:
            made = section_latency(args, real, work) if "latency" in only else {}
        if "startup" in only:
            target = made.get(100_000)
            if target is None:
                target = work / "idx-100000"
                if not target.exists():
                    padded_copy(real, target, 100_000)
            section_startup(target)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
