"""Abbreviations for search: BTV ↔ Ban Thường vụ, and type codes (CT → Chỉ thị).

Read from the shared table ``kholuu/data/abbreviations.yaml`` (data an archive edits).
``expand_query`` rewrites a parsed query so that an abbreviation also finds its
full form and a full form typed out (quoted or as words one after another) also
finds the abbreviation. Backends only ever see the rewritten ``ParsedQuery``.
"""

from __future__ import annotations

from functools import lru_cache

from indexing.query import ParsedQuery, Term, query_tokens
from kholuu.abbreviations import abbreviation_table
from kholuu.errors import InputFileError, SearchError
from kholuu.textnorm import fold, normalize


def _tables() -> tuple[dict[str, list[str]], dict[str, str]]:
    try:
        t = abbreviation_table()
    except InputFileError as exc:   # a search fails as a search error, still naming the file
        raise SearchError(str(exc)) from None
    return t.bodies, t.doc_types


def doc_type_name(value: str) -> str:
    """The full document type for a filter value: "CT" → "Chỉ thị"; names pass through."""
    value = normalize(value).strip()
    types = _tables()[1]
    if value in types:
        return types[value]
    if " " in value:
        return value
    upper = {k.upper(): v for k, v in types.items()}
    return upper.get(value.upper(), value)


def _full_forms(raw: str) -> list[str]:
    bodies = _tables()[0]
    if raw in bodies:
        return bodies[raw]
    if len(raw) >= 3:
        for key, fulls in bodies.items():
            if len(key) >= 3 and key.lower() == raw.lower():
                return fulls
    return []


@lru_cache(maxsize=1)
def _by_full_form() -> dict[tuple[str, ...], str]:
    """Full form tokens (folded) → abbreviation (lower case), longest forms first."""
    out: dict[tuple[str, ...], str] = {}
    for key, fulls in _tables()[0].items():
        for full in fulls:
            toks = tuple(fold(t) for t in query_tokens(full))
            # short codes (TU, HU, TW) fold to common syllables (tư, hư): no reverse expansion
            if len(toks) > 1 and len(key) >= 3 and toks not in out:
                out[toks] = key.lower()
    return dict(sorted(out.items(), key=lambda kv: -len(kv[0])))


def expand_query(query: ParsedQuery) -> ParsedQuery:
    """Add abbreviation alternatives to the groups of ``query``."""
    groups = [list(g) for g in query.groups]
    out: list[list[Term]] = []
    i = 0
    while i < len(groups):
        g = groups[i]
        if len(g) == 1 and not g[0].quoted and len(g[0].tokens) == 1:
            # a full form typed as words: "Ban Thường vụ" → phrase OR btv
            matched = False
            for toks, abbr in _by_full_form().items():
                n = len(toks)
                window = groups[i:i + n]
                if len(window) == n and all(len(w) == 1 and not w[0].quoted and len(w[0].tokens) == 1
                                            and fold(w[0].tokens[0]) == toks[k] for k, w in enumerate(window)):
                    phrase = Term(tokens=tuple(w[0].tokens[0] for w in window),
                                  raw=" ".join(w[0].raw for w in window))
                    out.append([phrase, Term(tokens=(abbr,), raw=abbr)])
                    i += n
                    matched = True
                    break
            if matched:
                continue
            fulls = _full_forms(g[0].raw)
            if fulls:
                out.append(g + [Term(tokens=tuple(query_tokens(f)), raw=f, quoted=True) for f in fulls])
                i += 1
                continue
        if len(g) == 1 and g[0].quoted and len(g[0].tokens) > 1:
            abbr = _by_full_form().get(g[0].folded)
            if abbr:
                out.append(g + [Term(tokens=(abbr,), raw=abbr)])
                i += 1
                continue
        out.append(g)
        i += 1
    return ParsedQuery(text=query.text, groups=tuple(tuple(g) for g in out),
                       excluded=query.excluded, runs=query.runs)
