"""PDF text extraction libraries on the real-documents dev set: speed and what the text holds.

    PYTHONPATH=. .venv/bin/python bench/pdf_readers.py                 # every library
    PYTHONPATH=. .venv/bin/python bench/pdf_readers.py --only docqa,baseline --rounds 3

For each library: pages/s over all the dev set's PDFs (one process, files
read into memory first; PDFs opened from bytes, every page's text
extracted; libraries interleaved file by file, best of ``--rounds``), and
the share of answerable PDF questions whose gold answer
occurs in the extracted text of the gold page, normalised and digit-bounded
as the dev set's README scores a short answer (qa.evaluate.answer_in): an
upper bound for any short answer built on that text.

Rows:

* ``baseline``: the reader shipped before layout analysis (bench/pdf_baseline.py,
  pypdf ``extract_text`` per page) through its ``parse()``, result serialised
  to JSON as the worker sends it;
* ``docqa``: ``qa.readers.pdf.parse`` (pypdfium2 + qa.readers.layout), same;
* ``pypdf``, ``pypdfium2``, ``pdfplumber``, ``pdfminer.six``: the library's
  own plain per-page text (pypdf ``extract_text``, pypdfium2
  ``get_text_range``, pdfplumber ``extract_text``, pdfminer.six
  ``extract_pages`` with default LAParams).

"text-layer" pages/s leaves out the PDFs that have a page without a usable
text layer (pdfjs__TAMReview.pdf).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qa.evaluate import TABLE_KINDS, UNANSWERABLE, answer_in, load_dataset  # noqa: E402
from qa.readers import limits as reader_limits  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "realdocs"
PAGE_BREAK = "\n\f\n"  # both readers' page break
NO_TEXT_LAYER = {"pdfjs__TAMReview.pdf"}


def pages_pypdf(data: bytes) -> list[str]:
    import pypdf

    return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def pages_pypdfium2(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    out = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            tp = page.get_textpage()
            out.append(tp.get_text_range())
            tp.close()
            page.close()
    finally:
        pdf.close()
    return out


def pages_pdfplumber(data: bytes) -> list[str]:
    import pdfplumber

    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            out.append(page.extract_text() or "")
            page.close()  # its caches grow with the document otherwise
    return out


def pages_pdfminer(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer

    return ["".join(el.get_text() for el in page if isinstance(el, LTTextContainer))
            for page in extract_pages(io.BytesIO(data), laparams=LAParams())]


def _via_parse(parse):
    def pages(data: bytes) -> list[str]:
        parsed = parse(data, "bench.pdf", reader_limits())
        json.dumps(parsed.to_dict(), ensure_ascii=False)  # what the worker sends back
        starts = list(parsed.pages) + [len(parsed.text) + len(PAGE_BREAK)]
        return [parsed.text[a:b - len(PAGE_BREAK)] for a, b in zip(starts, starts[1:])]

    return pages


def pages_baseline(data: bytes) -> list[str]:
    import pdf_baseline

    return _via_parse(pdf_baseline.parse)(data)


def pages_docqa(data: bytes) -> list[str]:
    from qa.readers import pdf

    return _via_parse(pdf.parse)(data)


LIBRARIES = {
    "baseline": pages_baseline,
    "docqa": pages_docqa,
    "pypdf": pages_pypdf,
    "pypdfium2": pages_pypdfium2,
    "pdfplumber": pages_pdfplumber,
    "pdfminer.six": pages_pdfminer,
}


def measure(names: list[str], files: list[Path], questions, rounds: int) -> tuple[list, dict, dict]:
    """Every library on every file, interleaved (file by file, library by library, ``rounds``
    times), so that a machine busier in one minute than in another favours none of them; the
    best time of each file counts."""
    blobs = {p.name: p.read_bytes() for p in files}
    for name in names:  # imports and first-use caches outside the clock
        LIBRARIES[name](blobs[files[0].name])
    best: dict[str, dict[str, float]] = {n: {} for n in names}
    texts: dict[str, dict[str, list[str]]] = {n: {} for n in names}
    failed: dict[str, list[str]] = {n: [] for n in names}
    for _ in range(rounds):
        for file_name, data in blobs.items():
            for name in names:
                t0 = time.perf_counter()
                try:
                    pages = LIBRARIES[name](data)
                except Exception as exc:  # a library that cannot read a file: counted, not fatal
                    pages = []
                    note = f"{file_name} ({type(exc).__name__}: {str(exc)[:60]})"
                    if note not in failed[name]:
                        failed[name].append(note)
                dt = time.perf_counter() - t0
                best[name][file_name] = min(dt, best[name].get(file_name, dt))
                texts[name][file_name] = pages
    rows = []
    for name in names:
        n_pages = {f: len(t) for f, t in texts[name].items()}
        total_pages, total_s = sum(n_pages.values()), sum(best[name].values())
        text_layer = [f for f in blobs if f not in NO_TEXT_LAYER]
        tl_pages, tl_s = sum(n_pages[f] for f in text_layer), sum(best[name][f] for f in text_layer)
        hits = defaultdict(list)
        for q in questions:
            pages = texts[name].get(q.doc_id, [])
            page = pages[q.page - 1] if q.page is not None and q.page <= len(pages) else ""
            ok = answer_in(q.answers[0], page)
            hits["all"].append(ok)
            hits["table" if q.question_kind in TABLE_KINDS else "prose"].append(ok)
        share = {g: sum(v) / len(v) for g, v in hits.items() if v}
        rows.append([name, total_pages, f"{total_s:.2f}", f"{total_pages / total_s:.1f}", f"{tl_pages / tl_s:.1f}",
                     f"{share.get('all', 0):.3f}", f"{share.get('table', 0):.3f}", f"{share.get('prose', 0):.3f}"])
    return rows, failed, texts


def table(header: list[str], rows: list[list]) -> str:
    """A markdown table (the format of bench/speed.py's, without importing that script's dependencies)."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def main(argv=None) -> int:
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf logs every oddity of a damaged file
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA), help="real-documents folder (docs/, questions.jsonl)")
    ap.add_argument("--only", help="comma-separated libraries: " + ",".join(LIBRARIES))
    ap.add_argument("--rounds", type=int, default=1, help="extract every file this many times; the best time counts")
    ap.add_argument("--dump", metavar="DIR", help="write each library's page texts to DIR/<library>/<file>.txt")
    args = ap.parse_args(argv)
    dataset = load_dataset(args.data)
    files = [p for p in dataset.files if p.suffix.lower() == ".pdf"]
    questions = [q for q in dataset.queries
                 if q.question_kind != UNANSWERABLE and q.doc_id.lower().endswith(".pdf")]
    names = args.only.split(",") if args.only else list(LIBRARIES)

    for name in names:
        if name not in LIBRARIES:
            ap.error(f"unknown library {name!r}; choose from {', '.join(LIBRARIES)}")
    print(f"{', '.join(names)} ...", file=sys.stderr, flush=True)
    rows, failed, texts = measure(names, files, questions, args.rounds)
    for name in names:
        for f in failed[name]:
            print(f"  {name} could not read {f}", file=sys.stderr)
        if args.dump:
            out = Path(args.dump) / name
            out.mkdir(parents=True, exist_ok=True)
            for file_name, pages in texts[name].items():
                (out / f"{file_name}.txt").write_text("\n\f\n".join(pages), "utf-8")
    by_name = {r[0]: r for r in rows}
    if "baseline" in by_name and "docqa" in by_name:
        ratio = float(by_name["docqa"][3]) / float(by_name["baseline"][3])
        print(f"docqa / baseline pages/s: {ratio:.2f}x", file=sys.stderr)
    print(f"{len(files)} PDFs, {len(questions)} answerable PDF questions "
          f"({sum(q.question_kind in TABLE_KINDS for q in questions)} table, "
          f"{sum(q.question_kind not in TABLE_KINDS for q in questions)} prose); best of {args.rounds} round(s)")
    print(table(["library", "pages", "seconds", "pages/s", "pages/s text-layer", "answer on gold page",
                 "table", "prose"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
