"""Load test of the running chat: concurrent simulated users on loopback.

    .venv/bin/python bench/load.py [--users 16] [--seconds 60]

Starts the chat (`python -m ui.app`) on a free loopback port over a copy of
corpus/, then each simulated user asks questions through the chat's HTTP API
(the `/answer` endpoint, the same Answer the page renders) back to back for
the given time. Prints requests/s, p50/p99 latency and the error count. The
request loop is bounded in time and only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Why is Iran getting triggered by the killing of the Hamas leader, and does it indicate that Iran supports Hamas?",
    "Who ordered a military response against Israel?",
    "Where was Haniyeh when he was killed?",
    "What happened in April?",
    "How did Israel's defences perform against the drones?",
    "What is the capital of France?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path, port: int) -> subprocess.Popen:
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    env = {**os.environ, "QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp / "index"),
           "QA_PORT": str(port), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ui.app"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("the chat server exited before it answered")
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the chat server did not start within 300 s")


def user(url: str, stop_at: float, latencies: list, errors: list, n: int) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    i = n
    while time.monotonic() < stop_at:
        q = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        t0 = time.perf_counter()
        try:
            out = client.predict(q, api_name="/answer")
            if not isinstance(out, dict) or "error" in out or "hits" not in out:
                errors.append(repr(out)[:200])
            else:
                latencies.append(time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - every failure counts as an error
            errors.append(f"{type(exc).__name__}: {exc}"[:200])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_server(Path(tmp), port)
        try:
            url = f"http://127.0.0.1:{port}/"
            latencies, errors = [], []
            stop_at = time.monotonic() + args.seconds
            threads = [threading.Thread(target=user, args=(url, stop_at, latencies, errors, n)) for n in range(args.users)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lat = sorted(latencies)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")  # noqa: E731
    print(f"| users | seconds | requests | requests/s | p50 ms | p99 ms | errors |")
    print(f"|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.users} | {elapsed:.0f} | {len(lat)} | {len(lat) / elapsed:.1f} | {p(0.5):.0f} | {p(0.99):.0f} | {len(errors)} |")
    for e in sorted(set(errors))[:5]:
        print("error:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
