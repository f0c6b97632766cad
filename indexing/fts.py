"""SQLite FTS5 MATCH expressions built from a ``ParsedQuery``, never from user text.

Every token goes into the expression inside double quotes (a quote inside is
doubled), and the only bare words are the operators and column names written
here. So whatever a user types — ``NEAR(``, ``*``, ``^``, ``col:`` — is searched
for as text or dropped, and can never change the query's structure.

The index has two forms of each text: ``exact`` (lower case, diacritics kept)
and ``folded`` (lower case, accent-free), for the body and for the metadata.
A term typed with diacritics is matched on the folded form (so it finds every
spelling) and, for ranking, separately on the exact form.
"""

from __future__ import annotations

from typing import Sequence

from indexing.query import ParsedQuery, Term

EXACT_COLUMNS = ("exact", "meta_exact")
FOLDED_COLUMNS = ("folded", "meta_folded")


def quote(text: str) -> str:
    """An FTS5 string: the text in double quotes, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def phrase(tokens: Sequence[str], columns: Sequence[str]) -> str:
    """Tokens that must appear adjacent, in order, in one of ``columns``."""
    return "{" + " ".join(columns) + "} : " + quote(" ".join(tokens))


def term_expression(term: Term, *, exact: bool) -> str:
    if exact and term.has_diacritics:
        return phrase(term.tokens, EXACT_COLUMNS)
    return phrase(term.folded, FOLDED_COLUMNS)


def match_expression(query: ParsedQuery, *, exact: bool = False, exclusions: bool = True) -> str:
    """The MATCH expression: all groups required, any term within a group.

    ``exact=True`` matches terms typed with diacritics on the exact form only
    (used to find the documents that rank first). Excluded terms typed with
    diacritics exclude that exact spelling; without, every spelling.
    """
    groups = ["(" + " OR ".join(term_expression(t, exact=exact) for t in g) + ")" for g in query.groups]
    expr = " AND ".join(groups)
    if exclusions and query.excluded:
        expr = "(" + expr + ") NOT (" + " OR ".join(
            term_expression(t, exact=True) for t in query.excluded) + ")"
    return expr


def exact_expression(query: ParsedQuery) -> str | None:
    """Documents matching every accented term as typed; ``None`` if nothing is accented."""
    if not query.has_diacritics:
        return None
    return match_expression(query, exact=True, exclusions=False)


def phrase_expression(query: ParsedQuery) -> str | None:
    """Documents where each run of words typed one after another appears as a phrase."""
    if not query.runs:
        return None
    return " AND ".join(phrase(tuple(t for t in run), FOLDED_COLUMNS)
                        for run in ([Term(tokens=r).folded for r in query.runs]))
