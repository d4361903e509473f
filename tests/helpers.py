"""Builders shared by the test modules (test modules do not import each other)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import qa

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "iran-orders-strike-on-israel-after-haniyeh-killing.txt"
SEED_QUESTION = (
    "Why is Iran getting triggered by the killing of the Hamas leader, "
    "and does it indicate that Iran supports Hamas?"
)


class FakeEmbedder:
    """Hashed bag of words: similar word sets give similar vectors. Counts calls."""

    name = "fake-bow"
    dim = 64
    max_tokens = 40

    def __init__(self):
        self.embedded = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def embed(self, texts):
        self.embedded += len(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[i, 0] += 1e-3  # no zero vectors
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def unit(rows):
    """Rows scaled to unit length."""
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


DOCS = {
    "tea": "Green tea comes from the leaves of Camellia sinensis. It is steamed or pan fired.",
    "coffee": "Coffee beans are roasted seeds of the coffee plant. Espresso is brewed under pressure.",
    "bikes": "A bicycle has two wheels and pedals. Gears let the rider climb steep hills.",
}


def open_index(settings, embedder):
    return qa.Index.open(settings=settings, embedder=embedder)


def add_all(idx):
    return idx.add_texts(list(DOCS.values()), ids=list(DOCS), titles=[k.title() for k in DOCS])


def run_qa(*args, env_extra, input_text=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "qa", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def make_pdf(path, pages: list[str], title: str | None = None, blank: tuple[int, ...] = ()):
    """A text PDF, one string per page; page numbers in ``blank`` get no text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    for number, text in enumerate(pages, start=1):
        pdf.add_page()
        if number not in blank:
            pdf.multi_cell(0, 6, text)
    path.write_bytes(bytes(pdf.output()))
    return path


def make_docx(path):
    import docx

    d = docx.Document()
    d.add_heading("Annual Report", level=0)
    d.add_paragraph("This report covers the year in brief.")
    d.add_heading("Results", level=1)
    d.add_paragraph("Revenue grew by ten percent across all regions.")
    table = d.add_table(rows=4, cols=3)
    rows = [("Region", "Q1", "Q2"), ("North", "10", "12"), ("South", "7", "9"), ("Total", "", "38")]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    table.cell(3, 0).merge(table.cell(3, 1))  # "Total" spans two columns
    d.add_paragraph("")  # empty paragraphs are skipped
    d.add_heading("Outlook", level=2)
    d.add_paragraph("Next year looks\tsteady.")
    d.save(str(path))
    return path


def empty_milvus_server(request) -> str:
    """URI of the session's real Milvus engine, with no docqa collections in it."""
    uri = request.getfixturevalue("milvus_server")
    from pymilvus import MilvusClient

    from qa.storage.milvus import store as milvus_store

    # Dedicated: pymilvus 3 shares one connection per URI and health-checks it
    # with GetVersion after 30 s idle; this engine does not implement
    # GetVersion, so a shared connection is torn down and re-made, which can
    # fail. Timeout generous: this machine is shared and busy.
    # The engine may also answer a new connection with GOAWAY ("too_many_pings")
    # while it throttles an earlier one's keepalive pings: a connection made a
    # moment later is accepted, so a failed connect is tried again, not the test.
    from pymilvus.exceptions import MilvusException

    for attempt in range(4):
        try:
            client = MilvusClient(uri=uri, timeout=60, dedicated=True)
            break
        except MilvusException:
            if attempt == 3:
                raise
            time.sleep(2 * (attempt + 1))
    for name in (milvus_store.HEADER, milvus_store.DOCUMENTS, milvus_store.PASSAGES):
        client.drop_collection(name)  # one server for the session: each test starts empty
    client.close()
    return uri


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from object bodies numbered 1, 2, ...; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_table(path, caption: str, rows: list[list[str]]):
    """A one-page PDF: a sentence, a caption, and ``rows`` as a whitespace-aligned table of four columns."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(15, 15)
    pdf.multi_cell(180, 5, "The harbour office counts every boat that comes in, by kind, and publishes the "
                           "figures each spring so that the town can plan its quays.")
    pdf.set_xy(15, 32)
    pdf.cell(0, 6, caption)
    for k, cells in enumerate(rows):
        for x, value in zip((15, 75, 125, 170), cells):
            pdf.set_xy(x, 40 + 5.5 * k)
            pdf.cell(40, 5.5, value)
    pdf.output(str(path))
    return path


PORTS = ["Alder", "Birchmouth", "Cobble Bay", "Dunmere", "Eastwick", "Fennick", "Gorse Point", "Harlow",
         "Inchcape", "Juniper", "Kestrel Bay", "Larkhall", "Mossgiel", "Northam", "Oakhaven", "Pellow",
         "Quarry Cove", "Rookmoor", "Saltash", "Tarn", "Umber", "Vennel", "Wrenfield", "Yarrow", "Zennor",
         "Ashby", "Brackley", "Corrie", "Dalby", "Elmstead", "Fairlie", "Glenrock", "Hythe", "Ivybridge",
         "Jedburgh", "Kilbride", "Lochend", "Millport", "Nairn", "Orford"]


def harbour_rows() -> list[list[str]]:
    """A header and one row per port of PORTS: 40 rows, the answer to most questions far below the header."""
    return [["Port", "Fishing boats", "Ferries", "Yachts"]] + [
        [port, str(100 + 13 * n), str(2 + n % 7), str(40 + 11 * n)] for n, port in enumerate(PORTS)
    ]


# --- the chat as a process, for the browser and process tests ---------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
START_TIMEOUT_S = 180  # the model load alone takes ~15 s on a small machine
ANSWER_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_chat(base: Path, seed: bool = True, **extra_env):
    """The chat over ``base / "corpus"`` on a free port: the seed article and its example
    questions are put there first (with ``seed``), beside whatever the caller put there."""
    corpus = base / "corpus"
    corpus.mkdir(exist_ok=True)
    if seed:
        shutil.copy(SEED, corpus / SEED.name)
        shutil.copy(SEED.parent / ".docqa-examples", corpus / ".docqa-examples")  # the seed corpus's examples
    port = free_port()
    env = dict(
        os.environ,
        QA_CORPUS_DIR=str(corpus), QA_INDEX_DIR=str(base / "index"),
        QA_HOST="127.0.0.1", QA_PORT=str(port),
        HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
        **extra_env,
    )
    log_path = base / "server.log"
    # A file, not a pipe: nobody reads a pipe while the tests run, and a full one would block the server.
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui.app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the chat exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the chat did not answer on {url} in {START_TIMEOUT_S}s:\n"
                            + log_path.read_text(errors="replace"))
            time.sleep(0.5)
        yield SimpleNamespace(url=url, corpus=corpus, log=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def scan_pdf(path, text_pdf, dpi: int = 150, change=None):
    """An image-only PDF of ``text_pdf``'s pages, each rendered at ``dpi`` (grayscale) with
    pypdfium2 and passed through ``change(page_number, image)`` when given: a scan whose text is known."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(text_pdf))
    images = []
    for number in range(1, len(pdf) + 1):
        image = pdf[number - 1].render(scale=dpi / 72, grayscale=True).to_pil()
        images.append(change(number, image) if change else image)
    pdf.close()
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return path


class Scripted:
    """An OpenAI-compatible /v1/chat/completions that streams ``reply`` (or fails as ``mode`` says)."""

    def __init__(self):
        from llm_server import chat_server, send_stream

        self.reply, self.mode, self.requests = "", "ok", []

        def handle(request, body):
            self.requests.append(body)
            if self.mode in ("429", "500"):
                request.send_response(int(self.mode))
                if self.mode == "429":
                    request.send_header("Retry-After", "7")
                request.end_headers()
                request.wfile.write(b"boom")
            elif self.mode == "garbled":
                request.send_response(200)
                request.send_header("Content-Type", "text/event-stream")
                request.end_headers()
                request.wfile.write(b"data: {not json\n\n")
            else:
                if self.mode == "slow":
                    time.sleep(3)
                send_stream(request, (word + " " for word in self.reply.split(" ")))

        self.port = free_port()
        self.server, self.url = chat_server(handle, self.port)
