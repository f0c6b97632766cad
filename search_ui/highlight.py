"""Where the query's words are on a page image: hit boxes from OCR word boxes.

The index marks hits in the text; the viewer needs them on the image. Both sides
go through ``kholuu.textnorm`` and are compared folded (no diacritics, lower
case), so "nong thon moi" marks "nông thôn mới" and an OCR slip in a tone mark
(biểu → biếu) still gets its box. A quoted phrase, or a compound written as one
word ("08-CT/TU"), must appear as consecutive words; other words are marked
wherever they appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from markupsafe import Markup, escape

from indexing.abbrev import expand_query
from indexing.query import TOKEN_RE, parse_query, query_tokens
from kholuu.errors import QuerySyntaxError
from kholuu.textnorm import fold, normalize



@dataclass(frozen=True)
class HitBox:
    """One hit on a page: the boxes of its words (x0, y0, x1, y1 in image pixels)."""

    boxes: tuple[tuple[int, int, int, int], ...]
    text: str

    @property
    def outline(self) -> list[tuple[int, int, int, int]]:
        """The word boxes joined line by line: one rectangle per line of the hit."""
        out: list[list[int]] = []
        for x0, y0, x1, y1 in self.boxes:
            if out:
                px0, py0, px1, py1 = out[-1]
                overlap = min(y1, py1) - max(y0, py0)
                if overlap > 0.5 * min(y1 - y0, py1 - py0) and x0 >= px0:
                    out[-1] = [px0, min(y0, py0), max(x1, px1), max(y1, py1)]
                    continue
            out.append([x0, y0, x1, y1])
        return [(a, b, c, d) for a, b, c, d in out]


def query_units(query: str) -> list[tuple[str, ...]]:
    """The query as match units: each a tuple of folded tokens that must be adjacent.

    The query is read by ``indexing``'s own parser with its abbreviation
    expansion, so the image shows what the index matched: "BTV" also marks
    "Ban Thường vụ", a quoted phrase or "08-CT/TU" only as adjacent words,
    excluded words (-word) nothing. Longest units come first, so a phrase
    claims its words before a single syllable does.
    """
    try:
        parsed = expand_query(parse_query(query or ""))
    except QuerySyntaxError:
        return []
    units = dict.fromkeys(tuple(fold(t).lower() for t in term.tokens) for term in parsed.terms)
    return sorted((u for u in units if u), key=len, reverse=True)


def _bbox(word: dict[str, Any]) -> tuple[int, int, int, int] | None:
    box = word.get("bbox")
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        return None
    try:
        x0, y0, x1, y1 = (int(v) for v in box)
    except (TypeError, ValueError):
        return None
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def find_hits(words: Sequence[dict[str, Any]] | None, query: str) -> list[HitBox]:
    """Hits of ``query`` among a page's OCR words, in reading order."""
    units = query_units(query)
    if not words or not units:
        return []
    stream: list[tuple[str, int]] = []   # (folded token, word index)
    for i, w in enumerate(words):
        text = w.get("text") if isinstance(w, dict) else None
        if not text:
            continue
        for t in query_tokens(normalize(str(text))):
            stream.append((fold(t), i))
    claimed: set[int] = set()   # stream positions already in a hit
    found: list[tuple[int, int, list[int]]] = []   # (start, end, word indices)
    keys = [k for k, _ in stream]
    for unit in units:
        n = len(unit)
        for start in range(len(stream) - n + 1):
            if keys[start] != unit[0] or tuple(keys[start:start + n]) != unit:
                continue
            positions = range(start, start + n)
            if any(p in claimed for p in positions):
                continue
            claimed.update(positions)
            found.append((start, start + n, sorted({stream[p][1] for p in positions})))
    found.sort()
    merged: list[tuple[int, int, list[int]]] = []
    single_run = False
    for start, end, word_ids in found:
        single = end - start == 1
        # query words typed one after another ("nông thôn mới") read as one hit
        if merged and merged[-1][1] == start and single and single_run:
            prev = merged[-1]
            merged[-1] = (prev[0], end, sorted(set(prev[2]) | set(word_ids)))
        else:
            merged.append((start, end, word_ids))
        single_run = single
    hits = []
    for _, _, word_ids in merged:
        boxes = tuple(b for b in (_bbox(words[i]) for i in word_ids) if b)
        if boxes:
            hits.append(HitBox(boxes=boxes, text=" ".join(str(words[i].get("text", "")) for i in word_ids)))
    return hits


def mark_text(text: str, query: str) -> Markup:
    """``text`` escaped, with the query's words wrapped in ``<mark>``.

    Same matching as ``find_hits`` (folded, phrases adjacent), on the page text,
    so the text beside the image shows the same hits as the boxes on it.
    """
    units = query_units(query) if query else []
    if not text or not units:
        return Markup(escape(text or ""))
    toks = list(TOKEN_RE.finditer(text))
    keys = [fold(t.group(0)).lower() for t in toks]
    spans: list[tuple[int, int]] = []
    claimed: set[int] = set()
    for unit in units:
        n = len(unit)
        for i in range(len(toks) - n + 1):
            if keys[i] == unit[0] and tuple(keys[i:i + n]) == unit and not claimed.intersection(range(i, i + n)):
                claimed.update(range(i, i + n))
                spans.append((toks[i].start(), toks[i + n - 1].end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:   # "nông thôn mới" reads as one mark, not three
        if merged and not text[merged[-1][1]:start].strip():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    spans = merged
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(str(escape(text[pos:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
