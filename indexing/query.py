"""The project's own parser of what a user types into the search box.

Only four things have a meaning: words, "quoted phrases", ``-exclusion`` (of a
word or a phrase) and ``OR`` (upper case, between two words or phrases).
Everything else is literal text, so no user input ever reaches SQLite FTS5 or
Elasticsearch as query syntax: backends build their own expressions from the
typed ``ParsedQuery`` (see ``indexing.fts``).

Text goes through ``kholuu.textnorm.normalize_query`` first, so old and new tone
placement (``uỷ``/``ủy``) are one word. A term is a sequence of syllable tokens:
a quoted phrase, or a word written with punctuation inside ("08-CT/TU"), must
match as adjacent tokens. Unquoted words typed one after another
("nông thôn mới") are separate required terms; ``adjacent_runs`` lists them so
that backends rank the adjacent phrase first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from indexing.base import SearchQuery

from kholuu.errors import QuerySyntaxError
from kholuu.textnorm import fold, normalize_query

MAX_QUERY_CHARS = 500

# A token is a run of letters and digits (no underscore, no combining mark):
# the same rule as SQLite's unicode61 tokenizer, so a token of ours is never
# split differently by the index.
TOKEN_RE = re.compile(r"[^\W_]+")   # a token: letters and digits (the rule of every index and of hit marking)


def query_tokens(text: str) -> list[str]:
    """Lower-cased tokens of (normalized) text, the unit of matching."""
    return [m.group(0).lower() for m in TOKEN_RE.finditer(text)]


@dataclass(frozen=True)
class Term:
    """A word or phrase: tokens that must appear in this order, adjacent."""

    tokens: tuple[str, ...]     # lower-cased, normalized, diacritics kept
    raw: str = ""               # as typed (normalized, case kept), for abbreviations
    quoted: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    @cached_property
    def folded(self) -> tuple[str, ...]:
        return tuple(fold(t) for t in self.tokens)

    @cached_property
    def has_diacritics(self) -> bool:
        """True when the user typed accents: exact matches then rank first."""
        return self.folded != self.tokens


@dataclass(frozen=True)
class ParsedQuery:
    """A query as AND of groups; each group is an OR of alternative terms."""

    text: str                                  # the normalized query
    groups: tuple[tuple[Term, ...], ...]       # all required; any term of a group
    excluded: tuple[Term, ...] = ()
    # Runs of consecutive unquoted one-word groups ("nông thôn mới"): the
    # tokens of each run, ranked higher when they appear as a phrase.
    runs: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def terms(self) -> list[Term]:
        """Every positive term (for highlighting)."""
        return [t for g in self.groups for t in g]

    @property
    def has_diacritics(self) -> bool:
        return any(t.has_diacritics for t in self.terms)


@dataclass
class _Unit:
    text: str
    quoted: bool
    negated: bool = False
    operator: bool = False   # a bare OR


def _units(text: str) -> Iterator[_Unit]:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negated = False
        if ch == "-" and i + 1 < n and not text[i + 1].isspace():
            negated, i = True, i + 1
            ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            if end < 0:           # unbalanced: the phrase runs to the end
                end = n
            yield _Unit(text[i + 1:end], quoted=True, negated=negated)
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"':
            j += 1
        word = text[i:j]
        yield _Unit(word, quoted=False, negated=negated, operator=(word == "OR" and not negated))
        i = j


def parse_query(text: str) -> ParsedQuery:
    """Parse user query text. Raises ``QuerySyntaxError`` with a message for people.

    Abbreviations (BTV ↔ "Ban Thường vụ") are added afterwards by
    ``indexing.abbrev.expand_query``, which works on the parsed groups.
    """
    if text is None:
        raise QuerySyntaxError("câu tìm kiếm trống (empty query)")
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"câu tìm kiếm dài quá {MAX_QUERY_CHARS} ký tự "
                               f"(query longer than {MAX_QUERY_CHARS} characters: {len(text)})")
    norm = normalize_query(text)
    units = list(_units(norm))
    groups: list[list[Term]] = []
    single: list[bool] = []   # group is one unquoted one-token word (can form a run)
    excluded: list[Term] = []
    pending_or = False
    for k, u in enumerate(units):
        if u.operator:
            has_left = bool(groups) and not pending_or and k > 0 and not units[k - 1].negated
            has_right = k + 1 < len(units) and not units[k + 1].negated and not units[k + 1].operator
            pending_or = has_left and has_right
            continue   # a dangling OR (nothing to join) is dropped, not searched for
        toks = tuple(query_tokens(u.text))
        if not toks:
            continue
        term = Term(tokens=toks, raw=u.text.strip(), quoted=u.quoted)
        if u.negated:
            excluded.append(term)
        elif pending_or and groups:
            groups[-1].append(term)
            single[-1] = False
            pending_or = False
        else:
            groups.append([term])
            single.append(not u.quoted and len(toks) == 1)
    if not groups:
        if excluded:
            raise QuerySyntaxError("câu tìm kiếm chỉ có từ loại trừ (-từ); hãy thêm một từ cần tìm "
                                   "(the query only excludes words: add a word to search for)")
        raise QuerySyntaxError("câu tìm kiếm không có từ nào để tìm (the query has no words to search for)")
    runs: list[tuple[str, ...]] = []
    current: list[str] = []
    for g, is_single in zip(groups, single):
        if is_single:
            current.append(g[0].tokens[0])
            continue
        if len(current) > 1:
            runs.append(tuple(current))
        current = []
    if len(current) > 1:
        runs.append(tuple(current))
    return ParsedQuery(text=norm, groups=tuple(tuple(g) for g in groups), excluded=tuple(excluded),
                       runs=tuple(runs))


__all__ = ["MAX_QUERY_CHARS", "ParsedQuery", "TOKEN_RE", "Term", "parse_query", "query_tokens"]


SORTS = ("relevance", "date_asc", "date_desc")


def checked_query(query: "SearchQuery") -> ParsedQuery | None:
    """Validate a ``SearchQuery`` once for every backend; parse and expand its text.

    Returns None when there is no text (filters alone). Raises ``SearchError``
    for an unknown sort or a negative page, ``QuerySyntaxError`` for bad text.
    """
    from indexing.abbrev import expand_query
    from kholuu.errors import SearchError

    if query.sort not in SORTS:
        raise SearchError(f"unknown sort {query.sort!r}: expected one of {', '.join(SORTS)}")
    if query.limit < 0 or query.offset < 0:
        raise SearchError("offset and limit must not be negative")
    if not (query.text and query.text.strip()):
        return None
    return expand_query(parse_query(query.text))
