"""PDF, HTML and DOCX read into text with pages, headings and titles that citations use.

Every file is generated here with a library (fpdf2, python-docx) or by hand:
no binaries are checked in.
"""

from __future__ import annotations

import re
import shutil

import pytest

import qa
from qa.documents import SUPPORTED_SUFFIXES, read_document
from qa.errors import DocumentError
from qa.ingest import heading_at, page_at, paragraph_at
from qa.readers import ocr_options

from helpers import make_docx, make_pdf

LIMIT = 50_000_000
PAGE2 = "The copper kettle sings only on the second page."


def image_pdf(path, pages: int = 2):
    """A "scanned" PDF: each page is only a picture."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    pdf = FPDF()
    for _ in range(pages):
        image = Image.new("RGB", (400, 200), "white")
        ImageDraw.Draw(image).text((20, 80), "Scanned words are pixels", fill="black")
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=150)
    path.write_bytes(bytes(pdf.output()))
    return path


def filler(topic: str, n: int) -> str:
    return " ".join(f"Sentence {i} about {topic} adds some ordinary words here." for i in range(n))


# ------------------------------------------------------------------------- PDF
def test_pdf_pages_offsets_and_title(tmp_path):
    path = make_pdf(
        tmp_path / "report.pdf",
        [f"Opening page. {filler('tea', 3)}", f"{filler('water', 2)} {PAGE2}", "Closing page three."],
        title="The Kettle Report",
    )
    doc = read_document(path, "report.pdf", LIMIT)
    assert doc.format == "pdf" and doc.title == "The Kettle Report" and doc.source == "report.pdf"
    assert len(doc.pages) == 3 and doc.pages[0] == 0 and list(doc.pages) == sorted(doc.pages)
    at = doc.text.index("copper kettle")
    assert page_at(doc, at) == 2
    assert page_at(doc, doc.text.index("Opening page")) == 1
    assert page_at(doc, doc.text.index("Closing page three")) == 3
    # Each page's text starts exactly at its offset.
    assert doc.text[doc.pages[2]:].startswith("Closing page three.")
    assert doc.warnings == ()


def test_pdf_title_falls_back_to_the_file_name(tmp_path):
    doc = read_document(make_pdf(tmp_path / "quarterly_notes-2024.pdf", ["Some text."]), "q.pdf", LIMIT)
    assert doc.title == "Quarterly notes 2024"


def test_pdf_citations_give_the_page_end_to_end(tmp_path, fake):
    settings = qa.Settings(corpus_dir=tmp_path / "c", index_dir=tmp_path / "i")
    pages = [
        f"{filler('tea', 6)} The alpha marker closes page one.",
        f"Beta marker opens page two. {filler('water', 6)} {PAGE2} {filler('steam', 6)}",
        filler("cups", 6),
    ]
    path = make_pdf(tmp_path / "kettle.pdf", pages)
    idx = qa.Index.open(settings=settings, embedder=fake)
    report = idx.add_files([path])
    assert report.added == ("kettle.pdf",)
    info = idx.documents()[0]
    hit = next(h for h in idx.search("copper kettle sings second page", k=5) if PAGE2 in h.text)
    assert hit.citation.page_start == 2 and hit.citation.page_end == 2
    assert "p. 2" in hit.citation.label and hit.citation.label.startswith("[")
    # The invariant every citation rests on.
    doc = read_document(path, "kettle.pdf", LIMIT)
    assert doc.text[hit.citation.start:hit.citation.end] == hit.text
    # A passage holding the end of page 1 and the start of page 2 cites both.
    spanning = [
        h for h in idx.search("alpha marker closes page one beta marker opens page two", k=5)
        if "alpha marker" in h.text and "Beta marker" in h.text
    ]
    assert spanning, "expected a passage across the page break"
    assert spanning[0].citation.page_start == 1 and spanning[0].citation.page_end == 2
    assert "pp. 1-2" in spanning[0].citation.label
    assert info.doc_id == "kettle.pdf"


def test_pdf_blank_page_is_named_in_the_warnings_when_ocr_is_off(tmp_path):
    path = make_pdf(tmp_path / "gap.pdf", ["One.", "", "Three.", "Four."], blank=(2,))
    doc = read_document(path, "gap.pdf", LIMIT, ocr_options("off"))
    assert doc.warnings == ("page 2 has no extractable text (scanned?): OCR is off (QA_OCR=off); "
                            "set QA_OCR=auto to read such pages",)
    assert len(doc.pages) == 4 and page_at(doc, doc.text.index("Three.")) == 3


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed")
def test_pdf_blank_page_read_by_ocr_is_just_blank(tmp_path):
    path = make_pdf(tmp_path / "gap.pdf", ["One.", "", "Three.", "Four."], blank=(2,))
    doc = read_document(path, "gap.pdf", LIMIT)
    assert doc.warnings == () and doc.ocr_pages == ()
    assert len(doc.pages) == 4 and page_at(doc, doc.text.index("Three.")) == 3


def test_pdf_bookmarks_become_headings_where_their_title_is(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)

    def line(text):
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    pdf.add_page()
    pdf.start_section("Introduction")
    line("Introduction")
    line("Why kettles matter.")
    pdf.add_page()
    line("The end of the introduction spills over.")
    pdf.start_section("Chapter Two: Methods")
    line("Chapter Two:   Methods")
    line("We boiled water.")
    pdf.start_section("Missing From The Page", level=1)  # a bookmark whose title is not on its page
    path = tmp_path / "book.pdf"
    path.write_bytes(bytes(pdf.output()))
    doc = read_document(path, "book.pdf", LIMIT)
    assert [h for _, h in doc.headings] == ["Introduction", "Chapter Two: Methods"]
    assert doc.text[doc.headings[1][0]:].startswith("Chapter Two:   Methods")
    assert heading_at(doc, doc.text.index("spills over")) == "Introduction"
    assert heading_at(doc, doc.text.index("We boiled")) == "Chapter Two: Methods"


def test_image_only_pdf_is_refused_as_scanned_when_ocr_is_off(tmp_path):
    path = image_pdf(tmp_path / "scan.pdf")
    with pytest.raises(DocumentError, match=r"scan\.pdf: .*looks scanned.*QA_OCR=off"):
        read_document(path, "scan.pdf", LIMIT, ocr_options("off"))


def test_pdf_with_an_empty_user_password_is_read(tmp_path):
    """Encrypted only to restrict printing/copying: opens without a password."""
    from pypdf import PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", ["Restricted but readable."])
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = tmp_path / "restricted.pdf"
    with open(out, "wb") as f:
        writer.write(f)
    assert "Restricted but readable." in read_document(out, "restricted.pdf", LIMIT).text


# ------------------------------------------------------------------------ HTML
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tea Guide &amp; Notes</title>
<style>body { color: red } .secret-style { display: none }</style>
<script>var secretScript = "<p>not text</p>"; if (a < b && c > d) {}</script>
</head>
<body>
<header><div class="logo">SiteBanner</div></header>
<nav><ul><li><a href="/">HomeNavLink</a></li><li>AboutNavLink</li></ul></nav>
<div role="navigation">BreadcrumbTrail</div>
<main>
<article>
<h1>Brewing green tea</h1>
<p>Green tea is brewed at seventy&nbsp;degrees for two minutes, then poured at once.
Longer steeping makes it bitter, as every grower from the hills of the south will say.</p>
<h2 id="storage">Storage <small>and care</small></h2>
<p>Keep the leaves in an airtight tin,<br>away from light and strong smells.</p>
<p>A cool cupboard keeps the leaves fresh for months; the fridge adds moisture.</p>
<p>Example: <code>&lt;script&gt;alert("x")&lt;/script&gt;</code> stays text, caf&eacute; &#8212; &#x263A;.</p>
<ul><li>First item</li><li>Second <b>bold</b> item</li></ul>
<ol><li>Step one</li><li>Step two</li></ol>
<table><tr><th>Tea</th><th>Temp</th></tr><tr><td>Green</td><td>70</td></tr></table>
<pre>
line one
    indented two</pre>
<div hidden>HiddenText</div><span style="display:none">InvisibleSpan</span>
<form><input value="x"><button>SubmitButton</button></form>
</article>
</main>
<aside>SidebarAd</aside>
<footer>FooterCopyright</footer>
<noscript>EnableJavaScript</noscript>
</body></html>
"""


def test_html_main_text_headings_title_and_structure(tmp_path):
    path = tmp_path / "tea.html"
    path.write_text(PAGE, encoding="utf-8")
    doc = read_document(path, "tea.html", LIMIT)
    text = doc.text
    assert doc.format == "html" and doc.title == "Tea Guide & Notes"
    for gone in ("secretScript", "color: red", "SiteBanner", "HomeNavLink", "AboutNavLink", "BreadcrumbTrail",
                 "SidebarAd", "FooterCopyright", "HiddenText", "InvisibleSpan", "SubmitButton",
                 "EnableJavaScript", "not text", "<p>"):
        assert gone not in text, gone
    assert [h for _, h in doc.headings] == ["Brewing green tea", "Storage and care"]
    for offset, heading in doc.headings:
        assert text[offset:].startswith(heading.split()[0])
    assert text.startswith("Brewing green tea\n\nGreen tea is brewed at seventy degrees")
    assert "Keep the leaves in an airtight tin,\naway from light and strong smells." in text
    # Markup-looking text inside the page is kept as literal text, entities decoded.
    assert 'Example: <script>alert("x")</script> stays text, café — ☺.' in text
    assert "- First item\n- Second bold item" in text and "1. Step one\n2. Step two" in text
    assert "Tea | Temp\nGreen | 70" in text
    assert "line one\n    indented two" in text
    assert "\n\n\n" not in text and text == text.strip()


def test_html_without_main_drops_boilerplate_and_keeps_the_rest(tmp_path):
    path = tmp_path / "plain.htm"
    path.write_bytes(
        b"<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'></head>"
        b"<body><nav>Menu</nav><h1>Caf\xe9 prices</h1><p>Espresso costs two euros.</p>"
        b"<footer>Imprint</footer></body></html>"
    )
    doc = read_document(path, "plain.htm", LIMIT)
    assert doc.text == "Café prices\n\nEspresso costs two euros."
    assert doc.title == "Café prices" and doc.headings == ((0, "Café prices"),)


def test_html_tiny_main_element_does_not_hide_the_article(tmp_path):
    path = tmp_path / "odd.html"
    path.write_text("<body><main>3 results</main><article><p>" + "The real article text. " * 20
                    + "</p></article></body>")
    doc = read_document(path, "odd.html", LIMIT)
    assert doc.text.startswith("3 results\n\nThe real article text.")


def test_html_page_wrapped_in_one_form_still_has_its_text(tmp_path):
    path = tmp_path / "webforms.html"
    path.write_text("<body><form id='aspnetForm'><nav>Menu</nav><h2>Report</h2><p>"
                    + "Quarterly numbers went up. " * 5 + "</p><input name='x'></form></body>")
    doc = read_document(path, "webforms.html", LIMIT)
    assert doc.text.startswith("Report\n\nQuarterly numbers went up.") and "Menu" not in doc.text


def test_html_citation_names_the_nearest_heading(tmp_path, fake):
    settings = qa.Settings(corpus_dir=tmp_path / "c", index_dir=tmp_path / "i")
    path = tmp_path / "tea.html"
    path.write_text(PAGE, encoding="utf-8")
    idx = qa.Index.open(settings=settings, embedder=fake)
    idx.add_files([path])
    hits = idx.search("airtight tin cupboard fridge moisture leaves fresh", k=3)
    top = hits[0]
    assert "airtight" in top.text or "cupboard" in top.text
    assert "§ Storage and care" in top.citation.label and top.citation.heading == "Storage and care"
    # Paragraphs of its section, as the reader sees the page; not lines of docqa's extracted text.
    assert top.citation.page_start is None and "line" not in top.citation.label
    assert re.search(r", § Storage and care, ¶ 1(-[23])?$", top.citation.label), top.citation.label
    cupboard = next(h for h in hits if "A cool cupboard" in h.text)
    assert cupboard.citation.paragraph_start <= 2 <= cupboard.citation.paragraph_end


# ------------------------------------------------------------------------ DOCX
def test_docx_paragraphs_headings_and_tables_in_order(tmp_path):
    doc = read_document(make_docx(tmp_path / "annual.docx"), "annual.docx", LIMIT)
    assert doc.format == "docx" and doc.title == "Annual Report"
    assert [h for _, h in doc.headings] == ["Annual Report", "Results", "Outlook"]
    for offset, heading in doc.headings:
        assert doc.text[offset:].startswith(heading)
    table = "Region | Q1 | Q2\nNorth | 10 | 12\nSouth | 7 | 9\nTotal | 38"
    assert table in doc.text
    assert doc.text.index("Revenue grew") < doc.text.index(table) < doc.text.index("Outlook")
    assert "Next year looks\tsteady." in doc.text
    assert heading_at(doc, doc.text.index("North")) == "Results"
    # Paragraphs count from their section's heading: "Revenue grew" is the first of "Results".
    assert paragraph_at(doc, doc.text.index("Revenue grew")) == 1
    assert paragraph_at(doc, doc.text.index("Next year")) == 1
    assert paragraph_at(doc, doc.text.index("This report")) == 1


def test_docx_citation_names_section_and_paragraph(tmp_path, fake):
    idx = qa.Index.open(settings=qa.Settings(corpus_dir=tmp_path / "c", index_dir=tmp_path / "i"), embedder=fake)
    idx.add_files([make_docx(tmp_path / "annual.docx")])
    hit = idx.search("Next year looks steady", k=1)[0]
    assert hit.citation.label == "[1] annual.docx, § Outlook, ¶ 1", hit.citation.label


def test_docx_tracked_changes_links_and_content_controls(tmp_path):
    import docx
    from docx.oxml import parse_xml

    ns = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
    d = docx.Document()
    p = d.add_paragraph("Kept ")
    p._p.append(parse_xml(f'<w:hyperlink {ns} r:id="rId99"><w:r><w:t>linked</w:t></w:r></w:hyperlink>'))
    p._p.append(parse_xml(f'<w:ins {ns} w:id="1" w:author="a"><w:r><w:t> inserted</w:t></w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {ns} w:id="2" w:author="a"><w:r><w:delText> deleted</w:delText></w:r></w:del>'))
    d.element.body.insert(0, parse_xml(
        f'<w:sdt {ns}><w:sdtContent><w:p><w:r><w:t>Inside a content control.</w:t></w:r></w:p></w:sdtContent></w:sdt>'
    ))
    d.save(str(tmp_path / "tracked.docx"))
    doc = read_document(tmp_path / "tracked.docx", "tracked.docx", LIMIT)
    assert doc.text == "Inside a content control.\n\nKept linked inserted"


def test_docx_core_title_wins(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "  Board   Minutes "
    d.add_paragraph("We met.")
    d.save(str(tmp_path / "m.docx"))
    assert read_document(tmp_path / "m.docx", "m.docx", LIMIT).title == "Board Minutes"


# ------------------------------------------------------------- text stays as it was
def test_text_and_markdown_formats_unchanged(tmp_path):
    (tmp_path / "a.txt").write_text("Line one.\nLine two.")
    (tmp_path / "b.md").write_text("# Title\n\nBody.")
    a = read_document(tmp_path / "a.txt", "a.txt", LIMIT)
    b = read_document(tmp_path / "b.md", "b.md", LIMIT)
    assert (a.format, a.pages, a.headings, a.text) == ("text", (), (), "Line one.\nLine two.")
    assert (b.format, b.title, b.headings) == ("markdown", "Title", ((0, "Title"),))


def test_supported_suffixes():
    assert {".pdf", ".html", ".htm", ".docx", ".txt", ".md"} <= SUPPORTED_SUFFIXES
