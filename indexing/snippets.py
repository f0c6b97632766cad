"""Snippets and hit words, computed on the original (normalized) page text.

Matching is done on the folded form; ``textnorm.fold`` maps one character to
one character, so a match's offsets in the folded text are its offsets in the
original, and the snippet shows the words with their diacritics intact even
when the query had none ("nong thon moi" marks "nông thôn mới"). Output is
HTML-escaped text with ``<mark>…</mark>`` around the hits; nothing else is
markup. Backends use this for the few hits of one result page only.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple, Sequence

from indexing.base import HitPage, IndexPage
from indexing.folding import fold_text
from indexing.query import TOKEN_RE, ParsedQuery, query_tokens

SNIPPET_CHARS = 240


class Match(NamedTuple):
    """One hit in a page's text (a tuple: a result page makes hundreds of them)."""

    start: int
    end: int
    group: int        # which required group of the query it satisfies
    exact: bool       # the accents are as typed (or the term had none)


@lru_cache(maxsize=4096)
def _term_pattern(folded_tokens: tuple[str, ...], ignore_case: bool = False) -> re.Pattern[str]:
    """Adjacent tokens, whole tokens only, on folded text; compiled once per term.

    Query tokens are lower case, so on lower-cased folded text the pattern needs
    no IGNORECASE (which costs a case-folding per character tried). The first
    token comes first and the "no letter before" check after it: a pattern that
    starts with a literal is searched for by that literal (8× faster on a page
    than trying the look-behind at every position)."""
    first = re.escape(folded_tokens[0])
    rest = "".join(r"[\W_]+" + re.escape(t) for t in folded_tokens[1:])
    return re.compile(first + r"(?<![^\W_]" + first + ")" + rest + r"(?![^\W_])",
                      re.IGNORECASE if ignore_case else 0)


def _searchable(folded: str) -> tuple[str, bool]:
    """Lower-cased folded text when lowering keeps every offset, else the folded
    text and a flag to match ignoring case (``İ`` lowers to two characters)."""
    low = folded.lower()
    return (low, False) if len(low) == len(folded) else (folded, True)


def find_matches(text: str, query: ParsedQuery, folded: str | None = None) -> list[Match]:
    """Every occurrence of a positive query term in ``text``, in text order.

    Searched on the folded text with a regular expression; offsets are valid
    in ``text`` because folding keeps one character for one character.
    """
    if folded is None:
        folded = fold_text(text)
    haystack, ignore_case = _searchable(folded)
    found: dict[tuple[int, int], Match] = {}
    for g, group in enumerate(query.groups):
        for term in group:
            accents, tokens = term.has_diacritics, term.tokens
            # one token: the hit is that token alone (no other character folds to a letter or digit)
            one = tokens[0] if len(tokens) == 1 else None
            for m in _term_pattern(term.folded, ignore_case).finditer(haystack):
                key = m.span()
                if not accents:
                    exact = True
                elif one is not None:
                    exact = text[key[0]:key[1]].lower() == one
                else:
                    exact = tuple(query_tokens(text[key[0]:key[1]])) == tokens
                prev = found.get(key)
                if prev is None or (exact and not prev.exact):
                    found[key] = Match(key[0], key[1], g, exact)
    out = sorted(found.values(), key=itemgetter(1), reverse=True)   # stable: by start, then longest first
    out.sort(key=itemgetter(0))
    return out


def _merge(text: str, matches: Sequence[Match]) -> list[tuple[int, int]]:
    """Spans to mark: overlapping hits, or hits separated only by spaces, become one."""
    spans: list[tuple[int, int]] = []
    for m in sorted(matches, key=lambda m: m.start):
        if spans and (m.start <= spans[-1][1] or not text[spans[-1][1]:m.start].strip()):
            spans[-1] = (spans[-1][0], max(spans[-1][1], m.end))
        else:
            spans.append((m.start, m.end))
    return spans


def _window(text: str, matches: Sequence[Match], width: int) -> tuple[int, int]:
    """The part of ``text`` with the most different query groups in ``width`` chars."""
    if not matches:
        return 0, min(len(text), width)
    best, best_key = matches[0].start, (-1, 0, 0)
    starts = [x.start for x in matches]   # sorted: only the matches starting inside a window can be in it

    def adjacent(a: Match, b: Match) -> bool:   # words typed one after another, found one after another
        return a.group != b.group and b.start >= a.end and not text[a.end:b.start].strip()

    follows = [adjacent(a, b) for a, b in zip(matches, matches[1:])]
    last_lo = -1
    for m in matches:
        lo = max(0, m.start - width // 4)
        if lo == last_lo:   # the same window as the last match's
            continue
        last_lo = lo
        first, stop = bisect_left(starts, lo), bisect_right(starts, lo + width)
        inside = [x for x in matches[first:stop] if x.end <= lo + width]
        pairs = (sum(follows[first:stop - 1]) if len(inside) == stop - first   # one run of the list
                 else sum(adjacent(a, b) for a, b in zip(inside, inside[1:])))
        key = (len({x.group for x in inside}), pairs, sum(x.exact for x in inside))
        if key > best_key:
            best, best_key = lo, key
    start = best
    if start > 0:   # begin at a word boundary
        space = text.rfind(" ", max(0, start - 20), start + 1)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.find(" ", end, end + 20)
        end = space if space >= 0 else end
    return start, end


def build_snippet(text: str, query: ParsedQuery | None, *, width: int = SNIPPET_CHARS,
                  matches: Sequence[Match] | None = None) -> str:
    """Escaped text around the best hits, each hit in ``<mark>``; diacritics intact."""
    if matches is None:
        matches = find_matches(text, query) if query is not None else []
    start, end = _window(text, matches, width)
    spans = [(max(s, start), min(e, end)) for s, e in _merge(text, matches) if e > start and s < end]
    out: list[str] = ["… "] if start > 0 else []
    pos = start
    for s, e in spans:
        out.append(html.escape(text[pos:s], quote=False))
        out.append("<mark>" + html.escape(text[s:e], quote=False) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end], quote=False))
    if end < len(text):
        out.append(" …")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def matched_words(text: str, matches: Sequence[Match]) -> list[str]:
    """The words (syllables) of the hits as written on the page, first occurrence order."""
    seen: dict[str, None] = {}
    for m in matches:
        for t in TOKEN_RE.findall(text[m.start:m.end]):
            seen.setdefault(t, None)
    return list(seen)


@dataclass
class DocumentHits:
    best_page: int | None
    snippet: str
    pages: list[HitPage]


def _page_rank(haystack: str, ignore_case: bool, matches: Sequence[Match],
               runs: Sequence[tuple[str, ...]]) -> tuple[int, int, int, int]:
    groups = len({m.group for m in matches})
    exact = sum(m.exact for m in matches)
    phrases = sum(bool(_term_pattern(run, ignore_case).search(haystack)) for run in runs)
    return groups, phrases, exact, len(matches)


def _matches_by_page(joined: str, starts: Sequence[int], ends: Sequence[int],
                     query: ParsedQuery) -> tuple[list[list[Match]], str, bool]:
    """Each page's matches, found on the document's pages ``joined`` by line
    breaks (page ``i`` is ``joined[starts[i]:ends[i]]``; offsets stay those of
    ``joined``): one folding and one scan per term for the whole document
    instead of one per page (a result page's ten documents have about seventy
    pages). Also the joined searchable text and its case flag.

    A term running over a page break is not a hit (as when each page is
    searched alone), and since such a match may hide one that lies inside a
    page, the pages it touches are searched again alone."""
    folded = fold_text(joined)
    per_page: list[list[Match]] = [[] for _ in starts]
    crossing: set[int] = set()
    i = 0
    for m in find_matches(joined, query, folded):   # in text order
        while m.start > ends[i]:
            i += 1
        if m.end <= ends[i]:
            per_page[i].append(m)
        else:
            crossing.update(range(i, bisect_right(starts, m.end - 1)))
    for i in crossing:
        off = starts[i]
        per_page[i] = [Match(m.start + off, m.end + off, m.group, m.exact)
                       for m in find_matches(joined[off:ends[i]], query)]
    haystack, ignore_case = _searchable(folded)
    return per_page, haystack, ignore_case


def document_hits(pages: Sequence[IndexPage], query: ParsedQuery | None, *,
                  fallback: str = "", width: int = SNIPPET_CHARS) -> DocumentHits:
    """Best page, snippet and per-page hit words of one document.

    Without a query (browsing by filters) the snippet is the start of the
    document, or ``fallback`` (the subject) when it has no text.
    """
    if query is None:
        first = next((p for p in pages if p.text.strip()), None)
        text = first.text if first else fallback
        return DocumentHits(best_page=pages[0].page_no if pages else None,
                            snippet=build_snippet(text, None, width=width), pages=[])
    hit_pages: list[HitPage] = []
    best: tuple[tuple[int, int, int, int], int, IndexPage, list[Match]] | None = None   # rank, offset, page, matches
    joined = "\n".join(p.text for p in pages)
    starts, ends, pos = [], [], 0
    for p in pages:
        starts.append(pos)
        pos += len(p.text)
        ends.append(pos)
        pos += 1
    per_page, haystack, ignore_case = _matches_by_page(joined, starts, ends, query)
    runs = [tuple(fold_text(t) for t in run) for run in query.runs]
    for p, start, end, matches in zip(pages, starts, ends, per_page):
        if not matches:
            continue
        hit_pages.append(HitPage(page_no=p.page_no, page_id=p.page_id, terms=matched_words(joined, matches)))
        rank = _page_rank(haystack[start:end], ignore_case, matches, runs)
        if best is None or rank > best[0]:
            best = (rank, start, p, matches)
    if best is None:   # matched on metadata only (subject, number): show that
        return DocumentHits(best_page=pages[0].page_no if pages else None,
                            snippet=build_snippet(fallback or (pages[0].text if pages else ""), query, width=width),
                            pages=[])
    _, off, page, matches = best
    local = [Match(m.start - off, m.end - off, m.group, m.exact) for m in matches]
    return DocumentHits(best_page=page.page_no, snippet=build_snippet(page.text, query, width=width, matches=local),
                        pages=hit_pages)
