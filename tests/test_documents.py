"""Reading files: encodings decoded, bad input refused with the file and the reason."""

import pytest

from qa.documents import decode, read_document, title_from
from qa.errors import DocumentError

TEXT = "Café Zürich: naïve façade — “quoted” 10 €.\nSecond line."


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with BOM
        b"\xff\xfe" + TEXT.encode("utf-16-le"),
        TEXT.encode("utf-16-le"),  # no BOM
        TEXT.encode("utf-16-be"),  # no BOM
    ],
    ids=["utf8", "utf8-bom", "utf16", "utf16le-bom", "utf16le", "utf16be"],
)
def test_unicode_encodings_decode_to_the_same_text(data):
    assert decode(data, "f.txt") == TEXT


def test_latin1_and_windows_1252_are_decoded_not_rejected():
    assert decode("Café naïve façade".encode("latin-1"), "f.txt") == "Café naïve façade"
    assert decode("“smart” quotes – 10 €".encode("cp1252"), "f.txt") == "“smart” quotes – 10 €"


def test_line_endings_are_normalised():
    assert decode(b"one\r\ntwo\rthree\n", "f.txt") == "one\ntwo\nthree\n"


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 20, b"\x89PNG\r\n\x1a\n" + bytes(200), b"PK\x03\x04" + bytes(range(10, 200)) * 5],
    ids=["random", "png", "zip"],
)
def test_binary_is_refused_with_the_file_name(data):
    with pytest.raises(DocumentError, match=r"photo\.txt: is binary"):
        decode(data, "photo.txt")


def test_read_document_refusals(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.md"
    blank.write_text(" \n\t\n")
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    odd = tmp_path / "data.xyz"
    odd.write_text("hello")
    with pytest.raises(DocumentError, match="empty.txt: is empty"):
        read_document(empty, "empty.txt", 10_000)
    with pytest.raises(DocumentError, match="blank.md: is empty"):
        read_document(blank, "blank.md", 10_000)
    with pytest.raises(DocumentError, match="big.txt: is .* above the .* limit"):
        read_document(big, "big.txt", 1000)
    with pytest.raises(DocumentError, match=r"data.xyz: unsupported format '.xyz'"):
        read_document(odd, "data.xyz", 10_000)


def test_read_document_keeps_text_hash_and_title(tmp_path):
    path = tmp_path / "iran_news-2024.txt"
    path.write_text("Some text.", encoding="utf-8")
    doc = read_document(path, "iran_news-2024.txt", 10_000)
    assert doc.text == "Some text." and doc.title == "Iran news 2024" and len(doc.sha256) == 64
    assert title_from("intro\n# The Real Title\n", "notes.md") == "The Real Title"


def test_markdown_headings_are_found_outside_code_fences(tmp_path):
    text = "# Guide\n\nIntro.\n\n## Install\n\nRun it.\n\n```\n# not a heading\n```\n### Use\nText."
    path = tmp_path / "guide.md"
    path.write_text(text)
    doc = read_document(path, "guide.md", 10_000)
    assert doc.format == "markdown" and doc.title == "Guide"
    assert [(text[o:o + 12], h) for o, h in doc.headings] == [
        ("# Guide\n\nInt", "Guide"), ("## Install\n\n", "Install"), ("### Use\nText", "Use")
    ]
