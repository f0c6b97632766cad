"""Editors' collections through the real app (TestClient, real SQLite catalog,
embedded index): building a collection with CSRF-checked forms, who may use
collections at all, and that a collection only ever shows what its owner may
see now."""

from __future__ import annotations

import json
from datetime import date
from typing import Iterator

import pytest

from test_collections_support import World, client_for, make_world, new_collection, order, pdf_text, post

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("collections") / "home")
    yield w
    w.backend.close()
    w.catalog.dispose()


def test_editor_builds_reorders_annotates_and_prunes_a_collection(world: World) -> None:
    c = client_for(world, "btv")
    cid = new_collection(c, "Văn kiện nông thôn mới")
    ct08, nq05, bc112 = world.doc("ct08"), world.doc("nq05"), world.doc("bc112")
    # from the document page (back to the collection) and from a result list (back to the results)
    assert post(c, "/collections/add", collection=cid, document=ct08).headers["location"] == f"/collections/{cid}"
    r = post(c, "/collections/add", collection=cid, document=bc112, next="/search?q=l%C6%B0u+tr%E1%BB%AF")
    assert r.status_code == 303 and r.headers["location"] == "/search?q=l%C6%B0u+tr%E1%BB%AF"
    post(c, "/collections/add", collection=cid, document=nq05)
    post(c, "/collections/add", collection=cid, document=ct08)          # twice: kept once, in place
    assert order(c, cid) == [ct08, bc112, nq05]

    post(c, "/collections/move", collection=cid, document=nq05, direction="up")
    assert order(c, cid) == [ct08, nq05, bc112]
    post(c, "/collections/move", collection=cid, document=ct08, direction="up")   # already first
    post(c, "/collections/move", collection=cid, document=ct08, direction="down")
    assert order(c, cid) == [nq05, ct08, bc112]
    post(c, "/collections/sort", collection=cid)                                  # 1998, 2019, 2021
    assert order(c, cid) == [bc112, nq05, ct08]
    post(c, "/collections/reorder", collection=cid, order=f"{ct08},{bc112},{nq05}")
    assert order(c, cid) == [ct08, bc112, nq05]

    post(c, "/collections/note", collection=cid, document=nq05, note="Bản gốc lưu tại phòng 3. " + XSS)
    post(c, "/collections/rename", collection=cid, title="  Tập một:   nông thôn mới ")
    data = c.get(f"/api/collections/{cid}").json()
    assert data["title"] == "Tập một: nông thôn mới" and data["count"] == 3
    assert data["documents"][2]["note"].startswith("Bản gốc lưu tại phòng 3.")

    page = c.get(f"/collections/{cid}")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    html = page.text
    assert "Tập một: nông thôn mới" in html and "Ghi chú của biên tập viên" in html and "Xuất PDF" in html
    assert html.index("Chỉ thị 08-CT/TU") < html.index("Báo cáo 112-BC/VPTU") < html.index("Nghị quyết 05-NQ/TU")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    post(c, "/collections/remove", collection=cid, document=bc112)
    assert order(c, cid) == [ct08, nq05]
    listing = c.get("/api/collections").json()["collections"]
    assert {"id": cid, "title": "Tập một: nông thôn mới", "count": 2, "url": f"/collections/{cid}"} in listing
    r = post(c, "/collections/delete", collection=cid)
    assert r.status_code == 303 and c.get(f"/collections/{cid}").status_code == 404


def test_add_forms_show_on_document_and_result_pages_for_editors_only(world: World) -> None:
    editor, researcher = client_for(world, "btv"), client_for(world, "nnc")
    cid = new_collection(editor, "Tập để thêm")
    doc = editor.get(f"/documents/{world.doc('ct08')}").text
    assert 'action="/collections/add"' in doc and "Thêm vào tập" in doc and "Tập để thêm" in doc
    assert 'href="/collections"' in doc                                   # the nav link
    results = editor.get("/search", params={"q": "nông thôn mới"}).text
    assert results.count('action="/collections/add"') == 2
    for page in (researcher.get(f"/documents/{world.doc('ct08')}").text,
                 researcher.get("/search", params={"q": "nông thôn mới"}).text,
                 client_for(world, "anonymous").get(f"/documents/{world.doc('ct08')}").text):
        assert "/collections" not in page and "Thêm vào tập" not in page
    post(editor, "/collections/add", collection=cid, document=world.doc("ct08"))
    results = editor.get("/search", params={"q": "nông thôn mới"}).text
    assert results.count("Đã có trong") == 1 and f'<a href="/collections/{cid}">Tập để thêm</a>' in results
    # "+ Tập mới" from a result starts a new collection holding the document
    r = post(editor, "/collections/add", collection="new", document=world.doc("nq05"))
    new_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert new_id != cid and order(editor, new_id) == [world.doc("nq05")]


def test_people_who_are_not_editors_get_the_missing_page(world: World) -> None:
    owner = client_for(world, "btv")
    cid = new_collection(owner, "Tập riêng")
    post(owner, "/collections/add", collection=cid, document=world.doc("ct08"))
    for name in ("anonymous", "nnc", "lt", "btv2"):          # btv2 is an editor, but not the owner
        c = client_for(world, name)
        missing_page, missing_api = c.get("/collections/987654"), c.get("/api/collections/987654")
        for url in (f"/collections/{cid}", f"/collections/{cid}/export/pdf", f"/collections/{cid}/export/csv"):
            r = c.get(url)
            assert (r.status_code, r.text) == (404, missing_page.text), (name, url)
        r = c.get(f"/api/collections/{cid}")
        assert (r.status_code, r.json()) == (404, missing_api.json()) == (404, {"detail": "Không tìm thấy"})
        for path, data in (("/collections/rename", {"collection": cid, "title": "Chiếm"}),
                           ("/collections/add", {"collection": cid, "document": world.doc("nq05")}),
                           ("/collections/note", {"collection": cid, "document": world.doc("ct08"), "note": "x"}),
                           ("/collections/delete", {"collection": cid})):
            assert post(c, path, **data).status_code == 404, (name, path)
        if name != "btv2":
            assert c.get("/collections").status_code == 404 and c.get("/api/collections").status_code == 404
    # nothing was changed by them
    assert order(owner, cid) == [world.doc("ct08")]
    assert owner.get(f"/api/collections/{cid}").json()["title"] == "Tập riêng"
    # an administrator may keep collections of their own
    admin = client_for(world, "qt")
    assert admin.get("/collections").status_code == 200


def test_every_collection_form_needs_the_csrf_token(world: World) -> None:
    c = client_for(world, "btv")
    cid = new_collection(c, "Tập CSRF")
    for path in ("/collections/create", "/collections/add", "/collections/rename", "/collections/delete",
                 "/collections/move", "/collections/note", "/collections/sort", "/collections/remove",
                 "/collections/reorder"):
        r = c.post(path, data={"collection": str(cid), "document": str(world.doc("ct08")), "title": "x"},
                   follow_redirects=False)
        assert r.status_code == 403, path
        r = post(c, path, csrf="A" * 43, collection=cid, document=world.doc("ct08"))
        assert r.status_code == 403, path
    assert order(c, cid) == [] and c.get(f"/collections/{cid}").status_code == 200


def test_a_document_the_editor_may_not_see_cannot_be_added(world: World) -> None:
    c = client_for(world, "btv")
    cid = new_collection(c, "Tập thử mật")
    secret = post(c, "/collections/add", collection=cid, document=world.doc("secret"))
    missing = post(c, "/collections/add", collection=cid, document=987654)
    assert (secret.status_code, secret.text) == (missing.status_code, missing.text) == (404, missing.text)
    assert order(c, cid) == []


def test_a_document_made_secret_after_it_was_added_disappears_from_view_and_exports(world: World) -> None:
    c = client_for(world, "btv")
    cid = new_collection(c, "Tập sẽ có văn bản mật")
    for key in ("ct08", "bc112", "nq05"):
        post(c, "/collections/add", collection=cid, document=world.doc(key))
    assert "112-BC/VPTU" in c.get(f"/collections/{cid}").text
    world.set_mode("bc112", "secret")
    try:
        html = c.get(f"/collections/{cid}").text
        assert "112-BC/VPTU" not in html and "lưu trữ tài liệu năm 1998" not in html
        assert '<span class="coll-count">2</span> văn bản' in html
        assert order(c, cid) == [world.doc("ct08"), world.doc("nq05")]
        count = {x["id"]: x["count"] for x in c.get("/api/collections").json()["collections"]}[cid]
        assert count == 2
        csv_text = c.get(f"/collections/{cid}/export/csv").content.decode("utf-8-sig")
        assert "112-BC/VPTU" not in csv_text and len(csv_text.strip().splitlines()) == 3
        data = json.loads(c.get(f"/collections/{cid}/export/json").content)
        assert data["count"] == 2 and [d["id"] for d in data["documents"]] == order(c, cid)
        pdf = c.get(f"/collections/{cid}/export/pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content)
        assert "112-BC" not in text and "Gồm 2 văn bản" in text and "08-CT/TU" in text
        # moving around the hidden document keeps working and keeps its place
        post(c, "/collections/move", collection=cid, document=world.doc("nq05"), direction="up")
        assert order(c, cid) == [world.doc("nq05"), world.doc("ct08")]
        # the administrator's own collection would still show it; the editor cannot re-add it
        assert post(c, "/collections/add", collection=cid, document=world.doc("bc112")).status_code == 404
    finally:
        world.set_mode("bc112", "public")
    # made public again: it comes back in its place
    assert world.doc("bc112") in order(c, cid)


def test_exports_are_written_to_the_audit_log(world: World) -> None:
    c = client_for(world, "btv")
    cid = new_collection(c, "Tập kiểm toán")
    post(c, "/collections/add", collection=cid, document=world.doc("ct08"))
    for fmt in ("pdf", "csv", "json"):
        assert c.get(f"/collections/{cid}/export/{fmt}").status_code == 200
    entries = [e for e in world.store.audit_entries(limit=50, action="export") if e.target == f"collection {cid}"]
    assert sorted(e.detail.split(",")[0] for e in entries) == ["csv", "json", "pdf"]
    assert all(e.actor == "btv" and str(world.doc("ct08")) in e.detail for e in entries)
    assert c.get(f"/collections/{cid}/export/docx-or-anything").status_code == 404


def test_untitled_collections_are_named_by_date_and_a_blank_rename_keeps_the_title(world: World) -> None:
    """An empty or blank title (create, add to a new collection, rename) never gives an unnamed collection."""
    c = client_for(world, "btv")
    named = f"Tập văn kiện ngày {date.today().strftime('%d/%m/%Y')}"
    r = post(c, "/collections/create", title="   ")
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    assert c.get(f"/api/collections/{cid}").json()["title"] == named
    r = post(c, "/collections/add", collection="new", document=world.doc("ct08"))
    new_id = int(r.headers["location"].rsplit("/", 1)[1])
    data = c.get(f"/api/collections/{new_id}").json()
    assert new_id != cid and data["title"] == named and data["count"] == 1
    post(c, "/collections/rename", collection=new_id, title="  ")
    assert c.get(f"/api/collections/{new_id}").json()["title"] == named
