"""PDF layout analysis: the pure rules on exact boxes (no PDF), then real PDFs
made here with fpdf2 read end to end by qa.readers.pdf.parse."""

from __future__ import annotations

import pytest

from helpers import raw_pdf
from qa.readers import limits
from qa.readers._base import CELL_SEP
from qa.readers.layout import (
    Paragraph, Word, drop_line_numbers, group_blocks, group_rows, join_drop_caps, join_lines, normalise_ligatures,
    page_items, reading_order, segments, split_paragraphs, split_row,
)
from qa.readers.layout_pages import (
    choose_title, clean_title, furniture, garbled, heading_title, is_page_number, lexicon, title_matches,
)
from qa.readers.layout_tables import Cell, TableGrid, cell_texts, find_tables, merge_wrapped, table_text

H = 10.0  # text height of the made-up words


def line(text: str, x: float, y: float, h: float = H, char: float = 5.0, space: float = 2.5, order: int = 0):
    """Words of ``text`` from x on the row whose top is y (each character ``char`` wide)."""
    out = []
    for w in text.split():
        out.append(Word(w, x, y, x + char * len(w), y + h, order))
        x += char * len(w) + space
        order += len(w) + 1
    return out


def texts(lines):
    return [ln.text for ln in lines]


# ------------------------------------------------------------------ rows
def test_rows_group_by_bottom_and_read_left_to_right():
    words = line("second row", 10, 30) + line("first row", 10, 10)
    rows = group_rows(words)
    assert [" ".join(w.text for w in r) for r in rows] == ["first row", "second row"]


def test_rows_of_a_font_taller_than_its_pitch_stay_apart():
    # Loose boxes 14 high on a 12-point pitch overlap by more than half, yet are two rows.
    words = line("top line", 10, 0, h=14) + line("next line", 10, 12, h=14)
    assert len(group_rows(words)) == 2


def test_superscript_joins_its_row():
    words = line("E = mc", 10, 10) + [Word("2", 41, 7, 44, 13)]
    rows = group_rows(words)
    assert len(rows) == 1 and [w.text for w in rows[0]] == ["E", "=", "mc", "2"]


# -------------------------------------------------------------- segments
def test_row_is_cut_at_a_gutter():
    words = line("left column text here", 10, 10) + line("right column text", 200, 10)
    assert texts(split_row(group_rows(words)[0])) == ["left column text here", "right column text"]


def test_a_wide_justified_space_does_not_cut_a_line_but_a_gutter_does():
    # Row 2 has one wide space (18 pt) where rows 1 and 3 have text: not a gutter.
    words = (line("aaaa bbbb cccc dddd", 10, 0) + line("eeee", 10, 12) + line("ffff gggg", 48, 12)
             + line("hhhh iiii jjjj kkkk", 10, 24))
    assert texts(segments(words)) == ["aaaa bbbb cccc dddd", "eeee ffff gggg", "hhhh iiii jjjj kkkk"]
    # The same gap with white above and below runs down the page: two columns.
    words = (line("aaaa", 10, 0) + line("bbbb", 48, 0) + line("eeee", 10, 12) + line("ffff", 48, 12)
             + line("hhhh", 10, 24) + line("iiii", 48, 24))
    assert texts(segments(words)) == ["aaaa", "bbbb", "eeee", "ffff", "hhhh", "iiii"]


def test_typed_runs_of_spaces_are_kept():
    a = Word("Chapter", 0, 0, 35, 10, order=0, end=7)
    b = Word("Two:", 37, 0, 57, 10, order=8, end=12, spaces=3)
    c = Word("Methods", 66, 0, 101, 10, order=13, end=20)
    assert split_row([a, b, c])[0].text == "Chapter Two:   Methods"


# ---------------------------------------------------------- reading order
def test_columns_are_read_one_after_the_other_below_a_full_width_title():
    title = line("A title across both columns of the page", 10, 0, h=16)
    left = line("left one", 10, 30) + line("left two", 10, 42) + line("left three", 10, 54)
    right = line("right one", 160, 30) + line("right two", 160, 42) + line("right three", 160, 54)
    paras = page_items(title + right + left)
    assert [" ".join(t for t, _ in p.lines) for p in paras] == [
        "A title across both columns of the page", "left one left two left three", "right one right two right three"]


def test_a_full_width_block_between_column_parts_keeps_its_place():
    # Top halves of two columns, then a full-width figure caption, then bottom halves.
    top_l, top_r = line("top left", 10, 0), line("top right", 160, 0)
    wide = line("Figure 1 spans the page from left to right margin text", 10, 40)
    low_l, low_r = line("low left", 10, 80), line("low right", 160, 80)
    blocks = group_blocks(segments(top_l + top_r + wide + low_l + low_r))
    order = [b.lines[0].text for b in reading_order(blocks)]
    assert order == ["top left", "top right", "Figure 1 spans the page from left to right margin text",
                     "low left", "low right"]


# -------------------------------------------------------------- paragraphs
def _block(rows):
    return group_blocks(segments([w for r in rows for w in r]))[0]


def test_paragraphs_split_at_a_first_line_indent_and_keep_wrapped_lines_together():
    rows = [line("aaaa bbbb cccc dddd eeee ffff gggg", 10, 0),
            line("hhhh iiii jjjj.", 10, 12),
            line("kkkk llll mmmm nnnn oooo pppp", 30, 24),
            line("qqqq rrrr ssss tttt uuuu vvvv wwww", 10, 36)]
    paras = split_paragraphs(_block(rows))
    assert [[t for t, _ in p.lines] for p in paras] == [
        ["aaaa bbbb cccc dddd eeee ffff gggg", "hhhh iiii jjjj."],
        ["kkkk llll mmmm nnnn oooo pppp", "qqqq rrrr ssss tttt uuuu vvvv wwww"]]


def test_a_line_short_of_the_edge_ends_a_paragraph_only_after_a_sentence():
    rows = [line("aaaa bbbb cccc dddd eeee ffff gggg", 10, 0),
            line("hhhh iiii", 10, 12),  # short, but no final punctuation: the sentence goes on
            line("jjjj kkkk llll mmmm nnnn oooo pppp", 10, 24),
            line("qqqq end.", 10, 36),
            line("Next paragraph starts here and runs on", 10, 48)]
    paras = split_paragraphs(_block(rows))
    assert [len(p.lines) for p in paras] == [4, 1]


def test_bullets_start_paragraphs():
    rows = [line("• first item of the list here", 10, 0), line("• second item of the list", 10, 12)]
    assert len(split_paragraphs(_block(rows))) == 2


def test_a_short_heading_line_before_full_lines_is_its_own_paragraph():
    rows = [line("1. Introduction", 10, 0),
            line("Aaaa bbbb cccc dddd eeee ffff gggg", 10, 12),
            line("hhhh iiii jjjj kkkk llll mmmm nnnn", 10, 24)]
    paras = split_paragraphs(_block(rows))
    assert [[t for t, _ in p.lines] for p in paras][0] == ["1. Introduction"]


# ----------------------------------------------------------------- joining
LEX = lexicon(["the compiler and the run time of a time machine", "we compile it", "well-known"])


@pytest.mark.parametrize("lines, expected", [
    ([("a sentence", False), ("goes on", False)], "a sentence goes on"),
    ([("we com-", False), ("pile code", False)], "we compile code"),  # the joined word is a word of the document
    ([("an alter-", False), ("native way", False)], "an alternative way"),  # neither half is a word: joined
    ([("the run-", False), ("time costs", False)], "the run-time costs"),  # both halves are words: a compound
    ([("a well-", False), ("known fact", False)], "a well-known fact"),  # the hyphenated form is in the document
    ([("we com", True), ("pile code", False)], "we compile code"),  # pdfium's marked line-end hyphen
    ([("Anglo-", False), ("Saxon law", False)], "Anglo-Saxon law"),  # capital after the hyphen: kept, no space
    ([("in 2012-", False), ("13 it rose", False)], "in 2012-13 it rose"),
    ([("air -", False), ("water", False)], "air - water"),  # a dash between spaces is not a hyphenation
    ([("soft\u00ad", False), ("ware", False)], "software"),
    ([("日本の", False), ("首都", False)], "日本の首都"),
])
def test_join_lines(lines, expected):
    assert join_lines(lines, LEX) == expected


def test_ligatures_are_spelled_out_and_nothing_else_changes():
    spelled = normalise_ligatures("ﬁnd the ﬂow, eﬀort, oﬃce, baﬄe; ½ ＡＢ")
    assert spelled == "find the flow, effort, office, baffle; ½ ＡＢ"


def test_drop_cap_joins_its_word():
    cap = Word("T", 10, 0, 30, 30)
    words = [cap] + line("he Boots shop opened", 32, 0) + line("in the year of", 32, 12)
    joined = join_drop_caps(words, usual=H)
    assert "The" in [w.text for w in joined] and "T" not in [w.text for w in joined]
    assert join_drop_caps(line("A small a", 10, 0), usual=H) == line("A small a", 10, 0)


def test_margin_line_numbers_are_dropped():
    words = []
    for n in range(1, 9):
        words += line(f"text of line {n} runs here", 50 + 5 * (n % 2), n * 12)
        words.append(Word(str(n), 300, n * 12, 305, n * 12 + H))
    kept = drop_line_numbers(words)
    assert len(kept) == len(words) - 8 and all(w.x0 < 300 for w in kept)
    # Numbers with text in their column (a table's "No." column under its header) stay, as do
    # numbers with text on both sides of them.
    header = [Word("No.", 298, 0, 310, H)]
    assert len(drop_line_numbers(words + header)) == len(words) + 1
    right = [Word("x", 320, n * 12, 325, n * 12 + H) for n in range(1, 9)]
    assert len(drop_line_numbers(words + right)) == len(words) + 8


# ------------------------------------------------------------------- tables
def _grid_words():
    words = line("Pollutant", 10, 0) + line("to air", 150, 0) + line("to water", 250, 0)
    rows = [("Ammonia", "10 000", "-"), ("Carbon monoxide", "500 000", "-"), ("Halons", "1", "5"),
            ("Methane", "100 000", "20")]
    for k, (label, a, b) in enumerate(rows, start=1):
        y = k * 14
        words += line(label, 10, y) + line(a, 150, y) + line(b, 250, y)
    return words


def test_whitespace_table_is_found_with_header_and_cells():
    words = line("Table 3: Release thresholds", 10, -30) + _grid_words()
    found = find_tables(words, H)
    assert len(found.tables) == 1
    t = found.tables[0]
    assert t.columns == 3 and t.header_rows == 1 and t.caption == "Table 3: Release thresholds"
    assert cell_texts(t) == [["Pollutant", "to air", "to water"], ["Ammonia", "10 000", "-"],
                             ["Carbon monoxide", "500 000", "-"], ["Halons", "1", "5"], ["Methane", "100 000", "20"]]
    assert found.rest == ()


def test_two_columns_of_prose_are_not_a_table():
    words = []
    for k in range(6):
        words += line("some words of running text in a column", 10, k * 12)
        words += line("and more words of text in the other one", 260, k * 12)
    assert find_tables(words, H).tables == ()


def test_a_bulleted_list_is_not_a_table():
    words = []
    for k in range(4):
        words += line("•", 10, k * 12) + line("an item of a list with several words in it", 30, k * 12)
    assert find_tables(words, H).tables == ()


def test_a_table_beside_a_column_of_running_text_is_found_alone():
    words = []
    prose = ("the other column tells its story in lines of running text that wrap at the edge of the "
             "column and go on below where a reader follows them from one line to the next until the "
             "paragraph ends with a full stop somewhere near the bottom of the page in the end").split()
    for k in range(8):
        words += line(" ".join(prose[k * 6 + k % 3:k * 6 + k % 3 + 12]), 10, k * 14, char=3.0 + 0.2 * (k % 4))
    words += line("Period", 300, 0) + line("Allowance", 420, 0)
    for k, (period, value) in enumerate([("Weekly", "71.15"), ("Biweekly", "142.31"), ("Monthly", "308.33"),
                                         ("Quarterly", "925.00"), ("Annually", "3,700.00")], start=1):
        words += line(period, 300, k * 14) + line(value, 420, k * 14)
    found = find_tables(words, H)
    assert len(found.tables) == 1
    assert cell_texts(found.tables[0]) == [["Period", "Allowance"], ["Weekly", "71.15"], ["Biweekly", "142.31"],
                                           ["Monthly", "308.33"], ["Quarterly", "925.00"], ["Annually", "3,700.00"]]
    assert " ".join(w.text for w in found.rest).startswith("the other column tells")  # the prose stays prose


def test_ruled_rows_hold_cells_of_several_lines():
    from qa.readers.layout import Rule

    words = line("No.", 10, 0) + line("Name", 60, 0) + line("Code", 200, 0)
    words += line("1", 10, 20) + line("Edge Telecom", 60, 20) + line("821-11", 200, 20)
    words += line("Pvt. Ltd.", 60, 32)
    words += line("2", 10, 52) + line("Blaze Net", 60, 52) + line("821-13", 200, 52)
    words += line("Limited", 60, 64)
    rules = [Rule(5, y, 260, y) for y in (-2, 16, 48, 80)]
    t = find_tables(words, H, rules).tables[0]
    assert cell_texts(t) == [["No.", "Name", "Code"], ["1", "Edge Telecom Pvt. Ltd.", "821-11"],
                             ["2", "Blaze Net Limited", "821-13"]]
    assert t.header_rows == 1


def test_a_row_of_years_is_a_header_and_a_two_line_caption_is_one():
    words = line("Table 2: Servers by year,", 10, -40) + line("in thousands", 10, -28)
    words += line("Class", 10, 0) + line("2007", 150, 0) + line("2008", 250, 0)
    for k, (label, a, b) in enumerate([("Mid-range", "4,921", "5,467"), ("High-end", "76,295", "81,624"),
                                       ("Volume", "1,505", "1,580")], start=1):
        words += line(label, 10, k * 14) + line(a, 150, k * 14) + line(b, 250, k * 14)
    t = find_tables(words, H).tables[0]
    assert t.header_rows == 1 and cell_texts(t)[0] == ["Class", "2007", "2008"]
    assert t.caption == "Table 2: Servers by year, in thousands"


def test_a_right_to_left_table_reads_from_its_right_column():
    words = []
    for k, (label, a, b) in enumerate([("סך הכל", "1.9", "5.8"), ("בינוי", "3.4", "11.2"),
                                       ("צריכה פרטית", "2.2", "7.9")]):
        y = k * 14
        words += line(a, 10, y) + line(b, 100, y)
        # Logical order, laid out right to left: the first word is the rightmost.
        parts = label.split()
        x = 300
        for part in parts:
            x -= 5.0 * len(part)
            words.append(Word(part, x, y, x + 5.0 * len(part), y + H))
            x -= 2.5
    t = find_tables(words, H).tables[0]
    assert cell_texts(t)[0] == ["סך הכל", "5.8", "1.9"]


def test_wrapped_labels_are_merged():
    rows = [{0: Cell("Chlorine and inorganic", 0, 0)}, {1: Cell("10 000", 1, 1), 2: Cell("-", 2, 2)},
            {0: Cell("compounds", 0, 0)}, {0: Cell("Halons", 0, 0), 1: Cell("1", 1, 1)},
            {0: Cell("Heavy metals", 0, 0)}, {0: Cell("Zinc", 0, 0), 1: Cell("200", 1, 1)}]
    merged = merge_wrapped(rows, 3)
    assert [[c.text for c in r.values()] for r in merged] == [
        ["Chlorine and inorganic compounds", "10 000", "-"], ["Halons", "1"], ["Heavy metals"], ["Zinc", "200"]]


def test_table_text_offsets_are_exact():
    grid = TableGrid(3, ((Cell("State", 0, 0), Cell("Revenue", 1, 2)),
                         (Cell("Assam", 0, 0), Cell("14,874", 1, 1), Cell("2,554", 2, 2)),
                         (Cell("Goa", 0, 0), Cell("4,055", 1, 1))), 1, "Table 5: Outlay", 0, 0, 100, 50)
    text, table = table_text(grid, start=7, page=2)
    doc = "x" * 7 + text
    assert text.splitlines() == ["Table 5: Outlay", f"State{CELL_SEP}Revenue", f"Assam{CELL_SEP}14,874{CELL_SEP}2,554",
                                 f"Goa{CELL_SEP}4,055{CELL_SEP}"]
    assert table.caption == "Table 5: Outlay" and table.page == 2 and table.header_rows == 1
    assert doc[table.start:table.end] == text[len("Table 5: Outlay\n"):]
    cells = [[doc[a:b] for a, b in row.cells] for row in table.rows]
    assert cells == [["State", "Revenue", "Revenue"], ["Assam", "14,874", "2,554"], ["Goa", "4,055", ""]]
    assert all(doc[r.start:r.end] == ln for r, ln in zip(table.rows, text.splitlines()[1:]))
    a, b = table.rows[0].cells[1]
    assert table.rows[0].cells[2] == (a, b)  # a spanning cell: written once, every column it spans points at it


# ------------------------------------------------------------- page level
def _para(text, top, bottom=None, height=H):
    return Paragraph(((text, False),), height, 10, top, 200, bottom if bottom is not None else top + height)


def test_running_headers_footers_and_page_numbers():
    pages, heights = [], []
    for n in range(1, 6):
        pages.append([_para("Annual Report 2013", 20), _para(f"Body text of page {n} about results.", 300),
                      _para(str(n), 770)])
        heights.append(800)
    marks = furniture(pages, heights)
    assert marks == [{0, 2}] * 5
    # A line in the middle of the page, repeated, is content.
    pages = [[_para("Total", 400)] for _ in range(5)]
    assert furniture(pages, [800] * 5) == [set()] * 5


@pytest.mark.parametrize("text, expected", [
    ("12", True), ("- 3 -", True), ("Page 4 of 9", True), ("iv", True), ("Page |23", True),
    ("12 apples", False), ("Chapter 1", False), ("2013", True),
])
def test_page_numbers(text, expected):
    assert is_page_number(text) is expected


def test_garbled_measure():
    english = "The technology acceptance model explains how users come to accept and use a technology. " * 4
    assert not garbled(english)
    assert garbled("\x04\x05\x06\x04\x07\x08\t\n\x08\x0b\x0c\x04\x08\r\x04\x0e\x0c\x0f " * 10)
    noise = "o(hô..i.p3xSTRxtT3xR2tTOR xSTRxtT qzrtpk VxWqTrz bcdfgh kLmNpQ zXcVbN " * 6
    assert garbled(noise)
    assert not garbled("地下鉄サリン事件は1995年3月20日に東京で発生した。" * 5)
    assert not garbled("12,345 67.8 9,101 " * 20)  # a page of numbers is not judged by the Latin test
    # A font without a Unicode map that still gives the right letters is fine.
    assert not garbled(english, tokens=60, unmapped=60)


@pytest.mark.parametrize("title, expected", [
    ("10811.exe", None), ("Microsoft Word - report.doc", None), ("untitled", None),
    ("Microsoft Word - Annual Review 2012", "Annual Review 2012"), ("Free Culture", "Free Culture"),
    ("", None), (None, None),
])
def test_clean_title(title, expected):
    assert clean_title(title) == expected


def test_title_falls_back_to_the_largest_heading_when_metadata_matches_nothing():
    first = [_para("Working Papers on Information Systems", 20), _para("Overview of the Model", 60, height=18),
             _para("Body text about the model.", 100)]
    text = "Working Papers on Information Systems Overview of the Model Body text about the model."
    assert title_matches("Overview of the Model", text) and not title_matches("Quarterly Budget Memo", text)
    assert choose_title("Quarterly Budget Memo", first, H, text) == "Overview of the Model"
    assert choose_title("Overview of the Model", first, H, text) == "Overview of the Model"
    assert heading_title([_para("small", 10)], H) is None
    # A heading in a font without a Unicode map reads as noise: it is no title.
    assert heading_title([_para("ÉÇÉÜtuÄx VöÅtÜt wx Ät", 20, height=18), _para("Votación nominal", 60, height=16)],
                         H) == "Votación nominal"


# ------------------------------------------------------------ real PDFs
def _parse(path):
    from qa.readers import pdf

    return pdf.parse(path.read_bytes(), path.name, limits())


def _page(parsed, n):
    starts = list(parsed.pages) + [len(parsed.text)]
    return parsed.text[starts[n - 1]:starts[n]]


LEFT = ("The first column tells how the river was crossed by the early settlers in the valley. "
        "They built rafts from the trees that grew along the banks.")
RIGHT = ("The second column explains the later bridge, which was opened in the spring of 1932 "
         "after four years of work by the town.")


def _fpdf():
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=10)
    return pdf


def test_pdf_two_columns_read_in_order(tmp_path):
    pdf = _fpdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=16)
    pdf.set_xy(15, 15)
    pdf.cell(0, 8, "Crossing the River")
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(15, 30)
    pdf.multi_cell(85, 5, LEFT)
    pdf.set_xy(110, 30)
    pdf.multi_cell(85, 5, RIGHT)
    path = tmp_path / "columns.pdf"
    pdf.output(str(path))
    parsed = _parse(path)
    text = parsed.text
    assert LEFT in text and RIGHT in text  # each column's lines joined with one space, in order
    assert text.index("Crossing the River") < text.index(LEFT) < text.index(RIGHT)
    assert parsed.title == "Crossing the River"


def test_pdf_table_header_footer_hyphen_ligature_drop_cap(tmp_path):
    pdf = _fpdf()
    for n in (1, 2, 3):
        pdf.add_page()
        pdf.set_font("Helvetica", size=8)
        pdf.set_xy(15, 8)
        pdf.cell(0, 5, "Town Almanac - running header")
        pdf.set_xy(100, 285)
        pdf.cell(10, 5, str(n))
        pdf.set_font("Helvetica", size=10)
        if n == 1:
            pdf.set_xy(15, 30)
            pdf.multi_cell(180, 5, "The town keeps a record of every crossing. Its first ferry was an ex-")
            pdf.set_x(15)
            pdf.multi_cell(180, 5, "pensive affair for the settlers of the valley, and it ran every day.")
            pdf.set_xy(15, 60)
            pdf.cell(0, 6, "Table 1: Crossings by year")
            for k, (year, ferry, bridge) in enumerate([("Year", "Ferry", "Bridge"), ("1930", "1,204", "0"),
                                                       ("1931", "1,150", "0"), ("1933", "310", "9,870")]):
                y = 68 + 6 * k
                for x, value in ((15, year), (70, ferry), (120, bridge)):
                    pdf.set_xy(x, y)
                    pdf.cell(30, 6, value)
        elif n == 2:
            pdf.add_font("dejavu", fname=_dejavu())
            pdf.set_font("dejavu", size=10)
            pdf.set_xy(15, 30)
            pdf.cell(0, 6, "The \ufb01rst \ufb02oat was an e\ufb00ort of the o\ufb03ce.")
        else:
            pdf.set_font("Helvetica", size=40)
            pdf.set_xy(15, 28)
            pdf.cell(12, 14, "T")
            pdf.set_font("Helvetica", size=10)
            pdf.set_xy(28, 30)
            pdf.multi_cell(160, 5, "he Boots shop opened on the corner in the spring of that year, selling tea.")
    path = tmp_path / "almanac.pdf"
    pdf.output(str(path))
    parsed = _parse(path)
    one, two, three = (_page(parsed, n) for n in (1, 2, 3))
    # The hyphenated line end is undone (neither "ex" nor "pensive" is a word here), the lines are one paragraph.
    assert "Its first ferry was an expensive affair for the settlers of the valley, and it ran every day." in one
    # The table: caption above, header first, one line per row, exact cell offsets.
    assert ("Table 1: Crossings by year\nYear | Ferry | Bridge\n1930 | 1,204 | 0\n1931 | 1,150 | 0\n"
            "1933 | 310 | 9,870") in one
    (table,) = parsed.tables
    assert table.page == 1 and table.header_rows == 1 and table.caption == "Table 1: Crossings by year"
    assert [[parsed.text[a:b] for a, b in row.cells] for row in table.rows][3] == ["1933", "310", "9,870"]
    # Running header kept after the page's text, never inside a sentence; the page number dropped.
    for page in (one, two, three):
        assert page.rstrip("\n\f").endswith("Town Almanac - running header")
    assert "\n\n1\n" not in one and not one.rstrip().endswith("1")
    assert "The first float was an effort of the office." in two
    assert "The Boots shop opened on the corner" in three


def _dejavu():
    import glob

    found = sorted(glob.glob("/usr/share/fonts/**/DejaVuSans.ttf", recursive=True))
    if not found:
        pytest.skip("no DejaVuSans.ttf to write ligature glyphs with")
    return found[0]


def test_pdf_rotated_page_reads_upright(tmp_path):
    from pypdf import PdfWriter

    pdf = _fpdf()
    pdf.add_page()
    pdf.set_xy(15, 30)
    pdf.multi_cell(180, 5, "A page that will be turned on its side still reads from left to right.")
    flat = tmp_path / "flat.pdf"
    pdf.output(str(flat))
    writer = PdfWriter(clone_from=str(flat))
    writer.pages[0].rotate(90)
    path = tmp_path / "turned.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    assert "A page that will be turned on its side still reads from left to right." in _parse(path).text


def test_pdf_rotated_text_reads_upright(tmp_path):
    pdf = _fpdf()
    pdf.add_page()
    with pdf.rotation(90, x=100, y=200):
        pdf.set_xy(100, 200)
        pdf.cell(0, 5, "Sideways words of a landscape table are read in order.")
    path = tmp_path / "sideways.pdf"
    pdf.output(str(path))
    assert "Sideways words of a landscape table are read in order." in _parse(path).text


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _raw_page(contents: int, font: int) -> bytes:
    return (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (contents, font))


def test_pdf_garbled_page_is_listed_and_left_out(tmp_path):
    noise = b"(" + b"\\004\\005\\006\\007\\010\\016\\017\\020 " * 40 + b")"
    good = b"(This page has a readable text layer with real words in it.)"
    path = tmp_path / "mixed.pdf"
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
        _raw_page(4, 7),
        _stream(b"BT /F1 12 Tf 20 200 Td " + good + b" Tj ET"),
        _raw_page(6, 7),
        _stream(b"BT /F1 12 Tf 20 200 Td " + noise + b" Tj ET"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]))
    parsed = _parse(path)
    assert parsed.garbled_pages == (2,)
    assert any("page 2 has a garbled text layer" in w for w in parsed.warnings)
    assert "readable text layer" in parsed.text and "\x04" not in parsed.text
    assert len(parsed.pages) == 2


DOUBLE = ("The harbour board met in the spring and agreed that the old quay would be rebuilt in stone, "
          "that the ferry would keep its summer timetable, and that the fees for berthing would stay as "
          "they were until the new quay was finished and the first ships had used it for a season.")


def test_double_spaced_lines_are_one_paragraph_and_short_lines_stay_apart(tmp_path):
    pdf = _fpdf()
    pdf.add_page()
    pdf.set_xy(15, 20)
    pdf.multi_cell(180, 9, " ".join([DOUBLE] * 4))  # 10 pt text on a 9 mm pitch: double spacing
    for k, heading in enumerate(["Harbour works", "Ferry timetable", "Berthing fees"]):
        pdf.set_xy(15, 150 + 9 * k)
        pdf.cell(0, 9, heading)
    path = tmp_path / "double.pdf"
    pdf.output(str(path))
    text = _parse(path).text
    assert " ".join([DOUBLE] * 4) in text  # every wrapped line joined, no sentence ends at a line break
    assert "Harbour works\n\nFerry timetable\n\nBerthing fees" in text  # short lines are not run together
