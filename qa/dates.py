"""Dates in the forms people and documents write them, read as (year, month, day).

"5 March 1931", "March 5, 1931", "Mar. 5th", "1931-03-05", "05/03/1931" and
"March 1931" are found with their spans; a numeric date whose day and month
could be either way round ("05/03/1931") gives both readings. The written
answer's checker (qa/verify.py) uses this so that a model restating a
document's date in another form is not taken for inventing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_M = r"(?P<m>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_D = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"
_Y = r"(?P<y>\d{4})"
# Tried in this order; a later form never takes text an earlier one matched.
_FORMS = [re.compile(p, re.IGNORECASE) for p in (
    r"(?<![\w.-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\w-])",
    r"(?<![\w./])(?P<a>\d{1,2})([/.])(?P<b>\d{1,2})\2(?P<y>\d{4}|\d{2})(?![\w/]|\.\d)",
    rf"\b{_M}\s+{_D}\b(?:,?\s+{_Y}\b)?",
    rf"\b{_D}\s+(?:of\s+)?{_M}(?:,?\s+{_Y}\b)?",
    rf"\b{_M},?\s+{_Y}\b",
)]

Reading = tuple[int | None, int, int | None]  # (year, month, day); year or day None when not written


@dataclass(frozen=True)
class Date:
    start: int
    end: int
    readings: tuple[Reading, ...]


def _month(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    # A month in lower case is too often a verb ("may", "march") to be read as one.
    return None if word.islower() else _MONTHS.get(word.lower().rstrip("."))


def find_dates(text: str) -> list[Date]:
    """The dates of ``text``, in order, with every reading they allow."""
    taken: list[tuple[int, int]] = []
    out = []
    for form in _FORMS:
        for m in form.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            g = m.groupdict()
            year = int(g["y"]) if g.get("y") else None
            if "a" in g:
                a, b = int(g["a"]), int(g["b"])
                pairs = {(a, b), (b, a)}  # (month, day) either way round
            else:
                month = _month(g["m"])
                pairs = {(month, int(g["d"]) if g.get("d") else None)} if month else set()
            readings = tuple(sorted((year, mo, d) for mo, d in pairs
                                    if 1 <= mo <= 12 and (d is None or 1 <= d <= 31)))
            if readings:
                taken.append((m.start(), m.end()))
                out.append(Date(m.start(), m.end(), readings))
    return sorted(out, key=lambda d: d.start)


def _year_same(a: int, b: int) -> bool:
    return a == b or ((a < 100 or b < 100) and a % 100 == b % 100)


def holds(reading: Reading, other: Reading) -> bool:
    """Whether ``other`` states at least what ``reading`` does: the same month, and the same day
    and year wherever ``reading`` gives them."""
    y, m, d = reading
    oy, om, od = other
    return m == om and (d is None or d == od) and (y is None or (oy is not None and _year_same(y, oy)))


def stated_in(date: Date, texts_dates: list[Date]) -> bool:
    """Whether some date of ``texts_dates`` states what one reading of ``date`` does."""
    return any(holds(r, o) for r in date.readings for d in texts_dates for o in d.readings)
