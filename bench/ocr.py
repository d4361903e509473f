"""OCR engines on clean scans made from text PDFs: characters right, and seconds per page.

    PYTHONPATH=. .venv/bin/python bench/ocr.py                 # 12 pages, both engines
    PYTHONPATH=. .venv/bin/python bench/ocr.py --pages 40 --per-document 4 --no-rapidocr

Pages: the first page of the dev set's text PDFs (``../shared/data/realdocs``,
the prose ones: pdf.js and pdfminer.six test files) in English, letter/A4 size, each
rendered in grayscale at ``--dpi`` with pypdfium2 and wrapped as an
image-only one-page PDF: a clean scan whose true text is known.

Rows:

* ``docqa (tesseract)``: ``qa.readers.pdf.parse`` on the scan (OCR by
  Tesseract, one process per page, then the same layout analysis as a
  text page), against the same function on the original page;
  seconds per page counted over the whole document read with the engine's
  pages side by side (``OcrOptions.workers()``, one per core), and alone
  (one page at a time);
* ``rapidocr``: RapidOCR 1.4 (PP-OCRv4 on ONNX Runtime, the models in its
  wheel) on the same images, its lines joined in its order (only where
  ``rapidocr_onnxruntime`` is installed: not a docqa dependency).

``chars``: the share of the reference text's characters matched in order
(difflib's matching blocks; whitespace runs made single spaces; reading
order counts);
``chars, order aside``: the same over the texts' words sorted, so that a
different reading order of a complex page (a form, a two-column paper whose
text layer is itself out of order) does not count as misread characters,
and engines without layout analysis are compared fairly; ``words``: the
share of the reference's words found (as a multiset) in the OCR's.
"""

from __future__ import annotations

import argparse
import difflib
import io
import statistics
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DOCS = ROOT.parent / "shared" / "data" / "realdocs" / "docs"


def char_accuracy(ref: str, got: str) -> float:
    """The share of the reference's characters that the OCR gives in the same order (difflib's
    matching blocks, junk heuristic off)."""
    ref, got = " ".join(ref.split()), " ".join(got.split())
    matcher = difflib.SequenceMatcher(None, ref, got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / max(len(ref), 1)


def char_accuracy_unordered(ref: str, got: str) -> float:
    """char_accuracy over the texts' words sorted: characters right whatever the reading order."""
    return char_accuracy(" ".join(sorted(ref.split())), " ".join(sorted(got.split())))


def word_recall(ref: str, got: str) -> float:
    r, g = Counter(ref.split()), Counter(got.split())
    return sum((r & g).values()) / max(sum(r.values()), 1)


def pages(n: int, dpi: int, per_document: int = 1):
    """(name, one-page text PDF bytes, its scan as image-only PDF bytes, PIL image): up to
    ``per_document`` pages of each document (its first, then pages spread over it)."""
    import pypdfium2 as pdfium

    out = []
    for path in sorted(DOCS.glob("*.pdf")):
        if not path.name.startswith(("pdfjs__", "pdfminer__")) or "TAMReview" in path.name:
            continue
        pdf = pdfium.PdfDocument(path.read_bytes())
        count = len(pdf)
        for index in sorted({round(k * (count - 1) / max(per_document - 1, 1)) for k in range(min(per_document, count))}):
            w, h = pdf[index].get_size()
            if not (500 <= max(w, h) <= 900):  # letter and A4 pages only
                continue
            text = pdf[index].get_textpage().get_text_range()
            if len(text) < 200 or sum(c.isascii() for c in text) < 0.95 * len(text):
                continue  # English pages with text (the engines run with their English models)
            one = pdfium.PdfDocument.new()
            one.import_pages(pdf, [index])
            buf = io.BytesIO()
            one.save(buf)
            image = pdf[index].render(scale=dpi / 72, grayscale=True).to_pil()
            scan = io.BytesIO()
            image.save(scan, "PDF", resolution=dpi)
            out.append((f"{path.name} p.{index + 1}", buf.getvalue(), scan.getvalue(), image))
            if len(out) >= n:
                return out
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--per-document", type=int, default=1, help="pages of each document (first, then spread)")
    ap.add_argument("--no-rapidocr", action="store_true", help="leave RapidOCR's row out")
    args = ap.parse_args()
    from qa.errors import DocumentError
    from qa.readers import limits, ocr_options
    from qa.readers.ocr import engine, version
    from qa.readers.pdf import parse

    if engine() is None:
        print("Tesseract is not installed: apt-get install tesseract-ocr", file=sys.stderr)
        return 1
    sample = pages(args.pages, args.dpi, args.per_document)
    opts = replace(ocr_options(), dpi=args.dpi)
    rows = {}
    refs = {}
    for name, text_pdf, _, _ in sample:
        refs[name] = parse(text_pdf, name, limits()).text
    # docqa, pages one at a time and side by side (the whole sample as one document).
    for label, workers in (("docqa (tesseract), 1 page at a time", 1), ("docqa (tesseract), pages side by side", 0)):
        chars, loose, words, got_conf = [], [], [], []
        o = replace(opts, parallel=workers)
        t = time.perf_counter()
        texts = {}
        for name, _, scan, _ in sample:
            try:
                p = parse(scan, name, limits(), o)
            except DocumentError as exc:
                print(f"{name}: {exc}", file=sys.stderr)
                texts[name] = ""
                continue
            texts[name] = p.text
            got_conf += [c for _, c in p.ocr_pages]
        seconds = (time.perf_counter() - t) / len(sample)
        if workers == 0:  # side by side: time one document of all the pages instead
            images = [image for _, _, _, image in sample]
            buf = io.BytesIO()
            images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=args.dpi)
            t = time.perf_counter()
            parse(buf.getvalue(), "all.pdf", limits(), o)
            seconds = (time.perf_counter() - t) / len(sample)
        for name in texts:
            chars.append(char_accuracy(refs[name], texts[name]))
            loose.append(char_accuracy_unordered(refs[name], texts[name]))
            words.append(word_recall(refs[name], texts[name]))
        rows[label] = (chars, loose, words, seconds, statistics.mean(got_conf))
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        RapidOCR = None
    if args.no_rapidocr:
        RapidOCR = None
    if RapidOCR is not None:
        import numpy as np

        engine_ = RapidOCR()
        chars, loose, words = [], [], []
        t = time.perf_counter()
        for name, _, _, image in sample:
            result, _ = engine_(np.asarray(image.convert("RGB")))
            got = " ".join(r[1] for r in (result or []))
            chars.append(char_accuracy(refs[name], got))
            loose.append(char_accuracy_unordered(refs[name], got))
            words.append(word_recall(refs[name], got))
        rows["rapidocr 1.4 (PP-OCRv4, onnxruntime)"] = (chars, loose, words,
                                                        (time.perf_counter() - t) / len(sample), float("nan"))
    print(f"{len(sample)} pages ({args.per_document} a document of {DOCS.parent.name}'s English text PDFs), "
          f"{args.dpi} dpi grayscale, {version()}\n")
    print("mean (median) over the pages\n")
    print("| engine | chars right, in order | chars right, order aside | words found | s / page | mean confidence |")
    print("|---|---|---|---|---|---|")

    def both(values):
        return f"{statistics.mean(values):.3f} ({statistics.median(values):.3f})"

    for label, (c, loose, w, s, conf) in rows.items():
        print(f"| {label} | {both(c)} | {both(loose)} | {both(w)} | {s:.2f} | {conf:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
