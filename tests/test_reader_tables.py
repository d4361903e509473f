"""The pure parts the DOCX and HTML readers share: table grids and text, captions, titles."""

from __future__ import annotations

import pytest

from qa.readers._base import CELL_SEP
from qa.readers._tables import MAX_SLOTS, Cell, build, caption_like, flat, is_layout, place, shift
from qa.readers._titles import usable_title


def texts(built):
    return [[built.text[a:b] for a, b in row.cells] for row in built.table.rows]


def test_place_moves_cells_past_row_spans_like_a_browser():
    rows = [[Cell("A", rowspan=2), Cell("B"), Cell("C")], [Cell("D"), Cell("E")], [Cell("F", colspan=3)]]
    placed = place(rows)
    assert [(p.text, p.row, p.col, p.rowspan, p.colspan) for p in placed] == [
        ("A", 0, 0, 2, 1), ("B", 0, 1, 1, 1), ("C", 0, 2, 1, 1), ("D", 1, 1, 1, 1), ("E", 1, 2, 1, 1),
        ("F", 2, 0, 1, 3),
    ]


def test_rowspan_zero_reaches_the_last_row_and_spans_are_clamped():
    placed = place([[Cell("A", rowspan=0), Cell("B", colspan=10**6)], [Cell("C")], [Cell("D")]])
    assert placed[0].rowspan == 3 and placed[1].colspan == 1000


def test_build_text_offsets_headers_and_labels():
    rows = [[Cell("Region", rowspan=2), Cell("Sales", colspan=2)], [Cell("Q1"), Cell("Q2")],
            [Cell("North", rowspan=2), Cell("10"), Cell("12")], [Cell("11"), Cell("13")]]
    built = build(place(rows), 4, header_rows=1)
    assert built.table.header_rows == 2  # "Region" spans into the second row
    assert built.text == "Region | Sales | Sales\n | Q1 | Q2\nNorth | 10 | 12\nNorth | 11 | 13"
    assert texts(built) == [["Region", "Sales", "Sales"], ["", "Q1", "Q2"], ["North", "10", "12"],
                            ["North", "11", "13"]]
    for row in built.table.rows:
        assert built.text[row.start:row.end].count(CELL_SEP) == 2


def test_long_or_structured_row_spanning_cells_are_written_once():
    rows = [[Cell("h1"), Cell("h2")], [Cell("x" * 80, rowspan=2), Cell("1")], [Cell("2")],
            [Cell("a; b", rowspan=2, plain=False), Cell("3")], [Cell("4")]]
    built = build(place(rows), 5, header_rows=1)
    assert [r[0] for r in texts(built)] == ["h1", "x" * 80, "", "a; b", ""]


def test_title_rows_empty_rows_and_trailing_empty_cells():
    rows = [[Cell("Largest cities", colspan=3)], [Cell("City"), Cell("Pop."), Cell("Note")],
            [Cell(""), Cell(""), Cell("")], [Cell("Auckland"), Cell("1,628,900"), Cell("")]]
    built = build(place(rows), 4, first_row_header=True)
    assert built.titles == ("Largest cities",) and built.table.header_rows == 1
    assert built.text == "City | Pop. | Note\nAuckland | 1,628,900"
    last = built.table.rows[-1]
    assert last.cells[2] == (last.end, last.end)


def test_first_row_header_unless_the_first_column_is_labels():
    form = [[Cell("Name:"), Cell("Ada")], [Cell("Born:"), Cell("1815")]]
    assert build(place(form), 2, first_row_header=True).table.header_rows == 0
    grid = [[Cell("Name"), Cell("Born")], [Cell("Ada"), Cell("1815")]]
    assert build(place(grid), 2, first_row_header=True).table.header_rows == 1
    assert build(place(grid[:1]), 1, first_row_header=True).table.header_rows == 0


def test_huge_grids_are_written_flat():
    rows = [[Cell("a", colspan=1000), Cell(str(i))] for i in range(MAX_SLOTS // 1000 + 1)]
    placed = place(rows)
    built = build(placed, len(rows)) if placed is not None else flat(rows)
    assert built.table is None and built.text.startswith(f"a{CELL_SEP}0\na{CELL_SEP}1")
    assert place([[Cell("a", rowspan=0, colspan=1000), Cell("b")]] * 1000) is None


def test_shift_moves_every_offset():
    built = build(place([[Cell("a"), Cell("b")], [Cell("1"), Cell("2")]]), 2)
    moved = shift(built.table, 10, "Cap")
    two = built.text.index("2")
    assert moved.start == 10 and moved.end == 10 + len(built.text) and moved.caption == "Cap"
    assert moved.rows[1].cells[1] == (10 + two, 11 + two) and moved.rows[1].start == built.table.rows[1].start + 10


@pytest.mark.parametrize("shape, layout", [
    (dict(columns=1, longest_cell=10), True),
    (dict(columns=3, longest_cell=10), False),
    (dict(columns=2, longest_cell=5000), True),
    (dict(columns=2, longest_cell=10, nested=True), True),
    (dict(columns=2, longest_cell=10, sections=True), True),
    (dict(columns=2, longest_cell=500, prose_cells=1), True),
])
def test_is_layout(shape, layout):
    assert is_layout(**shape) is layout


@pytest.mark.parametrize("text, heading, expected", [
    ("Table 3: Handgun checks", False, True),
    ("Tab. 2.1 Ergebnisse", False, True),
    ("1.1 APPLICANT(S) DETAILS", False, True),
    ("Results by region:", False, True),
    ("A sentence that ends like one.", False, False),
    ("Results", True, True),
    ("12345", False, False),
    ("word " * 20, False, False),
])
def test_caption_like(text, heading, expected):
    assert caption_like(text, heading) is expected


LONG = " ".join(["The survey of river water quality sampled forty sites."] * 20)


@pytest.mark.parametrize("title, expected", [
    ("River Water Survey", "River Water Survey"),
    ("10811.exe", None),
    ("Microsoft Word - report.doc", None),
    ("Microsoft PowerPoint - deck", None),
    ("untitled", None),
    ("Untitled-3", None),
    ("Document1", None),
    ("Word Document", None),
    ("report_final_v2", None),
    ("survey", None),  # this file's own stem
    ("/home/me/out.pdf", None),
    ("2019", None),
    ("Boeing maintenance manual", None),  # not one word in common with the text
    ("  ", None),
    ("Input/Output and TCP/IP sites", "Input/Output and TCP/IP sites"),
])
def test_usable_title(title, expected):
    assert usable_title(title, LONG, "survey.docx") == expected


def test_a_short_text_keeps_a_title_it_does_not_repeat():
    assert usable_title("Board Minutes", "We met.") == "Board Minutes"


def test_cjk_titles_match_by_characters():
    text = "地下鉄サリン事件は1995年に起きた。" * 60
    assert usable_title("地下鉄サリン事件の記録", text) == "地下鉄サリン事件の記録"
    assert usable_title("株式会社年次報告", text) is None
