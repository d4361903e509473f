"""The DOCX reader: tables with headers and exact cell offsets, paragraphs, text boxes,
notes, headers and footers, titles and refusals. Every file is built here with
python-docx, with hand-written XML where python-docx has no API."""

from __future__ import annotations

import io
import re
import zipfile

import docx
import pytest
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml

from qa import readers
from qa.errors import DocumentError
from qa.readers import docx as docx_reader
from qa.readers._base import CELL_SEP

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (f'xmlns:w="{W}" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
      'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
      'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
      'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
      'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
      'xmlns:v="urn:schemas-microsoft-com:vml"')


def parse(document_or_bytes, name: str = "t.docx"):
    if isinstance(document_or_bytes, bytes):
        data = document_or_bytes
    else:
        buf = io.BytesIO()
        document_or_bytes.save(buf)
        data = buf.getvalue()
    return docx_reader.parse(data, name, readers.limits())


def cells(parsed, table):
    return [[parsed.text[a:b] for a, b in row.cells] for row in table.rows]


def assert_exact(parsed):
    """Every table's rows and cells lie where the text says, one line per row."""
    for table in parsed.tables:
        assert parsed.text[table.start:table.end] == "\n".join(parsed.text[r.start:r.end] for r in table.rows)
        for row in table.rows:
            line = parsed.text[row.start:row.end]
            assert "\n" not in line
            for a, b in row.cells:
                assert row.start <= a <= b <= row.end
    assert list(parsed.paragraphs) == sorted(set(parsed.paragraphs))
    for offset in parsed.paragraphs:
        assert offset == 0 or parsed.text[offset - 1] == "\n"


def fill(table, rows):
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value


def mark_header(row):
    row._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {NS}/>'))


# ------------------------------------------------------------------- tables
def test_table_rows_cells_and_header_offsets():
    d = docx.Document()
    d.add_paragraph("Table 3: Handgun checks by state")
    table = d.add_table(rows=4, cols=3)
    fill(table, [("State", "Nov 2015", "Dec 2015"), ("Texas", "1,234", "2,345"),
                 ("Ohio", "7", ""), ("Utah", "5,748", "5,331")])
    d.add_paragraph("After the table.")
    p = parse(d)
    assert_exact(p)
    (t,) = p.tables
    assert t.header_rows == 1 and t.caption == "Table 3: Handgun checks by state" and t.page is None
    assert cells(p, t) == [["State", "Nov 2015", "Dec 2015"], ["Texas", "1,234", "2,345"], ["Ohio", "7", ""],
                           ["Utah", "5,748", "5,331"]]
    # Neighbouring numbers never run together: the separator is between them.
    assert f"Utah{CELL_SEP}5,748{CELL_SEP}5,331" in p.text
    assert p.text.index("Table 3") < t.start < p.text.index("After the table.")


def test_marked_header_rows_spanning_header_and_row_spanning_label():
    d = docx.Document()
    table = d.add_table(rows=5, cols=3)
    fill(table, [("Region", "Sales", ""), ("", "Q1", "Q2"), ("North", "10", "12"), ("", "11", "13"),
                 ("South", "7", "9")])
    table.cell(0, 1).merge(table.cell(0, 2))  # "Sales" over Q1 and Q2 (gridSpan)
    table.cell(0, 0).merge(table.cell(1, 0))  # "Region" over both header rows (vMerge)
    table.cell(2, 0).merge(table.cell(3, 0))  # "North" over two body rows (vMerge)
    mark_header(table.rows[0])
    mark_header(table.rows[1])
    p = parse(d)
    assert_exact(p)
    (t,) = p.tables
    assert t.header_rows == 2
    assert cells(p, t) == [
        ["Region", "Sales", "Sales"],  # a spanning header's text over each column it spans
        ["", "Q1", "Q2"],  # below a row-spanning header: empty, its header is above
        ["North", "10", "12"],
        ["North", "11", "13"],  # a short row-spanning label again on each row it covers
        ["South", "7", "9"],
    ]
    assert "Region | Sales | Sales\n | Q1 | Q2\nNorth | 10 | 12\nNorth | 11 | 13" in p.text


def test_header_extends_down_a_row_spanning_header_cell_without_marks():
    d = docx.Document()
    table = d.add_table(rows=3, cols=3)
    fill(table, [("Region", "Q1", "Q2"), ("", "Jan", "Apr"), ("North", "10", "12")])
    table.cell(0, 0).merge(table.cell(1, 0))
    (t,) = parse(d).tables
    assert t.header_rows == 2


def test_body_cell_spanning_columns_is_written_once_and_covers_them():
    d = docx.Document()
    table = d.add_table(rows=2, cols=3)
    fill(table, [("Item", "Q1", "Q2"), ("Total", "", "38")])
    table.cell(1, 0).merge(table.cell(1, 1))
    p = parse(d)
    (t,) = p.tables
    assert cells(p, t)[1] == ["Total", "Total", "38"] and "\nTotal | 38" in p.text
    assert t.rows[1].cells[0] == t.rows[1].cells[1]


def test_a_form_of_labels_has_no_header_row():
    d = docx.Document()
    table = d.add_table(rows=3, cols=2)
    fill(table, [("Proposal Type:", "Internal"), ("Deadline for Submission:", "30 June 2004"),
                 ("Start Date:", "January 2005")])
    p = parse(d)
    (t,) = p.tables
    assert t.header_rows == 0 and "Deadline for Submission: | 30 June 2004" in p.text


def test_caption_style_paragraph_after_the_table():
    d = docx.Document()
    d.add_paragraph("Some prose that ends like a sentence.")
    fill(d.add_table(rows=2, cols=2), [("a", "b"), ("1", "2")])
    d.add_paragraph("Table 2. Results by group", style="Caption")
    (t,) = parse(d).tables
    assert t.caption == "Table 2. Results by group"


def test_a_sentence_before_a_table_is_not_its_caption():
    d = docx.Document()
    d.add_paragraph("Please state below how many copies the funder requires, and where to send them.")
    fill(d.add_table(rows=2, cols=2), [("a", "b"), ("1", "2")])
    assert parse(d).tables[0].caption == ""


def test_one_column_table_is_a_box_of_paragraphs():
    d = docx.Document()
    box = d.add_table(rows=2, cols=1)
    fill(box, [("CREDO REFERENCE",), ("03/599",)])
    p = parse(d)
    assert p.tables == () and p.text == "CREDO REFERENCE\n\n03/599" and p.paragraphs == (0, 17)


def test_nested_table_flattens_the_outer_and_keeps_the_inner():
    d = docx.Document()
    outer = d.add_table(rows=1, cols=2)
    outer.cell(0, 0).text = "Left column words."
    inner_cell = outer.cell(0, 1)
    inner_cell.text = "Inner table:"
    inner = inner_cell.add_table(rows=2, cols=2)
    fill(inner, [("Name", "Value"), ("alpha", "1")])
    p = parse(d)
    assert_exact(p)
    (t,) = p.tables
    assert cells(p, t) == [["Name", "Value"], ["alpha", "1"]] and t.caption == "Inner table:"
    assert p.text.startswith("Left column words.\n\nInner table:\n\nName | Value\nalpha | 1")


def test_deeply_nested_tables_do_not_crash():
    d = docx.Document()
    cell = d.add_table(rows=1, cols=2).cell(0, 1)
    for depth in range(40):
        cell.paragraphs[0].text = f"level {depth}"
        cell = cell.add_table(rows=1, cols=2).cell(0, 1)
    cell.paragraphs[0].text = "bottom"
    p = parse(d)
    assert "level 0" in p.text and "bottom" in p.text
    assert_exact(p)


# --------------------------------------------------------------- paragraphs
def test_paragraph_offsets_cover_every_block_in_order():
    d = docx.Document()
    d.add_heading("Results", level=1)
    d.add_paragraph("First paragraph.")
    d.add_paragraph("A list item", style="List Bullet")
    fill(d.add_table(rows=2, cols=2), [("a", "b"), ("1", "2")])
    d.add_paragraph("")  # empty: not a paragraph of the text
    d.add_paragraph("Last paragraph.")
    p = parse(d)
    assert_exact(p)
    starts = [p.text[o:].split("\n")[0] for o in p.paragraphs]
    assert starts == ["Results", "First paragraph.", "A list item", "a | b", "Last paragraph."]
    assert p.headings == ((0, "Results"),)


# --------------------------------------------------------------- text boxes
def drawing_text_box(text: str, fallback: str) -> str:
    """A run holding a DrawingML text box, with the VML copy Word writes as its fallback."""
    return (
        f'<w:r {NS}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic>'
        f'<a:graphicData><wps:wsp><wps:txbx><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p>'
        f'</w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>'
        f'</mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>{fallback}</w:t>'
        f'</w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>'
    )


def test_text_boxes_are_read_once_after_their_anchor():
    d = docx.Document()
    d.add_paragraph("Before the box.")
    anchor = d.add_paragraph("Anchor text.")
    anchor._p.append(parse_xml(drawing_text_box("New jobs created: 1,200", "FALLBACK COPY")))
    d.add_paragraph("After the box.")
    vml = d.add_paragraph()
    vml._p.append(parse_xml(
        f'<w:r {NS}><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>Old VML box</w:t></w:r></w:p>'
        f'</w:txbxContent></v:textbox></v:shape></w:pict></w:r>'
    ))
    p = parse(d)
    assert p.text == "Before the box.\n\nAnchor text.\n\nNew jobs created: 1,200\n\nAfter the box.\n\nOld VML box"
    assert "FALLBACK" not in p.text
    assert len(p.paragraphs) == 5


def test_text_box_in_a_table_cell_joins_the_cell_text():
    d = docx.Document()
    table = d.add_table(rows=2, cols=2)
    fill(table, [("Name", "Note"), ("alpha", "see")])
    table.cell(1, 1).paragraphs[0]._p.append(parse_xml(drawing_text_box("boxed", "dup")))
    p = parse(d)
    assert cells(p, p.tables[0])[1] == ["alpha", "see boxed"]


# ------------------------------------------------------- fields, revisions, hidden text
def test_page_fields_hidden_runs_and_instructions_are_not_text():
    d = docx.Document()
    para = d.add_paragraph("Page")
    for xml in (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
        '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>',
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
        '<w:r><w:t>3</w:t></w:r>',
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
        '<w:r><w:t xml:space="preserve"> of the report, see </w:t></w:r>',
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
        '<w:r><w:instrText xml:space="preserve"> REF chapter2 \\h </w:instrText></w:r>',
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
        '<w:r><w:t>Chapter 2</w:t></w:r>',
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
        '<w:r><w:rPr><w:vanish/></w:rPr><w:t>HIDDEN</w:t></w:r>',
        '<w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>99</w:t></w:r></w:fldSimple>',
        '<w:r><w:t>.</w:t></w:r>',
    ):
        para._p.append(parse_xml(xml.replace("<w:r>", f"<w:r {NS}>", 1).replace("<w:fldSimple", f"<w:fldSimple {NS}")))
    assert parse(d).text == "Page of the report, see Chapter 2."


# ------------------------------------------------------ notes, headers, footers
def add_part(document, partname: str, content_type: str, reltype: str, xml: str):
    part = Part(PackURI(partname), content_type, xml.encode("utf-8"), document.part.package)
    document.part.relate_to(part, reltype)


def note(kind: str, nid: int, text: str, note_type: str | None = None) -> str:
    t = f' w:type="{note_type}"' if note_type else ""
    return (f'<w:{kind} w:id="{nid}"{t}><w:p><w:r><w:{kind}Ref/></w:r><w:r><w:t xml:space="preserve"> {text}'
            f'</w:t></w:r></w:p></w:{kind}>')


def test_footnotes_and_endnotes_follow_the_body_numbered_as_referenced():
    d = docx.Document()
    p1 = d.add_paragraph("Revenue rose")
    p1._p.append(parse_xml(f'<w:r {NS}><w:footnoteReference w:id="7"/></w:r>'))
    p1._p.append(parse_xml(f'<w:r {NS}><w:t xml:space="preserve"> sharply.</w:t></w:r>'))
    p2 = d.add_paragraph("Costs fell")
    p2._p.append(parse_xml(f'<w:r {NS}><w:footnoteReference w:id="2"/></w:r>'))
    p2._p.append(parse_xml(f'<w:r {NS}><w:endnoteReference w:id="1"/></w:r>'))
    add_part(d, "/word/footnotes.xml", CT.WML_FOOTNOTES, RT.FOOTNOTES,
             f'<w:footnotes {NS}>{note("footnote", -1, "", "separator")}{note("footnote", 0, "", "continuationSeparator")}'
             f'{note("footnote", 2, "Costs exclude tax.")}{note("footnote", 7, "Audited figures.")}</w:footnotes>')
    add_part(d, "/word/endnotes.xml", CT.WML_ENDNOTES, RT.ENDNOTES,
             f'<w:endnotes {NS}>{note("endnote", 1, "See the annex.")}</w:endnotes>')
    p = parse(d)
    assert p.text == (
        "Revenue rose[1] sharply.\n\nCosts fell[2][i]\n\n"
        "Footnotes\n\n[1] Audited figures.\n\n[2] Costs exclude tax.\n\nEndnotes\n\n[i] See the annex."
    )
    assert [h for _, h in p.headings] == ["Footnotes", "Endnotes"]
    assert p.text[p.headings[0][0]:].startswith("Footnotes")


def test_headers_and_footers_once_each_after_the_notes():
    d = docx.Document()
    d.add_paragraph("Body of section one.")
    first = d.sections[0]
    first.header.paragraphs[0].text = "ACME Corp annual report"
    first.footer.paragraphs[0].text = "Confidential"
    d.add_section()
    d.add_paragraph("Body of section two.")
    second = d.sections[1]
    second.header.is_linked_to_previous = False
    second.header.paragraphs[0].text = "ACME Corp annual report"  # the same text in its own part
    second.footer.is_linked_to_previous = False
    second.footer.paragraphs[0].text = "Appendix"
    p = parse(d)
    assert p.text.endswith("Headers\n\nACME Corp annual report\n\nFooters\n\nConfidential\n\nAppendix")
    assert p.text.count("ACME Corp annual report") == 1
    assert [h for _, h in p.headings] == ["Headers", "Footers"]


def test_a_footer_of_only_a_page_number_adds_nothing():
    d = docx.Document()
    d.add_paragraph("Body.")
    footer = d.sections[0].footer.paragraphs[0]
    for xml in ('<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
                '<w:r><w:instrText> PAGE </w:instrText></w:r>',
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
                '<w:r><w:t>3</w:t></w:r>', '<w:r><w:fldChar w:fldCharType="end"/></w:r>'):
        footer._p.append(parse_xml(xml.replace("<w:r>", f"<w:r {NS}>", 1)))
    assert parse(d).text == "Body."


# ------------------------------------------------------------------- titles
def without_core_properties(document) -> bytes:
    """The saved file with docProps/core.xml and its relationship removed (as some tools write)."""
    buf = io.BytesIO()
    document.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                continue
            if info.filename == "_rels/.rels":
                data = re.sub(rb'<Relationship [^>]*Target="docProps/core\.xml"/>', b"", data)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b'<Override PartName="/docProps/core.xml" '
                                    b'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>', b"")
            dst.writestr(info, data)
    return out.getvalue()


def test_without_core_properties_the_title_is_the_first_heading_not_word_document():
    d = docx.Document()
    d.add_paragraph("Intro line.")
    d.add_heading("Quarterly Review", level=1)
    d.add_paragraph("Body.")
    data = without_core_properties(d)
    assert "docProps/core.xml" not in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert parse(data).title == "Quarterly Review"


def test_without_core_properties_or_headings_the_title_is_left_to_the_caller():
    d = docx.Document()
    d.add_paragraph("Just a line.")
    assert parse(without_core_properties(d)).title is None


def test_title_style_paragraph_wins_over_headings():
    d = docx.Document()
    d.add_heading("Section One", level=1)
    d.add_heading("The Real Title", level=0)
    assert parse(d).title == "The Real Title"


@pytest.mark.parametrize("junk", ["10811.exe", "Microsoft Word - report.doc", "untitled", "Document1",
                                  "annual_report_final", "C:\\Users\\me\\report.doc", "Word Document"])
def test_junk_metadata_titles_give_way_to_the_first_heading(junk):
    d = docx.Document()
    d.core_properties.title = junk
    d.add_heading("Water Quality Survey", level=1)
    d.add_paragraph("The survey sampled rivers.")
    assert parse(d, "survey.docx").title == "Water Quality Survey"


def test_a_title_sharing_no_word_with_a_long_text_gives_way():
    d = docx.Document()
    d.core_properties.title = "Boeing 737 maintenance manual"
    d.add_heading("Airbus fleet plan", level=1)
    d.add_paragraph(" ".join(["The Airbus fleet grows each year with new aircraft."] * 30))
    parsed = parse(d)
    assert parsed.title == "Airbus fleet plan"
    # The report says so: `qa list --details` and the chat's documents table show it.
    assert ("its metadata title “Boeing 737 maintenance manual” looks like junk or another document's title: "
            "titled by its first heading, “Airbus fleet plan”") in parsed.warnings
    d.core_properties.title = "Airbus fleet plan 2024"
    parsed = parse(d)
    assert parsed.title == "Airbus fleet plan 2024" and not any("metadata title" in w for w in parsed.warnings)


def test_a_junk_title_with_no_heading_is_none(tmp_path):
    d = docx.Document()
    d.core_properties.title = "Document1"
    d.add_paragraph("Plain words only.")
    path = tmp_path / "plain_notes.docx"
    d.save(str(path))
    assert parse(d).title is None
    from qa.documents import read_document

    assert read_document(path, "plain_notes.docx", 50_000_000).title == "Plain notes"


# ---------------------------------------------------------------- refusals
def nested_docx(depth: int) -> bytes:
    d = docx.Document()
    d.add_paragraph("x")
    buf = io.BytesIO()
    d.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    body = ("<w:sdt><w:sdtContent>" * depth + "<w:p><w:r><w:t>deep</w:t></w:r></w:p>"
            + "</w:sdtContent></w:sdt>" * depth)
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = f'<?xml version="1.0"?><w:document {NS}><w:body>{body}</w:body></w:document>'.encode()
            dst.writestr(info, data)
    return out.getvalue()


def test_excessive_depth_is_named_in_plain_words(tmp_path):
    with pytest.raises(DocumentError) as info:
        parse(nested_docx(300))
    assert "is nested too deeply" in str(info.value) and "Word .docx; skipped" in str(info.value)
    assert "XML_PARSE_HUGE" not in str(info.value)
    path = tmp_path / "deep.docx"
    path.write_bytes(nested_docx(300))
    with pytest.raises(DocumentError, match=r"deep\.docx: is nested too deeply .*; skipped"):
        readers.read(path, "deep.docx")


def test_nesting_under_the_limit_is_read():
    assert parse(nested_docx(100)).text == "deep"


# ------------------------------------------------- through the parsing worker
def test_tables_and_paragraphs_survive_the_worker(tmp_path):
    d = docx.Document()
    d.add_paragraph("Table 1: Prices")
    fill(d.add_table(rows=2, cols=2), [("Tea", "Price"), ("Green", "4.50")])
    path = tmp_path / "prices.docx"
    d.save(str(path))
    fmt, parsed = readers.read(path, "prices.docx")
    assert fmt == "docx" and parsed == parse(d, "prices.docx")
    (t,) = parsed.tables
    assert t.caption == "Table 1: Prices" and cells(parsed, t) == [["Tea", "Price"], ["Green", "4.50"]]
