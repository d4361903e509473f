"""The HTML reader: data tables with headers and exact cell offsets, layout tables
read as text, paragraph offsets, heading anchors, titles, and linear time."""

from __future__ import annotations

import time

import pytest

from qa import readers
from qa.readers import html as html_reader


def parse(page: str, name: str = "page.html"):
    return html_reader.parse(page.encode("utf-8"), name, readers.limits())


def cells(parsed, table):
    return [[parsed.text[a:b] for a, b in row.cells] for row in table.rows]


def assert_exact(parsed):
    for table in parsed.tables:
        assert parsed.text[table.start:table.end] == "\n".join(parsed.text[r.start:r.end] for r in table.rows)
        for row in table.rows:
            assert "\n" not in parsed.text[row.start:row.end]
            for a, b in row.cells:
                assert row.start <= a <= b <= row.end
    assert list(parsed.paragraphs) == sorted(set(parsed.paragraphs))
    for offset in parsed.paragraphs:
        assert offset == 0 or parsed.text[offset - 1] == "\n"
    for offset, heading in parsed.headings:
        assert parsed.text[offset:].startswith(heading.split()[0])


# ------------------------------------------------------------------- tables
def test_data_table_with_thead_colspan_rowspan_and_caption():
    p = parse("""<body><h2>Checks</h2><p>Background checks by month.</p>
    <table><caption>Table 4: Firearm checks</caption>
    <thead><tr><th rowspan=2>State</th><th colspan=2>2015</th></tr><tr><th>Nov</th><th>Dec</th></tr></thead>
    <tbody><tr><td>Texas</td><td>1,234</td><td>2,345</td></tr>
    <tr><td rowspan=2>Ohio</td><td>7</td><td>8</td></tr><tr><td>9</td><td>10</td></tr></tbody></table>
    <p>After.</p></body>""")
    assert_exact(p)
    (t,) = p.tables
    assert t.caption == "Table 4: Firearm checks" and t.header_rows == 2 and t.page is None
    assert cells(p, t) == [["State", "2015", "2015"], ["", "Nov", "Dec"], ["Texas", "1,234", "2,345"],
                           ["Ohio", "7", "8"], ["Ohio", "9", "10"]]
    assert "Table 4: Firearm checks\n\nState | 2015 | 2015\n | Nov | Dec\nTexas | 1,234 | 2,345" in p.text
    assert p.text.index("Background checks") < p.text.index("Table 4") < t.start < p.text.index("After.")


def test_leading_th_rows_are_headers_and_row_label_th_is_not():
    p = parse("<table><tr><th>Film</th><th>Year</th></tr>"
              "<tr><th scope=row>Repeat Performance</th><td>1947</td></tr>"
              "<tr><th scope=row>Le 15 Mai</th><td>1969</td></tr></table>")
    (t,) = p.tables
    assert t.header_rows == 1 and cells(p, t)[2] == ["Le 15 Mai", "1969"]


def test_cells_stay_on_one_line_and_hidden_text_is_dropped():
    p = parse("<table><tr><th>Key</th><th>Value</th></tr><tr><td>Languages</td>"
              "<td><ul><li>English</li><li>Māori</li></ul></td></tr>"
              "<tr><td>Legislature</td><td>Parliament<br>(House)</td></tr>"
              "<tr><td>Founded</td><td><span style='display:none'>sortkey</span>February 28, 1998</td></tr></table>")
    assert_exact(p)
    assert cells(p, p.tables[0])[1:] == [["Languages", "English; Māori"], ["Legislature", "Parliament (House)"],
                                         ["Founded", "February 28, 1998"]]


def test_full_width_first_row_is_the_title_not_a_header():
    p = parse("<table class=infobox><tr><th colspan=2>Mozilla</th></tr><tr><th>Industry</th><td>Software</td></tr>"
              "<tr><th>Founded</th><td>1998</td></tr></table>")
    (t,) = p.tables
    assert t.caption == "Mozilla" and t.header_rows == 0
    assert p.text == "Mozilla\n\nIndustry | Software\nFounded | 1998"


def test_caption_from_the_paragraph_or_heading_just_before():
    p = parse("<p>Table 2: Prices in 2020</p><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
              "<h3>Results by region</h3><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
              "<ul><li>Only a list item</li></ul><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
              "<p>A sentence that ends.</p><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>")
    assert [t.caption for t in p.tables] == ["Table 2: Prices in 2020", "Results by region", "", ""]


def test_layout_table_with_one_cell_of_paragraphs_is_text_not_a_table():
    p = parse("<table width=100%><tr><td><h1>Welcome</h1><p>First paragraph of the page.</p>"
              "<p>Second paragraph.</p></td></tr></table>")
    assert p.tables == ()
    assert p.text == "Welcome\n\nFirst paragraph of the page.\n\nSecond paragraph."
    assert p.headings == ((0, "Welcome"),)


@pytest.mark.parametrize("cell", [
    "<p>" + "Long prose sentence of a page column. " * 50 + "</p>",  # pages of prose
    "<p>" + "A paragraph of running text here. " * 8 + "</p><p>" + "And another one follows it. " * 8 + "</p>",
    "<h2>Section</h2><p>Text.</p>",  # a heading in a cell
])
def test_two_column_layouts_are_text(cell):
    p = parse(f"<table><tr><td>Menu links</td><td>{cell}</td></tr></table>")
    assert p.tables == () and "Menu links\n" in p.text


def test_presentation_role_table_is_text():
    p = parse("<table role=presentation><tr><td>Left</td><td>Right</td></tr><tr><td>a</td><td>b</td></tr></table>")
    assert p.tables == () and p.text == "Left\nRight\na\nb"


def test_data_table_nested_in_a_layout_table_is_kept():
    p = parse("<table><tr><td>Side</td><td><p>Prices:</p><table><tr><th>Tea</th><th>Price</th></tr>"
              "<tr><td>Green</td><td>4.50</td></tr></table></td></tr></table>")
    assert_exact(p)
    (t,) = p.tables
    assert cells(p, t) == [["Tea", "Price"], ["Green", "4.50"]] and t.caption == "Prices:"


def test_existing_flat_table_text_is_unchanged():
    p = parse("<table><tr><th>Tea</th><th>Temp</th></tr><tr><td>Green</td><td>70</td></tr></table>")
    assert p.text == "Tea | Temp\nGreen | 70" and p.tables[0].header_rows == 1


# --------------------------------------------------------------- paragraphs
def test_paragraph_offsets_of_every_block():
    p = parse("<h1>Title</h1><p>One <b>bold</b> paragraph<br>with a break.</p><ul><li>Item A</li><li>Item B</li></ul>"
              "<div>A div line</div><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
              "<pre>code\n  more</pre>")
    assert_exact(p)
    starts = [p.text[o:].split("\n")[0] for o in p.paragraphs]
    assert starts == ["Title", "One bold paragraph", "- Item A", "- Item B", "A div line", "a | b", "code"]


# ------------------------------------------------------------------ anchors
def test_heading_anchors_from_id_inner_span_or_preceding_named_link():
    p = parse('<h1 id="top">Guide</h1><p>x</p><h2><span class="mw-headline" id="History">History</span></h2><p>y</p>'
              '<a name="sec3"></a><h2>Storage</h2><p>z</p><h2>No anchor</h2><p>w</p>')
    by_offset = dict(p.anchors)
    assert [by_offset.get(o) for o, _ in p.headings] == ["top", "History", "sec3", None]


# ------------------------------------------------------------------- titles
@pytest.mark.parametrize("junk", ["untitled", "Microsoft Word - report.doc", "Document1", "10811.exe",
                                  "index.html", "Untitled document"])
def test_junk_title_gives_way_to_the_first_heading(junk):
    assert parse(f"<title>{junk}</title><h2>Minor</h2><h1>Harbour Tides</h1><p>Text.</p>").title == "Harbour Tides"


def test_junk_title_without_headings_is_none():
    assert parse("<title>Untitled</title><p>Words.</p>").title is None


def test_title_of_another_document_gives_way():
    body = "<h1>Airbus fleet plan</h1>" + "<p>The Airbus fleet grows each year with new aircraft.</p>" * 30
    assert parse(f"<title>Boeing maintenance manual</title>{body}").title == "Airbus fleet plan"
    assert parse(f"<title>Airbus plans - Example News</title>{body}").title == "Airbus plans - Example News"


# ----------------------------------------------------------------- hostile
def _seconds(page: str) -> float:
    start = time.perf_counter()
    parse(page)
    return time.perf_counter() - start


def test_nested_and_wide_tables_stay_linear():
    """Adversarial tables cost about what an ordinary page of the same size costs
    (a ratio measured in this run, never an absolute time)."""
    n = 5000
    nested = "<table><tr><td>x</td><td>" * n + "deep" + "</td></tr></table>" * n
    spans = "<table>" + "<tr><td colspan=1000 rowspan=65534>a</td><td>b</td></tr>" * n + "</table>"
    wide_header = "<table><tr><th colspan=1000>" + "h" * 150 + "</th></tr>" + "<tr><td>a</td><td>b</td></tr>" * n
    many = "<table><tr><th>h</th><th>i</th></tr><tr><td>1</td><td>2</td></tr></table>" * n
    unclosed = "<table><tr><td>a<td>b" * n
    unit = "<div><p>Some words</p><p>and <b>more</b> words</p></div>"
    for page in (nested, spans, wide_header, many, unclosed):
        ordinary = unit * (len(page) // len(unit) + 1)
        base = min(_seconds(ordinary) for _ in range(2))
        # Quadratic work would take minutes here; linear work a few times the ordinary page.
        assert min(_seconds(page) for _ in range(2)) < 50 * base + 0.5, page[:40]
    assert "deep" in parse(nested).text
    assert_exact(parse(spans))
    assert_exact(parse(wide_header))
    assert len(parse(many).tables) == n


def test_tables_paragraphs_and_anchors_survive_the_worker(tmp_path):
    page = ('<h2 id="prices">Prices</h2><table><tr><th>Tea</th><th>Price</th></tr>'
            '<tr><td>Green</td><td>4.50</td></tr></table>')
    path = tmp_path / "prices.html"
    path.write_text(page, encoding="utf-8")
    fmt, parsed = readers.read(path, "prices.html")
    assert fmt == "html" and parsed == parse(page, "prices.html")
    assert parsed.anchors == ((0, "prices"),) and parsed.tables[0].caption == "Prices"


def test_a_libxml2_safety_limit_is_named_in_plain_words(monkeypatch):
    """lxml's event parser has not hit one on any input tried (100,000 nested elements
    read fine); should libxml2 refuse a page, the reason is said without its advice."""
    from lxml import etree

    from qa.errors import DocumentError

    class Refusing:
        def __init__(self, **kwargs):
            pass

        def feed(self, text):
            raise etree.XMLSyntaxError("Excessive depth in document: 256, use XML_PARSE_HUGE option", 1, 1, 1)

    monkeypatch.setattr(html_reader.etree, "HTMLParser", Refusing)
    with pytest.raises(DocumentError, match=r"page\.html: is nested too deeply .* to read as HTML; skipped") as info:
        parse("<p>x</p>")
    assert "XML_PARSE_HUGE" not in str(info.value)
