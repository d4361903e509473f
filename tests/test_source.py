"""The source viewer's API: a citation's page drawn with its sentence highlighted, or its text.

Where a sentence is printed is checked against an independent oracle:
pdfplumber (pdfminer.six) reads the same PDF's words and their boxes.
"""

from __future__ import annotations

import io
import shutil

import pytest

import qa
from qa.source import Rect, folded, place, stitch
from qa.types import Passage

from helpers import make_pdf, scan_pdf

pdfplumber = pytest.importorskip("pdfplumber")

FILLER = " ".join(f"Line {i} of the ledger lists the cargo, the crew and the weather at sea." for i in range(14))
PAGES = [
    "The harbour opened in 1850. " + FILLER,
    FILLER + " The lighthouse lamp burned whale oil until the winter of 1870. " + FILLER,
    "A new lens arrived from Paris. It could be seen from thirty kilometres away.",
]


def oracle_boxes(pdf_path, page: int, words: list[str]) -> list[tuple[float, float, float, float]]:
    """pdfplumber's boxes (points, top-left origin) of the run of ``words`` on ``page``."""
    with pdfplumber.open(pdf_path) as pdf:
        got = pdf.pages[page - 1].extract_words()
    texts = [w["text"] for w in got]
    for i in range(len(texts) - len(words) + 1):
        if texts[i:i + len(words)] == words:
            return [(w["x0"], w["top"], w["x1"], w["bottom"]) for w in got[i:i + len(words)]]
    raise AssertionError(f"{words} not on page {page}")


def covered(box, rects: tuple[Rect, ...]) -> float:
    """The share of ``box``'s area that ``rects`` cover."""
    x0, top, x1, bottom = box
    area = max(1e-9, (x1 - x0) * (bottom - top))
    inside = sum(max(0.0, min(x1, r.x1) - max(x0, r.x0)) * max(0.0, min(bottom, r.bottom) - max(top, r.top))
                 for r in rects)
    return inside / area


def index_of(tmp_path, embedder, **extra) -> qa.Index:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    settings = qa.Settings(corpus_dir=corpus, index_dir=tmp_path / "index", page_cache_dir=tmp_path / "pages",
                           **extra)
    idx = qa.Index.open(settings=settings, embedder=embedder)
    return idx


# ------------------------------------------------------------------------- pure logic
def test_folding_keeps_letters_and_digits_and_says_where_each_came_from():
    assert folded("ﬁnal Co-op, 1,577!")[0] == "finalcoop1577"
    text, owner = folded("a-B")
    assert text == "ab" and owner == [0, 2]


def test_a_repeated_sentence_is_placed_by_the_text_around_it_or_not_at_all():
    hay = "introtheendxxxmiddletheendyyy"
    assert place("theend", hay, before="middle")[0] == hay.index("middletheend") + len("middle")
    assert place("theend", hay, before="intro")[0] == len("intro")
    # The same surroundings on both sides: which one is cited cannot be told.
    assert place("ab", "zabzzab", before="q") == (None, 2)
    assert place("missing", hay) == (None, 0)


def test_stitched_passages_keep_the_documents_offsets_and_line_numbers():
    text = "one two\nthree\n\n\nfour five six\nseven"
    p1 = Passage(1, "d", "", "", 0, 13, 1, 2, text[0:13], ())
    p2 = Passage(2, "d", "", "", 16, len(text), 5, 6, text[16:], ())
    got, offset, first = stitch([p1, p2])
    assert (got, offset, first) == (text, 0, 1)


# ------------------------------------------------------------------------- PDF pages
@pytest.mark.slow
def test_a_pdf_citation_shows_its_page_with_the_sentence_where_pdfplumber_sees_it(tmp_path, real_embedder):
    idx = index_of(tmp_path, real_embedder)
    pdf = make_pdf(idx.settings.corpus_dir / "harbour.pdf", PAGES)
    idx.sync()
    hit = next(h for h in idx.answer("Until when did the lighthouse lamp burn whale oil?").hits
               if "whale oil" in h.evidence.text)
    view = idx.source(hit)
    assert view.kind == "page" and view.page == 2 and view.pages == 3 and view.note == ""
    assert view.image.startswith(b"\x89PNG")
    from PIL import Image

    assert Image.open(io.BytesIO(view.image)).size == view.image_size
    assert view.page_size == pytest.approx((595.3, 841.9), abs=1)
    words = "The lighthouse lamp burned whale oil until the winter of 1870.".split()
    expected = oracle_boxes(pdf, 2, words)
    for box in expected:  # every word of the sentence is under the highlight ...
        assert covered(box, view.highlight) > 0.6, box
    # ... and the highlight is over nothing else: it lies within the words' own lines.
    top, bottom = min(b[1] for b in expected) - 3, max(b[3] for b in expected) + 3
    assert all(top <= r.top and r.bottom <= bottom for r in view.highlight)
    assert view.shaded  # the rest of the passage, on this page
    assert not any(covered(box, view.shaded) > 0.5 for box in expected)


@pytest.mark.slow
def test_other_pages_are_shown_without_a_highlight_and_pages_past_the_end_are_refused(tmp_path, real_embedder):
    idx = index_of(tmp_path, real_embedder)
    make_pdf(idx.settings.corpus_dir / "harbour.pdf", PAGES)
    idx.sync()
    hit = next(h for h in idx.answer("Where did the new lens come from?").hits if "Paris" in h.evidence.text)
    view = idx.source(hit, page=1)
    assert view.page == 1 and view.highlight == () and view.image.startswith(b"\x89PNG")
    assert view.note == "the cited sentence is not on this page"
    with pytest.raises(qa.SourceError, match="has no page 9"):
        idx.source(hit, page=9)


@pytest.mark.slow
def test_a_changed_file_is_never_highlighted_and_the_view_says_why(tmp_path, real_embedder):
    idx = index_of(tmp_path, real_embedder)
    pdf = make_pdf(idx.settings.corpus_dir / "harbour.pdf", PAGES)
    idx.sync()
    hit = next(h for h in idx.answer("Where did the new lens come from?").hits if "Paris" in h.evidence.text)
    make_pdf(pdf, ["Something else entirely now."])
    view = idx.source(hit)
    assert view.kind == "text" and view.highlight == () and view.file == ""
    assert "has changed since it was indexed" in view.note
    assert view.text[view.span[0]:view.span[1]] == hit.evidence.text  # what was indexed, exactly


@pytest.mark.slow
def test_a_repeated_sentence_is_highlighted_where_its_surroundings_agree_or_not_at_all(tmp_path, real_embedder):
    idx = index_of(tmp_path, real_embedder)
    same = "The quay was rebuilt in stone after the great storm."
    block = f"The tide tables of the harbour were printed weekly. {same} The ferry ran twice a day in summer."
    make_pdf(idx.settings.corpus_dir / "twice.pdf", [f"{same}\n\nThe ferry ran twice a day. {same}"])
    make_pdf(idx.settings.corpus_dir / "alike.pdf", [f"{block}\n\n{block}"])
    idx.sync()
    hits = [h for h in idx.answer("When was the quay rebuilt in stone?", k=10).hits if h.evidence.text == same]
    by_doc = {h.doc_id: h for h in hits}
    twice = idx.source(by_doc["twice.pdf"])
    with pdfplumber.open(idx.settings.corpus_dir / "twice.pdf") as pdf:
        quays = [w for w in pdf.pages[0].extract_words() if w["text"] == "quay"]
    assert len(quays) == 2 and len(twice.highlight) >= 1
    cited = quays[0] if by_doc["twice.pdf"].evidence.start == 0 else quays[1]
    other = quays[1] if cited is quays[0] else quays[0]
    box = lambda w: (w["x0"], w["top"], w["x1"], w["bottom"])  # noqa: E731
    assert covered(box(cited), twice.highlight) > 0.6 and covered(box(other), twice.highlight) == 0
    # The same 40 letters before and after both copies: which one is cited cannot be told.
    alike = idx.source(by_doc["alike.pdf"])
    assert alike.kind == "page" and alike.highlight == ()
    assert "printed 2 times on the page" in alike.note


@pytest.mark.slow
def test_pages_are_drawn_once_and_the_cache_stays_within_its_bound(tmp_path, real_embedder):
    idx = index_of(tmp_path, real_embedder, page_cache_mb=0.05)
    make_pdf(idx.settings.corpus_dir / "harbour.pdf", PAGES)
    idx.sync()
    hit = next(h for h in idx.answer("Where did the new lens come from?").hits if "Paris" in h.evidence.text)
    for page in (1, 2, 3):
        idx.source(hit, page=page)
    files = list((tmp_path / "pages").glob("*/*.json"))
    assert files and sum(f.stat().st_size for f in files) <= 0.05 * 1_000_000 + max(f.stat().st_size for f in files)
    kept = idx.source(hit)  # drawn again or read back: the same view
    assert kept.highlight and kept.page == 3


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed (bash run.sh test installs it)")
def test_an_ocr_page_is_highlighted_where_the_scanned_words_are(tmp_path, real_embedder):
    idx = index_of(tmp_path, real_embedder)
    text_pdf = make_pdf(tmp_path / "text.pdf", PAGES)
    scan_pdf(idx.settings.corpus_dir / "scan.pdf", text_pdf, dpi=150)
    idx.sync()
    assert idx.documents()[0].ocr_pages
    hit = next(h for h in idx.answer("Until when did the lighthouse lamp burn whale oil?").hits
               if "whale" in h.evidence.text)
    view = idx.source(hit)
    assert view.kind == "page" and view.page == 2, view.note
    # The scan has the text PDF's page size: its words' boxes are the oracle.
    for box in oracle_boxes(text_pdf, 2, "lighthouse lamp burned whale oil".split()):
        assert covered(box, view.highlight) > 0.5, (box, view.highlight)


# ------------------------------------------------------------------------- text formats
@pytest.mark.slow
def test_a_text_citation_shows_the_text_around_it_with_line_numbers(tmp_path, real_embedder):
    idx = index_of(tmp_path, real_embedder)
    lines = [f"Line {i}: the ledger of the harbour, nothing of note." for i in range(1, 40)]
    lines[29] = "The cellar keeps the apples cool through the whole winter."
    (idx.settings.corpus_dir / "notes.txt").write_text("\n".join(lines) + "\n")
    idx.sync()
    hit = idx.answer("What keeps the apples cool?").hits[0]
    view = idx.source(hit)
    assert view.kind == "text" and view.file.endswith("notes.txt") and view.note == ""
    a, b = view.span
    assert view.text[a:b] == hit.evidence.text == lines[29]
    assert view.first_line + view.text[:a].count("\n") == 30  # the line it is on in the file
    c, d = view.context
    assert view.text[c:d] == hit.passage.text


def test_offsets_outside_every_passage_are_refused_with_the_fix(tmp_path, fake):
    idx = index_of(tmp_path, fake)
    idx.add_texts(["A short text about tea."], ids=["t"])
    with pytest.raises(qa.SourceError, match="Hit.evidence"):
        idx.source_of("t", 500, 520)
    with pytest.raises(qa.UnknownDocumentError):
        idx.source_of("nope", 0, 5)
    view = idx.source_of("t", 2, 7)
    assert view.kind == "text" and "not added from the corpus folder" not in view.note  # a text has no file
    assert view.text[view.span[0]:view.span[1]] == "short"



@pytest.mark.slow
def test_two_columns_and_a_page_break_are_followed(tmp_path, real_embedder):
    from fpdf import FPDF

    idx = index_of(tmp_path, real_embedder)
    corpus = idx.settings.corpus_dir
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    left = " ".join(f"Left column sentence {i} talks about apples and pears." for i in range(25))
    right = " ".join(f"Right column sentence {i} talks about boats and nets." for i in range(25))
    pdf.set_xy(10, 10)
    pdf.multi_cell(90, 5, left + " The orchard was planted by monks in 1620.")
    pdf.set_xy(110, 10)
    pdf.multi_cell(90, 5, right + " The harbour wall was built by convicts in 1790.")
    pdf.output(str(corpus / "cols.pdf"))
    fill = " ".join(f"Row {i} of the ledger lists the cargo and crew." for i in range(40))
    make_pdf(corpus / "break.pdf", [fill + " The auction of the salvaged cargo opens",
                                    "on Monday at noon in the old market hall. " + fill])
    idx.sync()
    hit = idx.answer("Who built the harbour wall?").hits[0]
    view = idx.source(hit)
    for box in oracle_boxes(corpus / "cols.pdf", 1, "harbour wall was built by convicts".split()):
        assert covered(box, view.highlight) > 0.6
    assert all(r.x0 > 595 / 2 - 10 for r in view.highlight)  # the right column only
    # A sentence over a page break: its start highlighted on one page, its end on the next.
    p = next(p for p in idx.passages("break.pdf") if "opens" in p.text and "Monday" in p.text)
    a, b = p.start + p.text.index("The auction"), p.start + p.text.index("hall.") + len("hall.")
    first, second = idx.source_of("break.pdf", a, b), idx.source_of("break.pdf", a, b, page=2)
    assert (first.page, second.page) == (1, 2)
    assert "continues on page 2" in first.note and "begins on page 1" in second.note
    for view, page, words in ((first, 1, ["salvaged", "cargo", "opens"]), (second, 2, ["Monday", "at", "noon"])):
        for box in oracle_boxes(corpus / "break.pdf", page, words):
            assert covered(box, view.highlight) > 0.6


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed (bash run.sh test installs it)")
def test_a_photo_of_a_page_is_shown_with_the_sentence_highlighted(tmp_path, real_embedder):
    import pypdfium2 as pdfium

    idx = index_of(tmp_path, real_embedder)
    text_pdf = make_pdf(tmp_path / "text.pdf", PAGES[1:2])
    pdf = pdfium.PdfDocument(str(text_pdf))
    pdf[0].render(scale=150 / 72, grayscale=True).to_pil().save(idx.settings.corpus_dir / "photo.png", dpi=(150, 150))
    pdf.close()
    idx.sync()
    hit = next(h for h in idx.answer("Until when did the lighthouse lamp burn whale oil?").hits
               if "whale" in h.evidence.text)
    view = idx.source(hit)
    assert view.kind == "page" and view.page == 1 and view.pages == 1, view.note
    assert view.page_size == pytest.approx((595.3, 841.9), abs=2)  # the image's size at its 150 dpi
    for box in oracle_boxes(text_pdf, 1, "lighthouse lamp burned whale oil".split()):
        assert covered(box, view.highlight) > 0.5, (box, view.highlight)
