"""Scans and photos of pages: OCR with the real Tesseract, page numbers, confidence, ceilings.

The scans are made here from text the test knows: a text PDF's pages
rendered to images (pypdfium2) and wrapped as an image-only PDF.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

import qa
from qa.documents import read_document
from qa.errors import DocumentError, SettingsError
from qa.readers import limits, ocr_options
from qa.readers import ocr as ocr_mod
from qa.readers import pdf as pdf_reader
from qa.readers.ocr import OcrWord, parse_tsv, skew, to_words

from helpers import ROOT, make_pdf, scan_pdf

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None,
                                reason="Tesseract is not installed (bash run.sh test installs it)")
LIMIT = 10**9
REALDOCS = ROOT.parent / "shared" / "data" / "realdocs" / "docs"

PAGES = [
    "The lighthouse keeper wrote in his log every evening. The lamp burned whale oil until 1870.",
    "Storms closed the harbour for eleven days in March. The supply boat came back on the twelfth day.",
    "The keeper's daughter repainted the tower red and white in the summer of 1885. "
    "She used forty litres of paint from the mainland.",
    "A new lens arrived from Paris two years later. It could be seen from thirty kilometres away.",
]


# Each page long enough to fill passages of its own, as a real page does.
LONG = [p + " " + " ".join(f"Entry {i} of this page's log records the weather, the tide and the ships seen."
                               for i in range(12)) for p in PAGES]


def scanned(tmp_path, name="keeper.pdf", pages=PAGES, change=None, dpi=150):
    text = make_pdf(tmp_path / f"text-{name}", pages)
    return scan_pdf(tmp_path / name, text, dpi=dpi, change=change)


# ------------------------------------------------------------------------- pure logic
def test_tesseract_tsv_becomes_words_in_reading_order():
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "1\t1\t0\t0\t0\t0\t0\t0\t600\t800\t-1\t\n"
           "5\t1\t1\t1\t1\t1\t10\t20\t50\t12\t96.5\tThe\n"
           "5\t1\t1\t1\t1\t2\t70\t24\t30\t8\t91\tsea\n"
           "5\t1\t1\t1\t1\t3\t110\t20\t5\t12\t-1\t \n")
    words = parse_tsv(tsv)
    assert [(w.text, w.x0, w.top, w.x1, w.bottom) for w in words] == [("The", 10, 20, 60, 32), ("sea", 70, 24, 100, 32)]
    assert words[0].confidence == pytest.approx(0.965)
    laid = to_words(words, scale=0.5)
    # One line, one height: the short word "sea" gets its line's full height (as a text layer's boxes).
    assert [(w.top, w.bottom) for w in laid] == [(10.0, 16.0), (10.0, 16.0)]
    assert laid[1].x0 == 35.0


def test_a_skewed_page_is_laid_level():
    import math

    words = []
    for line in range(4):
        for k in range(5):
            x = 100 + 120 * k
            y = 100 + 60 * line + x * math.tan(math.radians(3))  # falls 3 degrees to the right
            words.append(OcrWord("word", x, y, x + 80, y + 20, 0.9, (1, 1, line)))
    assert math.degrees(skew(words)) == pytest.approx(3.0, abs=0.2)
    laid = to_words(words, 1.0, skew(words), (400, 300))
    for line in range(4):
        tops = {round(w.top) for w in laid[line * 5:(line + 1) * 5]}
        assert max(tops) - min(tops) <= 2


def test_ocr_settings_are_checked():
    with pytest.raises(SettingsError, match="QA_OCR"):
        qa.Settings(ocr="sometimes")
    with pytest.raises(SettingsError, match="QA_OCR_LANGUAGES"):
        qa.Settings(ocr_languages="eng; rm -rf /")
    assert qa.Settings.from_env({"QA_OCR": "force", "QA_OCR_LANGUAGES": "eng+deu"}).ocr_languages == "eng+deu"


# ------------------------------------------------------------------------- the real engine
def test_a_text_pdf_never_enters_ocr(tmp_path):
    events = []
    doc = read_document(make_pdf(tmp_path / "t.pdf", PAGES), "t.pdf", LIMIT, progress=events.append)
    assert doc.ocr_pages == () and events == [] and not doc.warnings


def test_scanned_pdf_is_read_by_ocr_page_by_page(tmp_path):
    events = []
    doc = read_document(scanned(tmp_path), "keeper.pdf", LIMIT, progress=events.append)
    assert [n for n, _ in doc.ocr_pages] == [1, 2, 3, 4]
    assert all(c >= 0.8 for _, c in doc.ocr_pages)
    assert doc.warnings[0].startswith("pages 1-4 were read by OCR (mean confidence ")
    # Progress: announced, then each page.
    assert events[0] == {"ocr": 4} and events[-1] == {"ocr": 4, "done": 4} and len(events) == 5
    from qa.ingest import page_at

    at = doc.text.index("repainted the tower")
    assert page_at(doc, at) == 3
    assert "forty litres of paint" in doc.text and "thirty kilometres" in doc.text


@pytest.mark.slow
def test_question_on_page_three_of_a_scan_is_answered_and_cited_p3(tmp_path, real_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    scanned(corpus, pages=LONG)
    (corpus / "text-keeper.pdf").unlink()
    idx = qa.Index.open(settings=qa.Settings(corpus_dir=corpus, index_dir=tmp_path / "index",
                                             ocr_cache_dir=tmp_path / "ocr"), embedder=real_embedder)
    pages = []
    report = idx.sync(pages=lambda doc_id, event: pages.append((doc_id, event)))
    assert report.added == ("keeper.pdf",) and not report.errors
    assert pages[-1] == ("keeper.pdf", {"ocr": 4, "done": 4})
    answer = idx.answer("How many litres of paint did the keeper's daughter use?")
    assert answer.found
    first = answer.hits[0]
    # A passage may run on across a page break ("pp. 2-3"); the quoted sentence is on page 3.
    assert first.citation.page_start <= 3 <= first.citation.page_end and "3" in first.citation.label
    quote = answer.quotes[0]
    assert "forty litres of paint" in quote.text and quote.doc_id == "keeper.pdf"
    from qa.ingest import page_at

    doc = read_document(corpus / "keeper.pdf", "keeper.pdf", LIMIT)
    assert page_at(doc, quote.start) == 3
    info = idx.documents()[0]
    assert [p for p, _ in info.ocr_pages] == [1, 2, 3, 4]
    assert len(list((tmp_path / "ocr").glob("*/*.json"))) == 1  # kept for a rebuild, with the words' boxes


def test_an_image_file_is_a_one_page_document(tmp_path):
    text = make_pdf(tmp_path / "t.pdf", [PAGES[1]])
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(text))
    pdf[0].render(scale=150 / 72, grayscale=True).to_pil().save(tmp_path / "storm.png", dpi=(150, 150))
    pdf.close()
    doc = read_document(tmp_path / "storm.png", "storm.png", LIMIT)
    assert doc.format == "image" and len(doc.pages) == 1 and doc.ocr_pages[0][0] == 1
    assert "closed the harbour for eleven days" in doc.text
    assert doc.warnings[0].startswith("read by OCR (confidence ")


def test_skewed_and_sideways_scans_are_read(tmp_path):
    def turn(number, image):
        return image.rotate(3, expand=True, fillcolor=255) if number == 1 else image.rotate(90, expand=True)

    doc = read_document(scanned(tmp_path, "turned.pdf", PAGES[:2], turn, dpi=200), "turned.pdf", LIMIT)
    assert "The lighthouse keeper wrote in his log every evening." in doc.text
    assert "Storms closed the harbour for eleven days in March." in doc.text
    from qa.ingest import page_at

    assert page_at(doc, doc.text.index("Storms closed")) == 2


def test_low_contrast_page_is_reported_not_indexed_as_noise(tmp_path):
    from PIL import ImageFilter

    def faint(number, image):
        if number != 2:
            return image
        small = image.resize((image.width // 3, image.height // 3)).filter(ImageFilter.GaussianBlur(1.0))
        return small.resize(image.size).point(lambda v: 190 + v * 65 // 255)  # grey on lighter grey, blurred

    doc = read_document(scanned(tmp_path, "faint.pdf", PAGES[:3], faint), "faint.pdf", LIMIT)
    assert [n for n, _ in doc.ocr_pages] == [1, 3]
    assert any(w.startswith("page 2 was read by OCR with low confidence") for w in doc.warnings), doc.warnings
    assert "Storms" not in doc.text and "lighthouse keeper" in doc.text


def test_a_page_too_faint_to_read_is_named_a_blank_page_is_not(tmp_path):
    from PIL import Image, ImageFilter

    def faint(number, image):
        if number == 2:
            small = image.resize((image.width // 4, image.height // 4)).filter(ImageFilter.GaussianBlur(1.0))
            return small.resize(image.size).point(lambda v: 200 + v * 55 // 255)
        return Image.new("L", image.size, 250) if number == 3 else image

    doc = read_document(scanned(tmp_path, "faint.pdf", PAGES[:3], faint), "faint.pdf", LIMIT)
    assert [n for n, _ in doc.ocr_pages] == [1]
    assert "page 2: OCR found no words on it, though it is not blank" in " ".join(doc.warnings)
    assert "page 3" not in " ".join(doc.warnings)


def test_pdf_mixing_text_pages_and_scanned_pages_keeps_both_right(tmp_path):
    from pypdf import PdfReader, PdfWriter

    text = make_pdf(tmp_path / "text.pdf", PAGES)
    scan = scan_pdf(tmp_path / "scan.pdf", text)
    writer = PdfWriter()
    texts, scans = PdfReader(text), PdfReader(scan)
    for number in range(4):  # text, scan, text, scan
        writer.add_page((texts if number % 2 == 0 else scans).pages[number])
    with open(tmp_path / "mixed.pdf", "wb") as f:
        writer.write(f)
    doc = read_document(tmp_path / "mixed.pdf", "mixed.pdf", LIMIT)
    from qa.ingest import page_at

    assert [n for n, _ in doc.ocr_pages] == [2, 4]
    for number, sentence in ((1, "whale oil until 1870"), (2, "supply boat came back"), (3, "forty litres of paint"),
                             (4, "thirty kilometres away")):
        assert page_at(doc, doc.text.index(sentence)) == number


def test_ocr_off_reports_scanned_pages_and_refuses_images(tmp_path):
    off = ocr_options("off")
    path = scanned(tmp_path, pages=PAGES[:1])
    with pytest.raises(DocumentError, match=r"looks scanned.*QA_OCR=off"):
        read_document(path, "keeper.pdf", LIMIT, off)
    (tmp_path / "p.png").write_bytes(b"")
    from PIL import Image

    Image.new("L", (50, 50), 255).save(tmp_path / "p.png")
    with pytest.raises(DocumentError, match=r"is an image: .*OCR, which is off"):
        read_document(tmp_path / "p.png", "p.png", LIMIT, off)


def test_force_reads_every_page_by_ocr(tmp_path):
    doc = read_document(make_pdf(tmp_path / "t.pdf", PAGES[:2]), "t.pdf", LIMIT, ocr_options("force"))
    assert [n for n, _ in doc.ocr_pages] == [1, 2] and "supply boat came back" in doc.text


def test_without_tesseract_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(ocr_mod, "engine", lambda: None)
    monkeypatch.setattr(pdf_reader, "engine", lambda: None)
    data = scanned(tmp_path, pages=PAGES[:1]).read_bytes()
    with pytest.raises(DocumentError, match=r"needs Tesseract: install Tesseract .*apt-get install tesseract-ocr"):
        pdf_reader.parse(data, "keeper.pdf", limits(), ocr_options())


def test_a_language_without_its_model_says_what_to_install(tmp_path):
    data = scanned(tmp_path, pages=PAGES[:1]).read_bytes()
    with pytest.raises(DocumentError, match=r"model for xyz, which is not installed .*tesseract-ocr-xyz"):
        pdf_reader.parse(data, "keeper.pdf", limits(), ocr_options(languages="eng+xyz"))


def test_a_page_past_its_ocr_ceiling_is_skipped_and_the_rest_read(tmp_path):
    data = scanned(tmp_path, pages=PAGES[:2]).read_bytes()
    slow = replace(ocr_options(), page_timeout_s=0.001)
    with pytest.raises(DocumentError, match=r"page 1: OCR took longer than 0.001 s; skipped"):
        pdf_reader.parse(data, "keeper.pdf", limits(), slow)
    # The document's ceiling: pages after it are named, not read, and the batch goes on.
    late = replace(ocr_options(), document_timeout_s=0.0, parallel=1)
    with pytest.raises(DocumentError, match=r"not OCR'd: the document's OCR time ceiling \(0 s\) was reached"):
        pdf_reader.parse(data, "keeper.pdf", limits(), late)


def test_ocr_in_the_worker_gets_its_own_deadline(tmp_path, monkeypatch):
    """The parse ceiling (60 s by default) is for reading a text layer; OCR adds its own."""
    import qa.readers as readers

    monkeypatch.setattr(readers, "PARSE_TIMEOUT_S", 1.0)
    doc = read_document(scanned(tmp_path, pages=PAGES[:2]), "keeper.pdf", LIMIT)
    assert [n for n, _ in doc.ocr_pages] == [1, 2]


@pytest.mark.slow
@pytest.mark.skipif(not (REALDOCS / "pdfjs__TAMReview.pdf").is_file(), reason="the realdocs dev set is not here")
def test_realdocs_broken_text_layer_is_read_by_ocr():
    doc = read_document(REALDOCS / "pdfjs__TAMReview.pdf", "pdfjs__TAMReview.pdf", LIMIT)
    # Its README says pages 2-23; the last one's text layer is sound (it is read as text).
    assert [n for n, _ in doc.ocr_pages] == list(range(2, 23))
    assert doc.warnings[0].startswith("pages 2-22 were read by OCR (mean confidence ")
    assert not any("garbled" in w for w in doc.warnings)


@pytest.mark.slow
def test_the_chat_starting_on_a_scanned_corpus_logs_each_ocr_page(tmp_path):
    from qa.serving import prepare_serving

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    scanned(corpus, "scan.pdf", PAGES[:2])
    (corpus / "text-scan.pdf").unlink()
    lines = []
    index, report = prepare_serving(qa.Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), log=lines.append)
    assert report.added == ("scan.pdf",)
    assert "  OCR scan.pdf: page 1 of 2" in lines and "  OCR scan.pdf: page 2 of 2" in lines


def test_what_ocr_read_is_kept_by_content_and_not_read_again(tmp_path, monkeypatch):
    from qa.readers.ocr_cache import prune

    jobs = []
    real = ocr_mod.Job
    monkeypatch.setattr(ocr_mod, "Job", lambda *a, **k: jobs.append(1) or real(*a, **k))  # counts real runs
    cached = replace(ocr_options(), cache_dir=str(tmp_path / "ocr"))
    data = scanned(tmp_path, pages=PAGES[:2]).read_bytes()
    first = pdf_reader.parse(data, "keeper.pdf", limits(), cached)
    assert len(jobs) == 2 and [n for n, _ in first.ocr_pages] == [1, 2]
    events = []
    again = pdf_reader.parse(data, "keeper.pdf", limits(), cached, events.append)
    assert len(jobs) == 2  # read back, not OCR'd
    assert again.text == first.text and again.ocr_pages == first.ocr_pages
    assert events[-1] == {"ocr": 2, "done": 2}
    # The words keep their boxes, in the pixels of the page image with its points per pixel.
    from qa.readers.ocr_cache import OcrCache
    from qa.readers.ocr import version

    reading = OcrCache.open(cached.cache_dir, data, cached.dpi, cached.languages, version(), 500).get(2)
    words = parse_tsv(reading.tsv)
    assert any(w.text == "Storms" for w in words) and reading.scale == pytest.approx(72 / cached.dpi, rel=0.01)
    # Another language setting, or other bytes, are read anew; the folder stays under its bound.
    pdf_reader.parse(data, "keeper.pdf", limits(), replace(cached, languages="eng+osd"))
    assert len(jobs) == 4
    assert prune(tmp_path / "ocr", 0.0) and not list((tmp_path / "ocr").glob("*/*.json"))
