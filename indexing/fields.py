"""The normalized fields of one ``IndexDocument``, computed once for every backend.

Every backend indexes the same normalized values (header fields, page texts in
page order, distinct entity names) and keys its facets the same way; one
function here keeps the three from drifting apart. Page texts come normalized
from the catalog, so they are checked cheaply (``is_normalized``) and
normalized only when the check fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from indexing.abbrev import doc_type_name
from indexing.base import IndexDocument, IndexPage, SearchQuery
from indexing.folding import fold_text
from indexing.query import TOKEN_RE
from kholuu.cache import BoundedCache
from kholuu.textnorm import exact_form, folded_form, has_diacritics, is_normalized, normalize


@dataclass(frozen=True)
class NormalizedFields:
    doc_type: str | None
    number_symbol: str | None
    subject: str | None
    issuer: str | None
    signer_name: str | None
    place: str | None
    pages: list[IndexPage]                # in page order
    texts: list[str]                      # the pages' normalized texts, same order
    entities: list[tuple[str, str]]       # distinct (label, normalized name), sorted

    @property
    def meta(self) -> tuple[str | None, str | None, str | None, str | None]:
        """The header fields searched beside the body: subject, number, issuer, signer."""
        return self.subject, self.number_symbol, self.issuer, self.signer_name


def _opt(value: str | None) -> str | None:
    return normalize(value) if value else None


@lru_cache(maxsize=65536)
def _name(value: str) -> str:
    """``normalize`` of a value that recurs across an archive's documents (a
    document type, an issuer, a signer, a place, an entity name): once per
    distinct value rather than once per document."""
    return normalize(value)


def _opt_name(value: str | None) -> str | None:
    return _name(value) if value else None


def normalized_fields(d: IndexDocument, *, check_texts: bool = True) -> NormalizedFields:
    """``check_texts=False`` leaves the page texts as stored, for a caller
    that checks them itself (with ``page_texts``) while it splits them anyway."""
    pages = sorted(d.pages, key=lambda p: p.page_no)
    texts = [p.text or "" for p in pages]
    if check_texts:
        texts = [t if is_normalized(t) else normalize(t) for t in texts]
    entities = sorted({(label, _name(value).strip()) for label, value in d.entities if value and value.strip()})
    return NormalizedFields(_opt_name(d.doc_type), _opt(d.number_symbol), _opt(d.subject), _opt_name(d.issuer),
                            _opt_name(d.signer_name), _opt_name(d.place), pages, texts, entities)


def page_texts(texts: list[str], joined: str, chunks: Iterable[str]) -> list[str] | None:
    """``None`` when the page ``texts``, ``joined`` by line breaks and split
    into (distinct) ``chunks``, are normalized; else the texts normalized."""
    if is_normalized(joined, chunks):
        return None
    return [t if is_normalized(t) else normalize(t) for t in texts]


FORMS_CACHE_MAX = 200_000  # distinct whitespace-separated chunks remembered per process, per form


def _exact_chunk(chunk: str) -> str:
    return " ".join(TOKEN_RE.findall(chunk.lower()))


def _folded_chunk(chunk: str) -> str:
    return fold_text(EXACT_CHUNKS[chunk])


# Whitespace-separated chunk of text → its tokens, space-joined, in one search
# form (exact: lower case; folded: also without accents), for both backends.
# A page is mostly the same few thousand syllables over and over, so the regex,
# lower-casing and folding run once per distinct chunk instead of once per
# character of every page (this halved the Python analysis per document). No
# token spans whitespace, so joining the chunks' forms gives the same tokens as
# analysing the whole text lowered at once. Bounded (``BoundedCache``): OCR
# noise and numbers make the set of chunks open-ended.
EXACT_CHUNKS: BoundedCache[str, str] = BoundedCache(_exact_chunk, FORMS_CACHE_MAX)
FOLDED_CHUNKS: BoundedCache[str, str] = BoundedCache(_folded_chunk, FORMS_CACHE_MAX)


@lru_cache(maxsize=65536)
def facet_key(value: str | None) -> tuple[str | None, str | None]:
    """(exact, folded) key of a facet value such as a document type or an
    issuer (cached: the same few values recur across every document)."""
    if not value:
        return None, None
    return exact_form(value).strip(), folded_form(value).strip()


def keyed_filters(query: SearchQuery) -> list[tuple[str, str]]:
    """(field, key) for the query's document-type and issuer filters, as every backend applies them.

    A value typed with diacritics matches the exact key (``doc_type_key``,
    ``issuer_key``); one without matches every spelling through the folded key
    (``doc_type_fold``, ``issuer_fold``).
    """
    out: list[tuple[str, str]] = []
    for column, value in (("doc_type", doc_type_name(query.doc_type) if query.doc_type else None),
                          ("issuer", query.issuer)):
        if value and value.strip():
            if has_diacritics(normalize(value)):
                out.append((f"{column}_key", exact_form(value).strip()))
            else:
                out.append((f"{column}_fold", folded_form(value).strip()))
    return out
