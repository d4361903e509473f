"""The source viewer's page on demand: page 400 of a 600-page PDF, drawn with its words and the sentence placed.

    PYTHONPATH=. .venv/bin/python bench/source_view.py [--pages 600 --page 400 --runs 5]

The PDF is made here (fpdf2, A4, 11-point text filling each page). Rows,
each the median of ``--runs`` runs, all in this run:

* ``docqa, first view``: ``draw_isolated`` in the viewing worker (open the
  PDF, draw the page at the viewer's resolution, PNG-encode it, read its
  words with boxes and their reading orders), then placing one sentence of
  the page on it (``qa.source.place_on_page``); the page cache is empty;
* ``docqa, cached``: the same page read back from the page cache and the
  sentence placed again (every later view of that page);
* ``pypdfium2 render only``: in this process, open the PDF, draw the page at
  the same resolution and PNG-encode it: the floor under the first view
  (no worker, no words);
* ``pdftoppm``: poppler's renderer on the same page and resolution (PNG),
  where poppler-utils is installed.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_pdf(path: Path, pages: int) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 5.5, " ".join(
            f"Page {n}, line {i}: the harbour ledger lists the cargo, the crew and the weather." for i in range(44)))
    pdf.output(str(path))
    return path


def median_s(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=600)
    ap.add_argument("--page", type=int, default=400)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    import pypdfium2 as pdfium

    from qa import readers, source
    from qa.readers._client import draw_isolated, shutdown
    from qa.readers.page_view import VIEW_DPI, PageDrawing

    folder = Path(tempfile.mkdtemp(prefix="docqa-bench-view-"))
    try:
        pdf_path = make_pdf(folder / "long.pdf", args.pages)
        sentence = f"Page {args.page}, line 30: the harbour ledger lists the cargo, the crew and the weather."
        limits, ocr = readers.limits(), readers.ocr_options()
        draw_isolated("pdf", pdf_path, "long.pdf", 1, False, limits, ocr)  # the worker started: not counted
        placed = []

        def first_view():
            d = draw_isolated("pdf", pdf_path, "long.pdf", args.page, False, limits, ocr)
            placed.append(source.place_on_page(sentence, "", "", d.words, d.orders))
            return d

        cold = median_s(first_view, args.runs)
        cache = source.PageCache(folder / "pages", 200)
        cache.put("k" * 40, first_view().to_dict())

        def cached():
            d = PageDrawing.from_dict(cache.get("k" * 40))
            placed.append(source.place_on_page(sentence, "", "", d.words, d.orders))

        warm = median_s(cached, args.runs)

        def render_only():
            pdf = pdfium.PdfDocument(str(pdf_path))
            image = pdf[args.page - 1].render(scale=VIEW_DPI / 72).to_pil()
            image.save(io.BytesIO(), format="PNG", compress_level=6)
            pdf.close()

        floor = median_s(render_only, args.runs)
        rows = [("docqa, first view (worker: draw, words, place)", cold),
                ("docqa, cached (read back, place)", warm),
                ("pypdfium2 render only, in process", floor)]
        if shutil.which("pdftoppm"):
            out = folder / "p"
            rows.append(("pdftoppm (poppler)", median_s(lambda: subprocess.run(
                ["pdftoppm", "-png", "-r", str(VIEW_DPI), "-f", str(args.page), "-l", str(args.page),
                 str(pdf_path), str(out)], check=True), args.runs)))
        ok = all(p.words for p in placed)
        print(f"page {args.page} of a {args.pages}-page A4 PDF ({pdf_path.stat().st_size / 1e6:.1f} MB), "
              f"{VIEW_DPI} dpi, median of {args.runs}; sentence placed every time: {ok}\n")
        print(f"| {'what':<48} | {'seconds':>8} | {'x render only':>13} |")
        print(f"|{'-' * 50}|{'-' * 10}|{'-' * 15}|")
        for name, s in rows:
            print(f"| {name:<48} | {s:>8.3f} | {s / floor:>13.2f} |")
        if not shutil.which("pdftoppm"):
            print("\n(pdftoppm not installed: apt-get install poppler-utils for its row)")
        return 0 if ok else 1
    finally:
        shutdown()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
