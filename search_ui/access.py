"""The one place the web interface decides what a caller may see.

Issue 8 (access control) will replace the body of ``allowed_access_modes`` with
a lookup of the logged-in user's roles and grants; nothing else in the web app
needs to change, because:

* every search carries ``SearchQuery.access_modes`` built by
  ``allowed_access_modes(request)`` (never from a request parameter), and
* every catalog read for a user goes through ``Repository``, whose methods take
  those modes and answer ``None`` for a document the caller may not see, exactly
  as for a missing one (the routes turn both into the same 404).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kholuu.catalog import ArchiveFileRow, Catalog, DocumentRow, FondsRow, PageRow

PUBLIC_ONLY: tuple[str, ...] = ("public",)


def allowed_access_modes(request: object) -> tuple[str, ...]:
    """Access modes the caller of ``request`` may see.

    For now every visitor is anonymous and sees public documents only. The
    request is taken so that issue 8 can read the session here.
    """
    return PUBLIC_ONLY


@dataclass
class FondsCount:
    code: str
    name: str
    creator: str
    start_year: int | None
    end_year: int | None
    documents: int


@dataclass
class FileCount:
    id: int
    register: str
    number: str
    title: str
    documents: int


@dataclass
class DocumentView:
    """A document the caller may see, with everything its page shows."""

    doc: DocumentRow
    pages: list[PageRow]
    register: str | None = None
    file_number: str | None = None
    file_title: str | None = None


@dataclass
class Overview:
    documents: int
    pages: int
    fonds: list[FondsCount] = field(default_factory=list)
    first_year: int | None = None
    last_year: int | None = None


class Repository:
    """Access-checked catalog reads. Every method takes the caller's modes."""

    OVERVIEW_TTL_S = 60.0

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        # counting a million pages on every visit to the home page is wasteful:
        # the overview is kept a minute, per set of access modes
        self._overview: dict[tuple[str, ...], tuple[float, Overview]] = {}

    # -- documents and pages ------------------------------------------------
    def document(self, modes: tuple[str, ...], document_id: int) -> DocumentView | None:
        """The document and its pages, or None when missing or not allowed."""
        with self.catalog.session() as s:
            doc = s.scalar(
                select(DocumentRow)
                .options(selectinload(DocumentRow.entities), selectinload(DocumentRow.fonds),
                         selectinload(DocumentRow.archive_file))
                .where(DocumentRow.id == document_id, DocumentRow.access_mode.in_(modes))
            )
            if doc is None:
                return None
            pages = list(s.scalars(select(PageRow).where(PageRow.document_id == doc.id)
                                   .order_by(PageRow.page_in_document)))
            f = doc.archive_file
            return DocumentView(doc=doc, pages=pages,
                                register=f.register if f else None,
                                file_number=f.number if f else None,
                                file_title=(f.title or None) if f else None)

    def page(self, modes: tuple[str, ...], page_id: int) -> PageRow | None:
        """A page of a visible document; pages not yet in a document are hidden."""
        with self.catalog.session() as s:
            return s.scalar(
                select(PageRow).join(DocumentRow, PageRow.document_id == DocumentRow.id)
                .where(PageRow.id == page_id, DocumentRow.access_mode.in_(modes))
            )

    def page_ids(self, modes: tuple[str, ...], wanted: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """Page ids for (document id, page number) pairs, in one query."""
        doc_ids = {d for d, _ in wanted}
        if not doc_ids:
            return {}
        with self.catalog.session() as s:
            rows = s.execute(
                select(PageRow.document_id, PageRow.page_in_document, PageRow.id)
                .join(DocumentRow, PageRow.document_id == DocumentRow.id)
                .where(PageRow.document_id.in_(doc_ids), DocumentRow.access_mode.in_(modes))
            ).all()
        found = {(d, n): pid for d, n, pid in rows}
        return {key: found[key] for key in wanted if key in found}

    # -- overview and browsing ------------------------------------------------
    def overview(self, modes: tuple[str, ...]) -> Overview:
        key = tuple(sorted(modes))
        cached = self._overview.get(key)
        if cached and time.monotonic() - cached[0] < self.OVERVIEW_TTL_S:
            return cached[1]
        result = self._count_overview(modes)
        self._overview[key] = (time.monotonic(), result)
        return result

    def _count_overview(self, modes: tuple[str, ...]) -> Overview:
        with self.catalog.session() as s:
            visible = DocumentRow.access_mode.in_(modes)
            docs = s.scalar(select(func.count()).select_from(DocumentRow).where(visible)) or 0
            pages = s.scalar(select(func.count()).select_from(PageRow)
                             .join(DocumentRow, PageRow.document_id == DocumentRow.id).where(visible)) or 0
            first, last = s.execute(select(func.min(DocumentRow.issued_date),
                                           func.max(DocumentRow.issued_date)).where(visible)).one()
        return Overview(documents=docs, pages=pages, fonds=self.fonds(modes),
                        first_year=_year(first), last_year=_year(last))

    def fonds(self, modes: tuple[str, ...]) -> list[FondsCount]:
        """All fonds with the number of documents the caller may see in each."""
        with self.catalog.session() as s:
            counts = dict(s.execute(
                select(DocumentRow.fonds_id, func.count()).where(DocumentRow.access_mode.in_(modes))
                .group_by(DocumentRow.fonds_id)).all())
            rows = s.scalars(select(FondsRow).order_by(FondsRow.code)).all()
        return [FondsCount(code=f.code, name=f.name, creator=f.creator, start_year=f.start_year,
                           end_year=f.end_year, documents=counts.get(f.id, 0)) for f in rows]

    def fonds_names(self) -> dict[str, str]:
        """Fonds code → name (the fonds list itself is not restricted)."""
        with self.catalog.session() as s:
            return dict(s.execute(select(FondsRow.code, FondsRow.name)).all())

    def fonds_detail(self, modes: tuple[str, ...], code: str) -> tuple[FondsRow, list[FileCount], int] | None:
        """A fonds, its files with visible document counts, and documents outside any file."""
        with self.catalog.session() as s:
            fonds = s.scalar(select(FondsRow).where(FondsRow.code == code))
            if fonds is None:
                return None
            visible = DocumentRow.access_mode.in_(modes)
            counts = dict(s.execute(
                select(DocumentRow.file_id, func.count()).where(DocumentRow.fonds_id == fonds.id, visible)
                .group_by(DocumentRow.file_id)).all())
            files = s.scalars(select(ArchiveFileRow).where(ArchiveFileRow.fonds_id == fonds.id)).all()
        out = [FileCount(id=f.id, register=f.register, number=f.number, title=f.title,
                         documents=counts.get(f.id, 0)) for f in files]
        out.sort(key=lambda f: (_natural(f.register), _natural(f.number)))
        return fonds, out, counts.get(None, 0)

    def file_documents(self, modes: tuple[str, ...], file_id: int) -> tuple[ArchiveFileRow, FondsRow, list[DocumentRow]] | None:
        """A file (hồ sơ) and its visible documents in order."""
        with self.catalog.session() as s:
            f = s.get(ArchiveFileRow, file_id)
            if f is None:
                return None
            fonds = s.get(FondsRow, f.fonds_id)
            docs = list(s.scalars(select(DocumentRow).where(DocumentRow.file_id == f.id,
                                                            DocumentRow.access_mode.in_(modes))
                                  .order_by(DocumentRow.issued_date, DocumentRow.batch_id, DocumentRow.seq)))
        return f, fonds, docs

    def fonds_documents(self, modes: tuple[str, ...], code: str, *, unfiled_only: bool = True,
                        limit: int = 200) -> list[DocumentRow]:
        with self.catalog.session() as s:
            q = (select(DocumentRow).join(FondsRow, DocumentRow.fonds_id == FondsRow.id)
                 .where(FondsRow.code == code, DocumentRow.access_mode.in_(modes)))
            if unfiled_only:
                q = q.where(DocumentRow.file_id.is_(None))
            return list(s.scalars(q.order_by(DocumentRow.issued_date, DocumentRow.id).limit(limit)))


def _year(d: date | None) -> int | None:
    return d.year if d else None


def _natural(s: str) -> tuple:
    return (0, int(s), "") if s.isdigit() else (1, 0, s)
