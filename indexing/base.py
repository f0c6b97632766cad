"""The search contract shared by every backend and by the web interface.

Backends (embedded SQLite FTS5, Elasticsearch) take ``IndexDocument`` objects
built from the catalog and answer ``SearchQuery`` with a ``SearchResult``. The
web app and the command line only see these types, so both backends behave the
same behind them and one contract test suite runs against both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Protocol, Sequence


@dataclass
class IndexPage:
    page_id: int
    page_no: int            # 1-based page number within the document
    text: str               # normalized text of the page


@dataclass
class IndexDocument:
    id: int
    fonds: str              # fonds code
    fonds_name: str
    register: str | None
    file_number: str | None
    doc_type: str | None
    number_symbol: str | None
    issuer: str | None
    place: str | None
    issued_date: date | None
    subject: str | None
    signer_name: str | None
    access_mode: str        # public | conditional | secret
    pages: list[IndexPage]
    entities: list[tuple[str, str]] = field(default_factory=list)  # (label, canonical)
    segmented: str | None = None  # words joined by "_" within a word, spaces between

    @property
    def year(self) -> int | None:
        return self.issued_date.year if self.issued_date else None


@dataclass
class SearchQuery:
    text: str
    fonds: str | None = None
    doc_type: str | None = None       # full name ("Chỉ thị") or abbreviation ("CT")
    issuer: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    entity: tuple[str, str] | None = None  # (label, canonical)
    register: str | None = None
    file_number: str | None = None
    sort: str = "relevance"           # relevance | date_asc | date_desc
    offset: int = 0
    limit: int = 10
    # Access: the caller's allowed modes, filled in by the one access function
    # (never by a request parameter). Backends must apply it to hits AND facets.
    access_modes: tuple[str, ...] = ("public",)
    facets: bool = True
    # ...and what else the caller may see (kholuu.access.AccessFilter): conditional
    # documents granted to them by id, and fonds where every mode is visible.
    # A document is visible when ANY of the three admits it.
    granted_ids: tuple[int, ...] = ()
    fonds_scope: tuple[str, ...] = ()

    @property
    def sees_nothing(self) -> bool:
        return not self.access_modes and not self.granted_ids and not self.fonds_scope


@dataclass
class HitPage:
    page_no: int
    page_id: int
    terms: list[str]           # the words of this page that matched, as written in the text


@dataclass
class Hit:
    id: int
    doc_type: str | None
    number_symbol: str | None
    issued_date: date | None
    subject: str | None
    issuer: str | None
    fonds: str
    fonds_name: str
    register: str | None
    file_number: str | None
    score: float
    snippet: str               # HTML: escaped text with <mark>…</mark> around hits
    best_page: int | None      # page number within the document with the best match
    pages: list[HitPage] = field(default_factory=list)

    @property
    def citation(self) -> str:
        parts = [f"Phông {self.fonds}"]
        if self.register:
            parts.append(f"Mục lục {self.register}")
        if self.file_number:
            parts.append(f"Hồ sơ {self.file_number}")
        if self.best_page:
            parts.append(f"tờ {self.best_page}")
        return ", ".join(parts)


@dataclass
class FacetValue:
    value: str
    count: int
    label: str = ""


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # facet keys: fonds, doc_type, issuer, year, person, organization, place
    took_ms: float = 0.0


class SearchBackend(Protocol):
    name: str

    def index(self, documents: Iterable[IndexDocument]) -> int:
        """Add or replace documents by id (idempotent). Returns how many."""

    def delete(self, ids: Sequence[int]) -> None: ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def count(self) -> int: ...

    def present(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` the index holds now, asked of the index itself.

        The pipeline's catalog-against-index check uses it: a count reported by
        the indexing call cannot show a document lost afterwards.
        """

    def clear(self) -> None: ...

    def close(self) -> None: ...
