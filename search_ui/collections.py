"""Editors' collections (tập văn kiện) in the web app: pages, forms, JSON, exports.

Who: logged-in editors and administrators; anyone else gets the 404 a missing
page gets, and another editor's collection answers like a missing one.

What a collection shows: only the documents the caller may see *now*. Items
are read joined to the document table under ``search_ui.access.visible`` (the
SQL form of the one access filter), so a document made secret after it was
added silently drops out of the page, the counts, the JSON and every export.
Adding a document checks it through ``Repository.document`` first, so an id
the caller may not see answers exactly like a missing one.

Every form is a plain POST with the CSRF token, ids in form fields (so the
routes need no JavaScript and the CSRF check runs before anything else).
Exports are written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from kholuu.access import AccessFilter, User
from kholuu.catalog import DocumentRow
from kholuu.catalog import collections as stored
from kholuu.errors import CatalogError
from search_ui import auth
from search_ui import images as image_files
from search_ui.access import Repository, access_for, caller, utcnow, visible
from search_ui.export import ExportDoc, ExportVolume, volume_csv, volume_json, volume_pdf
from search_ui.params import parse_params
from search_ui.present import citation, doc_title, format_date, full_citation

EDITOR_ROLES = ("editor", "administrator")
EXPORT_IMAGE_WIDTH = 1000
EXPORT_FORMATS = ("pdf", "docx", "csv", "json")
DOCX_MEDIA = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def can_edit(user: User) -> bool:
    return not user.is_anonymous and user.role in EDITOR_ROLES


def uid(user: User) -> int:
    """The owner key of a user's collections (anonymous users own none: 0)."""
    return int(user.id or 0)


@dataclass
class Entry:
    """One visible document of a collection, in the collection's order."""

    number: int            # 1-based among the visible documents
    doc: DocumentRow
    note: str
    title: str
    date: str
    citation: str
    full_citation: str


@dataclass
class CollectionSummary:
    info: stored.CollectionInfo
    count: int             # visible documents only


def _signer(d: DocumentRow) -> str:
    return " ".join(p for p in (d.signer_title, d.signer_name) if p)


class Collections:
    """Access-checked reads of collections, and the owner-checked writes.

    The catalog queries live in kholuu/catalog/collections.py; every read
    here hands them ``visible(access)``, the SQL form of the caller's filter.
    """

    def __init__(self, store: stored.CollectionStore, repo: Repository):
        self.store, self.repo = store, repo

    def summaries(self, user: User, access: AccessFilter) -> list[CollectionSummary]:
        infos = self.store.owned(uid(user))
        counts = self.store.visible_counts(uid(user), visible(access)) if infos else {}
        return [CollectionSummary(info=i, count=counts.get(i.id, 0)) for i in infos]

    def entries(self, user: User, access: AccessFilter, collection_id: int) -> list[Entry]:
        """The visible documents of the caller's collection, in order."""
        out = []
        rows = self.store.visible_items(uid(user), collection_id, visible(access))
        for n, (note, d) in enumerate(rows, 1):
            f = d.archive_file
            title = doc_title(d.doc_type, d.number_symbol, d.id)
            archival = citation(d.fonds.code if d.fonds else "?", f.register if f else None, f.number if f else None,
                                range(1, (d.page_count or 0) + 1))
            out.append(Entry(number=n, doc=d, note=note, title=title, date=format_date(d.issued_date),
                             citation=archival,
                             full_citation=full_citation(title, d.issued_date, d.issuer, d.subject, archival)))
        return out

    def volume(self, user: User, access: AccessFilter, info: stored.CollectionInfo, entries: list[Entry], *,
               with_text: bool = True, image_dir: Path | None = None) -> ExportVolume:
        """What an export holds: the visible entries with their text (and page image derivatives)."""
        docs = []
        for e in entries:
            d = e.doc
            text, page_images = d.text, []
            if (with_text and not text) or image_dir is not None:
                view = self.repo.document(access, d.id)       # pages, through the same filter
                pages = view.pages if view else []
                text = text or "\n\n".join(p.text or "" for p in pages)
                if image_dir is not None:
                    for p in pages:
                        if p.image_path and Path(p.image_path).is_file():
                            try:
                                page_images.append(image_files.derivative(Path(p.image_path), image_dir,
                                                                     EXPORT_IMAGE_WIDTH, "jpeg"))
                            except OSError:
                                continue
            f = d.archive_file
            docs.append(ExportDoc(
                id=d.id, title=e.title, doc_type=d.doc_type, number_symbol=d.number_symbol,
                issued_date=d.issued_date, issuer=d.issuer, place=d.place, subject=d.subject, signer=_signer(d),
                fonds=d.fonds.code if d.fonds else "", register=f.register if f else None,
                file_number=f.number if f else None, citation=e.citation, full_citation=e.full_citation,
                access_mode=d.access_mode, page_count=d.page_count or 0, note=e.note,
                text=text if with_text else "", page_images=page_images))
        return ExportVolume(title=info.title, editor=user.display_name or user.username, exported_at=utcnow(),
                            documents=docs)


def entry_to_dict(e: Entry) -> dict[str, Any]:
    d = e.doc
    return {"number": e.number, "id": d.id, "title": e.title, "doc_type": d.doc_type,
            "number_symbol": d.number_symbol, "issued_date": d.issued_date.isoformat() if d.issued_date else None,
            "issuer": d.issuer, "subject": d.subject, "citation": e.citation, "note": e.note,
            "url": f"/documents/{d.id}"}


def _int(value: str | None) -> int | None:
    v = (value or "").strip()
    return int(v) if v.isdigit() and len(v) < 12 else None


def _filename(title: str, ext: str) -> str:
    from kholuu.textnorm import fold

    slug = "".join(c if c.isalnum() else "-" for c in fold(title).lower())
    slug = "-".join(p for p in slug.split("-") if p)[:60] or "tap-van-kien"
    return f"{slug}.{ext}"


def _download(body: bytes | str, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"})


def install(app: FastAPI, state: Any, *, render: Callable[..., HTMLResponse],
            checked_form: Callable[..., Any], audit: Callable[..., None], not_found: Callable[[], Exception]) -> None:
    """Add the collection pages, forms, JSON and exports to ``app``; called by ``create_app``."""
    cols = Collections(stored.CollectionStore(state.repo.catalog), state.repo)
    derivatives_dir = state.settings.cache_dir / "derivatives"

    def my_collections(user: User) -> list[stored.CollectionInfo]:
        """For the "Thêm vào tập" forms on the document and result pages (a template global)."""
        return cols.store.owned(uid(user)) if can_edit(user) else []

    def collections_with(user: User, document_id: int) -> list[stored.CollectionInfo]:
        """The caller's collections already holding a document (shown next to the add form)."""
        if not can_edit(user):
            return []
        held = set(cols.store.containing(uid(user), document_id))
        return [c for c in my_collections(user) if c.id in held]

    state.templates.globals.update(my_collections=my_collections, can_edit_collections=can_edit,
                                   collections_with=collections_with)

    def editor(request: Request) -> User:
        user = caller(request)
        if not can_edit(user):
            raise not_found()
        return user

    def own(user: User, collection_id: int | None) -> stored.CollectionInfo:
        info = cols.store.get(uid(user), collection_id) if collection_id is not None else None
        if info is None:
            raise not_found()
        return info

    def back_to(info_id: int, anchor: str = "") -> RedirectResponse:
        return RedirectResponse(f"/collections/{info_id}{anchor}", status_code=303)

    async def form_of(request: Request) -> tuple[User, dict[str, str]]:
        form = await checked_form(request)       # CSRF first, for everyone
        return editor(request), form

    async def edit_of(request: Request) -> tuple[User, stored.CollectionInfo, dict[str, str]]:
        """The checked form of a change to one of the caller's collections (field ``collection``)."""
        user, form = await form_of(request)
        return user, own(user, _int(form.get("collection"))), form

    def visible_ids(request: Request, user: User, info: stored.CollectionInfo) -> list[int]:
        """Document ids of a collection in order, only those the caller may still see."""
        return [e.doc.id for e in cols.entries(user, access_for(request), info.id)]

    def create(user: User, title: str | None) -> int:
        """A new collection; an empty or invalid title becomes "Tập văn kiện ngày <today>"."""
        fallback = f"Tập văn kiện ngày {date.today().strftime('%d/%m/%Y')}"
        try:
            return cols.store.create(uid(user), title or fallback)
        except CatalogError:
            return cols.store.create(uid(user), fallback)

    # -- pages ---------------------------------------------------------------
    @app.get("/collections", response_class=HTMLResponse, include_in_schema=False)
    def collections_page(request: Request) -> HTMLResponse:
        user = editor(request)
        return render(request, "collections.html", summaries=cols.summaries(user, access_for(request)),
                      params=parse_params({}))

    @app.get("/collections/{collection_id:int}", response_class=HTMLResponse, include_in_schema=False)
    def collection_page(request: Request, collection_id: int) -> HTMLResponse:
        user = editor(request)
        info = own(user, collection_id)
        entries = cols.entries(user, access_for(request), info.id)
        return render(request, "collection.html", info=info, entries=entries, params=parse_params({}))

    # -- forms ---------------------------------------------------------------
    @app.post("/collections/create", include_in_schema=False)
    async def collection_create(request: Request) -> Response:
        user, form = await form_of(request)
        return back_to(create(user, form.get("title")))

    @app.post("/collections/rename", include_in_schema=False)
    async def collection_rename(request: Request) -> Response:
        user, info, form = await edit_of(request)
        try:
            cols.store.rename(uid(user), info.id, form.get("title") or "")
        except CatalogError:
            pass                            # an empty title keeps the old one
        return back_to(info.id)

    @app.post("/collections/delete", include_in_schema=False)
    async def collection_delete(request: Request) -> Response:
        user, info, _ = await edit_of(request)
        cols.store.delete(uid(user), info.id)
        return RedirectResponse("/collections", status_code=303)

    @app.post("/collections/add", include_in_schema=False)
    async def collection_add(request: Request) -> Response:
        """Add a document from its page or from a result list; ``collection=new`` starts a new one."""
        user, form = await form_of(request)
        doc_id = _int(form.get("document"))
        view = state.repo.document(access_for(request), doc_id) if doc_id is not None else None
        if view is None:
            raise not_found()
        if (form.get("collection") or "") == "new":
            cid = create(user, form.get("title"))
        else:
            cid = own(user, _int(form.get("collection"))).id
        cols.store.add(uid(user), cid, view.doc.id)
        nxt = form.get("next") or ""
        if nxt:
            return RedirectResponse(auth.safe_next(nxt), status_code=303)
        return back_to(cid)

    @app.post("/collections/remove", include_in_schema=False)
    async def collection_remove(request: Request) -> Response:
        user, info, form = await edit_of(request)
        cols.store.remove(uid(user), info.id, _int(form.get("document")) or 0)
        return back_to(info.id)

    @app.post("/collections/move", include_in_schema=False)
    async def collection_move(request: Request) -> Response:
        """Move a document one place up or down among the documents the caller sees."""
        user, info, form = await edit_of(request)
        doc_id = _int(form.get("document"))
        ids = visible_ids(request, user, info)
        if doc_id in ids:
            i = ids.index(doc_id)
            j = i - 1 if form.get("direction") == "up" else i + 1
            if 0 <= j < len(ids):
                cols.store.swap(uid(user), info.id, ids[i], ids[j])
        return back_to(info.id, f"#item-{doc_id}")

    @app.post("/collections/reorder", include_in_schema=False)
    async def collection_reorder(request: Request) -> Response:
        """A whole new order (``order``: document ids, comma separated), e.g. after dragging."""
        user, info, form = await edit_of(request)
        seen = set(visible_ids(request, user, info))
        wanted = [i for i in (_int(x) for x in (form.get("order") or "").split(",")) if i in seen]
        cols.store.reorder(uid(user), info.id, wanted)
        return back_to(info.id)

    @app.post("/collections/sort", include_in_schema=False)
    async def collection_sort(request: Request) -> Response:
        user, info, _ = await edit_of(request)
        cols.store.order_by_date(uid(user), info.id)
        return back_to(info.id)

    @app.post("/collections/note", include_in_schema=False)
    async def collection_note(request: Request) -> Response:
        user, info, form = await edit_of(request)
        doc_id = _int(form.get("document"))
        if doc_id is not None and doc_id in visible_ids(request, user, info):
            cols.store.set_note(uid(user), info.id, doc_id, form.get("note") or "")
        return back_to(info.id, f"#item-{doc_id}")

    # -- exports -------------------------------------------------------------
    @app.get("/collections/{collection_id:int}/export/{fmt}", include_in_schema=False)
    def collection_export(request: Request, collection_id: int, fmt: str, images: str = "") -> Response:
        user = editor(request)
        info = own(user, collection_id)
        if fmt not in EXPORT_FORMATS:
            raise not_found()
        entries = cols.entries(user, access_for(request), info.id)
        with_images = fmt == "pdf" and images in ("1", "on", "true")
        volume = cols.volume(user, access_for(request), info, entries, with_text=fmt in ("pdf", "docx"),
                             image_dir=derivatives_dir if with_images else None)
        audit(request, "export", f"collection {info.id}",
              f"{fmt}{' with images' if with_images else ''}, {len(entries)} documents: "
              + ",".join(str(e.doc.id) for e in entries)[:1500])
        if fmt == "pdf":
            return _download(volume_pdf(volume, with_images=with_images), "application/pdf",
                             _filename(info.title, "pdf"))
        if fmt == "docx":
            from search_ui.export_docx import volume_docx

            return _download(volume_docx(volume), DOCX_MEDIA, _filename(info.title, "docx"))
        if fmt == "csv":
            return _download(volume_csv(volume), "text/csv; charset=utf-8", _filename(info.title, "csv"))
        return JSONResponse(volume_json(volume), headers={
            "Content-Disposition": f"attachment; filename=\"{_filename(info.title, 'json')}\""})

    # -- JSON API ------------------------------------------------------------
    @app.get("/api/collections", tags=["tập văn kiện"], summary="Các tập văn kiện của biên tập viên")
    def api_collections(request: Request) -> dict[str, Any]:
        """Chỉ dành cho biên tập viên đã đăng nhập; số văn bản chỉ tính văn bản người gọi được xem."""
        user = editor(request)
        return {"collections": [{"id": s.info.id, "title": s.info.title, "count": s.count,
                                 "url": f"/collections/{s.info.id}"}
                                for s in cols.summaries(user, access_for(request))]}

    @app.get("/api/collections/{collection_id:int}", tags=["tập văn kiện"], summary="Một tập văn kiện")
    def api_collection(request: Request, collection_id: int) -> dict[str, Any]:
        """Các văn bản của tập theo thứ tự, với ghi chú của biên tập viên."""
        user = editor(request)
        info = own(user, collection_id)
        entries = cols.entries(user, access_for(request), info.id)
        return {"id": info.id, "title": info.title, "count": len(entries),
                "documents": [entry_to_dict(e) for e in entries],
                "exports": {f: f"/collections/{info.id}/export/{f}" for f in EXPORT_FORMATS}}


__all__ = ["Collections", "Entry", "CollectionSummary", "install", "can_edit", "entry_to_dict", "EDITOR_ROLES"]
