"""The one place the web interface decides what a caller may see.

* ``access_for(request)`` turns the caller (``request.state.user``, set from the
  session cookie by ``search_ui.auth``) into a ``kholuu.access.AccessFilter``
  with ``kholuu.access.access_filter`` — the one function for every surface;
* every search carries that filter (``SearchQuery.access_modes``,
  ``granted_ids``, ``fonds_scope``), never anything from a request parameter;
* every catalog read for a user goes through ``Repository``, whose methods take
  the filter and answer ``None`` for a document the caller may not see, exactly
  as for a missing one (the routes turn both into the same 404).

``Repository.accounts`` (users, sessions, grants, audit) is the only other
catalog access of the web app.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload

from kholuu.access import ANONYMOUS, PUBLIC, AccessFilter, User, access_filter
from kholuu.catalog import ArchiveFileRow, Catalog, DocumentRow, FondsRow, PageRow
from kholuu.catalog.schema import utcnow
from kholuu.catalog.users import AccessStore

PUBLIC_ONLY: tuple[str, ...] = ("public",)


def caller(request: object) -> User:
    """The user making ``request`` (anonymous unless a valid session says otherwise)."""
    state = getattr(request, "state", None)
    return getattr(state, "user", None) or ANONYMOUS


def access_for(request: object) -> AccessFilter:
    """The access filter of the caller of ``request``, computed once per request."""
    state = getattr(request, "state", None)
    cached = getattr(state, "access", None)
    if isinstance(cached, AccessFilter):
        return cached
    app = getattr(request, "app", None)
    kstate = getattr(getattr(app, "state", None), "kholuu", None)
    if kstate is None:            # not inside the app: the safest answer
        return PUBLIC
    user = caller(request)
    grants = kstate.repo.accounts.grants_for(user) if not user.is_anonymous else []
    result = access_filter(user, grants, utcnow(), public_access=kstate.settings.public_access)
    if state is not None:
        state.access = result
    return result


def allowed_access_modes(request: object) -> tuple[str, ...]:
    """The modes the caller sees everywhere (kept for callers that only need modes)."""
    return access_for(request).modes


def visible(access: AccessFilter):
    """The SQL condition "the caller may see this document" (DocumentRow)."""
    if access.sees_nothing:
        return false()
    conds = [DocumentRow.access_mode.in_(list(access.modes))] if access.modes else []
    if access.granted_ids:
        conds.append(and_(DocumentRow.access_mode == "conditional", DocumentRow.id.in_(list(access.granted_ids))))
    if access.fonds:
        conds.append(DocumentRow.fonds_id.in_(select(FondsRow.id).where(FondsRow.code.in_(list(access.fonds)))))
    return or_(*conds)


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
    """Access-checked catalog reads. Every method takes the caller's access filter."""

    OVERVIEW_TTL_S = 60.0

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.accounts = AccessStore(catalog)
        # counting a million pages on every visit to the home page is wasteful:
        # the overview is kept a minute, per access filter
        self._overview: dict[AccessFilter, tuple[float, Overview]] = {}

    # -- documents and pages ------------------------------------------------
    def document(self, access: AccessFilter, document_id: int) -> DocumentView | None:
        """The document and its pages, or None when missing or not allowed."""
        with self.catalog.session() as s:
            doc = s.scalar(
                select(DocumentRow)
                .options(selectinload(DocumentRow.entities), selectinload(DocumentRow.fonds),
                         selectinload(DocumentRow.archive_file))
                .where(DocumentRow.id == document_id, visible(access))
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

    def page(self, access: AccessFilter, page_id: int) -> PageRow | None:
        """A page of a visible document; pages not yet in a document are hidden."""
        with self.catalog.session() as s:
            return s.scalar(
                select(PageRow).join(DocumentRow, PageRow.document_id == DocumentRow.id)
                .where(PageRow.id == page_id, visible(access))
            )

    def page_mode(self, access: AccessFilter, page_id: int) -> tuple[PageRow, str] | None:
        """A visible page and its document's access mode (for caching decisions)."""
        with self.catalog.session() as s:
            row = s.execute(
                select(PageRow, DocumentRow.access_mode).join(DocumentRow, PageRow.document_id == DocumentRow.id)
                .where(PageRow.id == page_id, visible(access))).first()
            return (row[0], row[1]) if row else None

    def page_ids(self, access: AccessFilter, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """Page ids for (document id, page number) pairs, in one query."""
        doc_ids = {d for d, _ in wanted}
        if not doc_ids:
            return {}
        with self.catalog.session() as s:
            rows = s.execute(
                select(PageRow.document_id, PageRow.page_in_document, PageRow.id)
                .join(DocumentRow, PageRow.document_id == DocumentRow.id)
                .where(PageRow.document_id.in_(doc_ids), visible(access))
            ).all()
        found = {(d, n): pid for d, n, pid in rows}
        return {key: found[key] for key in wanted if key in found}

    # -- overview and browsing ------------------------------------------------
    def overview(self, access: AccessFilter) -> Overview:
        key = access
        cached = self._overview.get(key)
        if cached and time.monotonic() - cached[0] < self.OVERVIEW_TTL_S:
            return cached[1]
        result = self._count_overview(access)
        self._overview[key] = (time.monotonic(), result)
        return result

    def _count_overview(self, access: AccessFilter) -> Overview:
        with self.catalog.session() as s:
            shown = visible(access)
            docs = s.scalar(select(func.count()).select_from(DocumentRow).where(shown)) or 0
            pages = s.scalar(select(func.count()).select_from(PageRow)
                             .join(DocumentRow, PageRow.document_id == DocumentRow.id).where(shown)) or 0
            first, last = s.execute(select(func.min(DocumentRow.issued_date),
                                           func.max(DocumentRow.issued_date)).where(shown)).one()
        return Overview(documents=docs, pages=pages, fonds=self.fonds(access),
                        first_year=_year(first), last_year=_year(last))

    def fonds(self, access: AccessFilter) -> list[FondsCount]:
        """All fonds with the number of documents the caller may see in each."""
        with self.catalog.session() as s:
            counts = dict(s.execute(
                select(DocumentRow.fonds_id, func.count()).where(visible(access))
                .group_by(DocumentRow.fonds_id)).all())
            rows = s.scalars(select(FondsRow).order_by(FondsRow.code)).all()
        return [FondsCount(code=f.code, name=f.name, creator=f.creator, start_year=f.start_year,
                           end_year=f.end_year, documents=counts.get(f.id, 0)) for f in rows]

    def fonds_names(self) -> dict[str, str]:
        """Fonds code → name (the fonds list itself is not restricted)."""
        with self.catalog.session() as s:
            return dict(s.execute(select(FondsRow.code, FondsRow.name)).all())

    def fonds_detail(self, access: AccessFilter, code: str) -> tuple[FondsRow, list[FileCount], int] | None:
        """A fonds, its files with visible document counts, and documents outside any file."""
        with self.catalog.session() as s:
            fonds = s.scalar(select(FondsRow).where(FondsRow.code == code))
            if fonds is None:
                return None
            shown = visible(access)
            counts = dict(s.execute(
                select(DocumentRow.file_id, func.count()).where(DocumentRow.fonds_id == fonds.id, shown)
                .group_by(DocumentRow.file_id)).all())
            files = s.scalars(select(ArchiveFileRow).where(ArchiveFileRow.fonds_id == fonds.id)).all()
        # a file title can say what a restricted file is about: files without a
        # document the caller may see are not listed at all
        out = [FileCount(id=f.id, register=f.register, number=f.number, title=f.title,
                         documents=counts.get(f.id, 0)) for f in files if counts.get(f.id, 0)]
        out.sort(key=lambda f: (_natural(f.register), _natural(f.number)))
        return fonds, out, counts.get(None, 0)

    def file_documents(self, access: AccessFilter, file_id: int) -> tuple[ArchiveFileRow, FondsRow, list[DocumentRow]] | None:
        """A file (hồ sơ) and its visible documents in order."""
        with self.catalog.session() as s:
            f = s.get(ArchiveFileRow, file_id)
            if f is None:
                return None
            fonds = s.get(FondsRow, f.fonds_id)
            docs = list(s.scalars(select(DocumentRow).where(DocumentRow.file_id == f.id,
                                                            visible(access))
                                  .order_by(DocumentRow.issued_date, DocumentRow.batch_id, DocumentRow.seq)))
        if not docs:        # nothing visible in it: the same 404 as a missing file
            return None
        return f, fonds, docs

    def fonds_documents(self, access: AccessFilter, code: str, *, unfiled_only: bool = True,
                        limit: int = 200) -> list[DocumentRow]:
        with self.catalog.session() as s:
            q = (select(DocumentRow).join(FondsRow, DocumentRow.fonds_id == FondsRow.id)
                 .where(FondsRow.code == code, visible(access)))
            if unfiled_only:
                q = q.where(DocumentRow.file_id.is_(None))
            return list(s.scalars(q.order_by(DocumentRow.issued_date, DocumentRow.id).limit(limit)))


    # -- declassification -------------------------------------------------------
    def declassify_due(self, backend: object, today: date) -> list[int]:
        """Make public the documents whose declassification date has come, and
        re-index them so search agrees with the catalog. Returns their ids."""
        import indexing
        from kholuu.access import declassify_due

        due = declassify_due(self.accounts.declassifications(), today)
        changed = self.accounts.make_public(due) if due else []
        if changed:
            indexing.index_documents(self.catalog, backend, changed)   # type: ignore[arg-type]
            self._overview.clear()
        return changed


def _year(d: date | None) -> int | None:
    return d.year if d else None


def _natural(s: str) -> tuple:
    return (0, int(s), "") if s.isdigit() else (1, 0, s)
