"""Whether a title from a file's metadata is worth showing.

Metadata titles are often junk: the name of the file the document was
converted from ("10811.exe", "Microsoft Word - report.doc"), an editor's
placeholder ("untitled", "Document1"), or the title of the document it was
copied from. Those give way to the document's first heading (the reader's
choice) or the file name (the caller's). Pure functions, stdlib only.
"""

from __future__ import annotations

import re
import unicodedata

# An editor's default title, nothing the author wrote.
_PLACEHOLDER = re.compile(
    r"(?i)^(untitled( document| page| presentation)?|no title|title|document|new document|word document|"
    r"(new )?microsoft (office )?(word|powerpoint|excel)( document| presentation| worksheet)?|"
    r"powerpoint presentation|presentation|slide|book|sheet|doc|template|default|none|null|"
    r"html document|web page|index|home|page)[\s_\-]*\d*$"
)
# "Microsoft Word - report.doc", "Microsoft PowerPoint - deck.ppt": a printer driver's job name.
_CONVERTER = re.compile(r"(?i)^(microsoft\s+(office\s+)?(word|powerpoint|excel|publisher|visio)|word|excel)\s*-\s")
_EXTENSION = re.compile(
    r"(?i)\.(exe|dll|doc|docx|dot|dotx|docm|rtf|odt|ott|wpd|wps|pdf|ps|eps|txt|htm|html|xml|xls|xlsx|ppt|pptx|"
    r"pps|indd|qxd|qxp|tex|dvi|tmp|jpg|jpeg|png|gif|tif|tiff|bmp|zip|psd)$"
)
# "C:\\Users\\...", "/tmp/x", "\\\\server\\share": a path (a backslash anywhere is one).
_PATH = re.compile(r"^([a-zA-Z]:)?[\\/]|\\")
_WORDS = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# A document this long (in characters: about 100 English words, and as
# meaningful for scripts written without spaces) that never uses a word of its
# title has someone else's title.
_MIN_CHARS_FOR_OVERLAP = 600
# The title's words are looked for in the text's start (a title word that first
# appears after this many characters is as good as absent).
_SAMPLE_CHARS = 200_000


def unused_title_note(meta: str | None, chosen: str | None, file_name: str = "") -> str | None:
    """The ingestion report's line for a metadata title that was not used (None when it was, or
    when it is only the file's own name): the verdict ``qa list --details`` shows."""
    meta = " ".join((meta or "").split())
    if not meta or chosen == meta or (chosen and chosen in meta) or _same_name(meta, file_name):
        return None
    shown = meta if len(meta) <= 80 else meta[:79] + "…"
    instead = f"by its first heading, “{chosen}”" if chosen else "by its file name"
    return f"its metadata title “{shown}” looks like junk or another document's title: titled {instead}"


def usable_title(title: str | None, text: str, file_name: str = "") -> str | None:
    """``title`` when it names this document, else None.

    None for an empty title, a placeholder, a converter's job name, a file
    name or path (or this file's own stem), a title without letters, and a
    title sharing no word with a text of 600 characters or more (a short
    text may well not repeat its title).
    """
    if not title:
        return None
    t = title.strip()
    folded = _fold(t)
    if not folded or not any(ch.isalpha() for ch in folded):
        return None
    if _PLACEHOLDER.match(t) or _CONVERTER.match(t) or _EXTENSION.search(t) or _PATH.search(t):
        return None
    if _same_name(t, file_name):
        return None
    if not _shares_a_word(folded, text):
        return None
    return t


def _fold(s: str) -> str:
    return unicodedata.normalize("NFKC", s).casefold().strip()


def _same_name(title: str, file_name: str) -> bool:
    """A file's stem as the title: one "word" joined by _ ("annual_report_2019") or this file's own stem."""
    if any(ch.isspace() for ch in title):
        return False
    if "_" in title:
        return True
    name = _fold(file_name.replace("\\", "/").rsplit("/", 1)[-1])
    stem = name.rsplit(".", 1)[0]
    return bool(stem) and _fold(title) == stem


def _shares_a_word(folded_title: str, text: str) -> bool:
    """Whether a word of the title occurs in ``text`` (always true for a short text)."""
    sample = _fold(text[:_SAMPLE_CHARS])
    if len(sample) < _MIN_CHARS_FOR_OVERLAP:
        return True
    for word in _WORDS.findall(folded_title):
        if _CJK.search(word):
            # CJK runs are not split into words: any two characters of the title will do.
            if any(word[i:i + 2] in sample for i in range(max(1, len(word) - 1))):
                return True
        elif (len(word) > 1 or word.isdigit()) and re.search(r"(?<!\w)" + re.escape(word), sample):
            return True
    return False
