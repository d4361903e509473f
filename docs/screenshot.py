"""Make docs/chat.png, the README's screenshot: the chat answering the seed question from a PDF,
with the cited page open beside it.

Starts the chat (``python -m ui.app``) on a throw-away corpus holding the seed
article as a PDF (made here with fpdf2, a test extra), asks the seed
article's question in headless Chromium, opens the first citation, and saves
the page. Run from the repository root after ``bash run.sh test`` has set up
``.venv`` and Chromium::

    .venv/bin/python docs/screenshot.py [OUT.png]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
QUESTION = ("Why is Iran getting triggered by the killing of the Hamas leader, "
            "and does it indicate that Iran supports Hamas?")
START_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the chat exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"the chat did not answer on {url} in {START_TIMEOUT_S} s; see {log}")


def _seed_pdf(path: Path) -> None:
    """The seed article as a two-column-free A4 PDF, the way a saved web page looks."""
    from fpdf import FPDF

    text = next((ROOT / "corpus").glob("*.txt")).read_text("utf-8")
    plain = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                                          "\u2013": "-", "\u2014": "-"})).encode("latin-1", "replace").decode("latin-1")
    pdf = FPDF()
    pdf.set_title("Iran orders strike on Israel after Haniyeh killing")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for para in plain.split("\n"):
        if para.strip():
            pdf.multi_cell(0, 5.5, para.strip())
            pdf.ln(2)
    path.write_bytes(bytes(pdf.output()))


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "corpus").mkdir()
        _seed_pdf(base / "corpus" / "iran-orders-strike-on-israel-after-haniyeh-killing.pdf")
        port = _free_port()
        env = dict(os.environ, QA_CORPUS_DIR=str(base / "corpus"), QA_INDEX_DIR=str(base / "index"),
                   QA_HOST="127.0.0.1", QA_PORT=str(port), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
        log = base / "server.log"
        with open(log, "wb") as f:
            proc = subprocess.Popen([sys.executable, "-m", "ui.app"], cwd=ROOT, env=env, stdout=f, stderr=f)
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait(url, proc, log)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                page = browser.new_page(viewport={"width": 1400, "height": 950})
                page.goto(url)
                page.wait_for_selector("#question textarea", timeout=60_000)
                page.fill("#question textarea", QUESTION)
                page.click("#ask")
                expect(page.locator("#chat .qa-reply")).to_have_count(1, timeout=60_000)
                page.locator("#chat .qa-hit a.qa-src").first.click()
                expect(page.locator("#source-view .qa-hl").first).to_be_visible(timeout=60_000)
                page.evaluate("window.scrollTo(0, 0)")
                page.wait_for_timeout(500)  # the reply's last layout pass
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "chat.png")
