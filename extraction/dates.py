"""DATE entities: the date forms of Party and state documents of every era.

A regular-expression matcher rather than EntityRuler token patterns, because a
date is valid only when its numbers are (day 1-31, month 1-12, a year 1800-2099):
"0912.345.678" and "Số 15/2021" have the shape of a date and are not one. It
matches on ``kholuu.textnorm.fold`` of the normalized text (one character for
one, so offsets carry over), so OCR's dropped tones ("ngay 3 thang 2 nam 1930",
"nãm") still read; a letter O read for a zero in a year ("2O21") is accepted.

Span convention (sets A, B, C; ``tests/data/extraction_entities_dev_dates.txt``):
a DATE names a day, a month, or a quarter of a named year. "ngày D tháng M năm Y",
"ngày D tháng M" and "mùng D tháng M" include their first word; numeric dates
("15/3/2021", "15-3-2021", "15.3.2021", "ngày 2/9") are the numbers alone;
"tháng M năm Y", "tháng M/Y", "tháng 8-1945" start at "tháng"; "quý I năm 2021",
"quý IV/2020" at "quý". A bare year, "đầu năm 1946", a range of years
("nhiệm kỳ 2020 – 2025") and a quarter without its year are no DATE.
"""

from __future__ import annotations

import re
from datetime import date

from kholuu.textnorm import fold

DateSpan = tuple[int, int, str, str]  # start, end, "DATE", pattern id

_Y = r"(?P<y>(?:1[89]|2[0oO])[0-9oO]{2})(?![0-9oO]*\w)"
_D = r"(?P<d>\d{1,2})"
_M = r"(?P<m>\d{1,2})"
_SEP = r"\s*[/.-]\s*"
_NOT_AFTER = r"(?<![\w/.-])"          # not inside a number or a symbol ("15/2021/NQ", "0227.3831")
_NOT_ON = r"(?![/.-]?\d)(?!\s*[/.-]\s*\d)"  # the date ends here ("3/4" is no "3/4/5")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}

# (id, compiled pattern, group whose start is the span's start), longest forms first
_FORMS: list[tuple[str, re.Pattern[str], str]] = [
    ("date|dmy", re.compile(rf"(?i)\b(?P<s>(?:ngay|mung|mong)\s*{_D}\s+thang\s*{_M}\s*,?\s+nam\s*{_Y})"), "s"),
    ("date|dmy", re.compile(rf"(?i){_NOT_AFTER}(?P<s>{_D}{_SEP}{_M}{_SEP}{_Y})"), "s"),
    ("date|q", re.compile(rf"(?i)\b(?P<s>quy\s+(?P<q>iv|iii|ii|i|[1-4])(?:\s+nam\s*|\s*/\s*){_Y})"), "s"),
    ("date|my", re.compile(rf"(?i)\b(?P<s>thang\s*{_M}(?:\s+nam\s*|{_SEP}){_Y})"), "s"),
    ("date|dm", re.compile(rf"(?i)\b(?P<s>(?:ngay|mung|mong)\s*{_D}\s+thang\s*{_M})\b(?!\s*(?:[/.-]|nam)\s*\d)"), "s"),
    ("date|dm", re.compile(rf"(?i)\bngay\s*(?P<s>{_D}{_SEP}{_M}){_NOT_ON}\b"), "s"),
]


# digits as OCR reads them in a date, often stamped by the e-signature system in
# another font: I, l, |, J for 1, O for 0, S for 5 ("ngày I7tháng 7", "ngày J6");
# used only where nothing but a number can stand (also by extraction.metadata)
_OCR_DIGITS = str.maketrans("ilo|js", "110115")


def ocr_int(raw: str) -> int:
    return int(raw.lower().translate(_OCR_DIGITS))


def _valid(m: re.Match[str]) -> bool:
    g = m.groupdict()
    day = int(g["d"]) if g.get("d") else 1
    month = int(g["m"]) if g.get("m") else 1
    year = ocr_int(g["y"]) if g.get("y") else 2000  # a leap year: "29/2" stands
    if not 1800 <= year <= 2099:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def find_dates(norm: str) -> list[DateSpan]:
    """DATE spans of ``norm`` (normalized text), longest form first, never overlapping."""
    folded = fold(norm)
    taken: list[DateSpan] = []
    for ent_id, pattern, group in _FORMS:
        for m in pattern.finditer(folded):
            start, end = m.start(group), m.end(group)
            if any(start < t_end and t_start < end for t_start, t_end, _, _ in taken):
                continue
            if _valid(m):
                taken.append((start, end, "DATE", ent_id))
    return sorted(taken)


def canonical_date(ent_id: str, text: str) -> str:
    """ISO form of a matched date: "2021-03-15", "2021-03", "2021-Q1", "--09-02" (no year)."""
    folded = fold(text).lower()
    nums = [n for n in re.findall(r"[0-9o]+", folded) if re.search(r"\d", n)]
    try:
        if ent_id == "date|q":
            q = re.match(r"quy\s+(iv|iii|ii|i|[1-4])", folded)
            return f"{ocr_int(nums[-1]):04d}-Q{_ROMAN[q.group(1)]}" if q else text
        if ent_id == "date|my":
            return f"{ocr_int(nums[1]):04d}-{int(nums[0]):02d}"
        if ent_id == "date|dm":
            return f"--{int(nums[1]):02d}-{int(nums[0]):02d}"
        return date(ocr_int(nums[2]), int(nums[1]), int(nums[0])).isoformat()
    except (ValueError, IndexError):
        return text
