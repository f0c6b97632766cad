"""The leak suite: restricted documents never show, and nothing reveals that they exist.

Public, conditional and secret documents whose texts share words are seeded
into a real SQLite catalog and indexed in BOTH search backends (embedded
always; Elasticsearch from KHOLUU_TEST_ELASTICSEARCH_URL, failing without it
unless KHOLUU_ALLOW_NO_ELASTICSEARCH=1). The web app is then driven as
anonymous, researchers with and without grants (by name, by group, expired,
revoked), an archivist and an administrator: searches, totals, facets,
snippets, document / text / PDF / page image URLs by id, browse counts, file
titles and the JSON API. Every restricted document carries a unique word, number,
person, issuer and year, and none of them may appear for a caller who may not
see it; its URLs answer byte-for-byte what a missing id answers.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

import indexing
from kholuu.access import hash_password
from kholuu.catalog import ArchiveFileRow, Catalog, DocumentRow
from kholuu.catalog.users import AccessStore, GrantRow
from kholuu.model import DocumentMetadata
from kholuu.settings import load_settings
from search_ui.app import create_app
from test_web_support import SampleDoc, seed_catalog
from service_urls import elasticsearch_url

PASSWORD = "mat-khau-thu-nghiem-1"


def _doc(key: str, fonds: str, mode: str, doc_type: str, number: str, year: int, issuer: str,
         marker: str, person: str, file_number: str) -> SampleDoc:
    return SampleDoc(
        key=key, fonds=fonds, access_mode=mode, file_number=file_number,
        metadata=DocumentMetadata(doc_type=doc_type, number_symbol=number, issuer=issuer,
                                  issued_date=date(year, 4, 2), subject=f"Về nông thôn mới {marker}"),
        pages=[[doc_type.upper(), f"Số {number}", f"về xây dựng nông thôn mới ở xã {marker}",
                f"Đồng chí {person} báo cáo kết quả nông thôn mới."]],
        entities=[("PER", person)])


# key → the document; the words after "marker" belong to that document only
DOCS = [
    _doc("pub1", "F01", "public", "Nghị quyết", "05-NQ/TU", 2019, "Tỉnh ủy Thái Bình", "Đôngsơn", "Trần Văn Khải", "12"),
    _doc("pub2", "F02", "public", "Chỉ thị", "08-CT/TU", 2021, "Tỉnh ủy Thái Bình", "Tâysơn", "Trần Văn Khải", "3"),
    _doc("cond", "F01", "conditional", "Báo cáo", "77-BC/TU", 1987, "Tổ công tác Bạchlong", "Bạchlong",
         "Lê Văn Bạch", "12"),
    _doc("cond2", "F02", "conditional", "Thông báo", "31-TB/TU", 1991, "Tổ công tác Huyềnvũ", "Huyềnvũ",
         "Phạm Thị Huyền", "3"),
    _doc("secret", "F03", "secret", "Kết luận", "99-KL/TU", 1979, "Tổ công tác Thanhlong", "Thanhlong",
         "Trần Văn Kín", "77"),
    _doc("old", "F01", "secret", "Quyết định", "12-QĐ/TU", 1965, "Văn phòng Tỉnh ủy", "Chuthước",
         "Đỗ Văn Cũ", "12"),                                 # declassified: public since 2020
    _doc("later", "F01", "secret", "Tờ trình", "45-TTr/TU", 1975, "Tổ công tác Kỳlân", "Kỳlân",
         "Vũ Văn Muộn", "12"),                               # declassified only in 2090
]
FORBIDDEN_WORDS = {  # what would give each restricted document away
    d.key: [d.metadata.number_symbol, d.metadata.issuer, str(d.metadata.issued_date.year), d.entities[0][1],
            d.metadata.subject.split()[-1]]
    for d in DOCS if d.key not in ("pub1", "pub2", "old")
}
SECRET_FILE_TITLE = "Hồ sơ Thanhlong"

PERSONAS = {
    # username: (role, fonds, groups) and the restricted documents they may see
    "anonymous": ({"old"}, None),
    "nnc-grant": ({"old", "cond"}, ("researcher", [], [])),
    "nnc-group": ({"old", "cond2"}, ("researcher", [], ["nhom-a"])),
    "nnc-none": ({"old"}, ("researcher", [], [])),
    "nnc-expired": ({"old"}, ("researcher", [], [])),
    "nnc-revoked": ({"old"}, ("editor", [], [])),
    "lt-f03": ({"old", "secret"}, ("archivist", ["F03"], [])),
    "qt": ({"old", "cond", "cond2", "secret", "later"}, ("administrator", [], [])),
}


@dataclass
class World:
    settings: object
    catalog: Catalog
    app: object
    doc_ids: dict[str, int]
    page_ids: dict[str, list[int]]
    backend_name: str
    secret_file_id: int




@pytest.fixture(scope="module", params=["embedded", pytest.param("elasticsearch")])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    env = {"KHOLUU_HOME": str(tmp_path_factory.mktemp(f"leak-{request.param}") / "home")}
    if request.param == "elasticsearch":
        env["KHOLUU_ELASTICSEARCH_URL"] = elasticsearch_url()
        env["KHOLUU_ELASTICSEARCH_INDEX"] = f"kholuu-test-leak-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    settings = load_settings(env)
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    seeded = seed_catalog(settings, catalog, DOCS)
    ids = seeded.doc_ids
    for key, doc_id in ids.items():
        pdf = settings.pdf_dir / f"{key}.pdf"
        Image.new("RGB", (60, 80), "white").save(pdf, "PDF")
        catalog.set_document_pdf(doc_id, str(pdf))
    secret_file = catalog.ensure_file(catalog.get_fonds("F03").id, "01", "77")
    with catalog.session() as s:    # a file title that would say what the secret file is about
        s.get(ArchiveFileRow, secret_file).title = SECRET_FILE_TITLE
    store = AccessStore(catalog)
    now = datetime.utcnow()
    for name, (_, account) in PERSONAS.items():
        if account:
            role, fonds, groups = account
            store.add_user(name, role, hash_password(PASSWORD), fonds=fonds, groups=groups)
    store.grant(ids["cond"], username="nnc-grant", expires_at=now + timedelta(days=30))
    store.grant(ids["cond2"], group="nhom-a")
    store.grant(ids["cond"], username="nnc-revoked")
    store.revoke(ids["cond"], username="nnc-revoked")
    store.grant(ids["cond"], username="nnc-expired", expires_at=now + timedelta(days=1))
    with catalog.session() as s:   # ... and a day later it has expired
        for g in s.query(GrantRow).filter(GrantRow.username == "nnc-expired"):
            g.expires_at = now - timedelta(minutes=1)
    store.set_declassification(ids["old"], date(2020, 1, 1))
    store.set_declassification(ids["later"], date(2090, 1, 1))
    backend = indexing.open_backend(settings)
    indexing.index_documents(catalog, backend)
    app = create_app(settings, catalog=catalog, backend=backend)
    with TestClient(app):   # start-up runs the declassification sweep
        pass
    yield World(settings, catalog, app, ids, seeded.page_ids, request.param, secret_file)
    if request.param == "elasticsearch":
        backend.drop()
    backend.close()
    catalog.dispose()


_CLIENTS: dict[tuple[int, str], TestClient] = {}


def logged_in(world: World, name: str) -> TestClient:
    """One logged-in client per persona and world, reused by the read-only tests."""
    key = (id(world), name)
    if key not in _CLIENTS:
        _CLIENTS[key] = client_for(world, name)
    return _CLIENTS[key]


def client_for(world: World, name: str) -> TestClient:
    client = TestClient(world.app)
    if name != "anonymous":
        client.get("/login")
        r = client.post("/login", data={"username": name, "password": PASSWORD,
                                        "csrf": client.cookies.get("kholuu_csrf")}, follow_redirects=False)
        assert r.status_code == 303, (name, r.status_code)
    return client


def _visible(name: str) -> set[str]:
    return {"pub1", "pub2"} | PERSONAS[name][0]


def _forbidden(name: str) -> list[str]:
    """Words of the restricted documents this caller may not see (minus any shared with visible ones)."""
    allowed_text = " ".join(w for k in _visible(name) for w in FORBIDDEN_WORDS.get(k, []))
    return [w for k, words in FORBIDDEN_WORDS.items() if k not in _visible(name)
            for w in words if w not in allowed_text]


def _no_leak(text: str, name: str, where: str, *, years: bool = True) -> None:
    for w in _forbidden(name):
        if w.isdigit() and not years:    # fonds lists carry years of their own
            continue
        at = text.find(w)
        assert at < 0, f"{name}: {w!r} shows in {where}: …{text[max(0, at - 300):at + 100]}…"


@pytest.mark.parametrize("name", list(PERSONAS))
def test_search_results_totals_facets_and_snippets(world: World, name: str) -> None:
    client = logged_in(world, name)
    want = {world.doc_ids[k] for k in _visible(name)}
    r = client.get("/api/search", params={"q": "nông thôn mới"})
    data = r.json()
    assert {h["id"] for h in data["hits"]} == want and data["total"] == len(want)
    fonds_counts = {f["value"]: f["count"] for f in data["facets"].get("fonds", [])}
    assert fonds_counts == {fo: n for fo in ("F01", "F02", "F03")
                            if (n := sum(1 for d in DOCS if d.fonds == fo and d.key in _visible(name)))}
    _no_leak(r.text, name, "the JSON API")
    html = client.get("/search", params={"q": "nông thôn mới"}).text
    _no_leak(html, name, "the results page")
    assert re.search(rf"\b{len(want)}\b văn bản", html) or f"<strong>{len(want)}</strong>" in html, name
    # without diacritics, and sorted by date: the same documents
    r2 = client.get("/api/search", params={"q": "nong thon moi", "sort": "date_asc"}).json()
    assert {h["id"] for h in r2["hits"]} == want


@pytest.mark.parametrize("name", list(PERSONAS))
def test_searching_for_what_only_a_hidden_document_holds_looks_like_nothing(world: World, name: str) -> None:
    client = logged_in(world, name)
    nothing = client.get("/api/search", params={"q": "Khôngcótừnày"}).json()
    assert nothing["total"] == 0 and nothing["hits"] == []
    for key, words in FORBIDDEN_WORDS.items():
        if key in _visible(name):
            continue
        for q in (words[-1], f'"{words[0]}"', f'"{words[3]}"'):
            got = client.get("/api/search", params={"q": q}).json()
            assert (got["total"], got["hits"], got["facets"], got["pages"]) == \
                   (0, [], nothing["facets"], nothing["pages"]), (name, q)
        # filters on values that only the hidden document has: empty as well
        for params in ({"q": "nông thôn", "issuer": words[1]}, {"q": "nông thôn", "from": words[2], "to": words[2]},
                       {"q": "nông thôn", "entity": f"PER:{words[3]}"}, {"q": "nông thôn", "type": words[0][3:5]}):
            got = client.get("/api/search", params=params).json()
            assert not ({h["id"] for h in got["hits"]} - {world.doc_ids[k] for k in _visible(name)}), (name, params)
            _no_leak(str(got["facets"]), name, f"facets for {params}")


@pytest.mark.parametrize("name", list(PERSONAS))
def test_urls_by_id_answer_like_a_missing_document(world: World, name: str) -> None:
    client = logged_in(world, name)
    missing_doc, missing_page = 987654, 876543
    missing = {
        "doc": client.get(f"/documents/{missing_doc}"), "text": client.get(f"/documents/{missing_doc}/text"),
        "pdf": client.get(f"/documents/{missing_doc}/pdf"), "api": client.get(f"/api/documents/{missing_doc}"),
        "image": client.get(f"/pages/{missing_page}/image"),
        "full": client.get(f"/pages/{missing_page}/image", params={"full": "1"}),
    }
    for key, doc_id in world.doc_ids.items():
        page = world.page_ids[key][0]
        got = {
            "doc": client.get(f"/documents/{doc_id}"), "text": client.get(f"/documents/{doc_id}/text"),
            "pdf": client.get(f"/documents/{doc_id}/pdf"), "api": client.get(f"/api/documents/{doc_id}"),
            "image": client.get(f"/pages/{page}/image", params={"w": 400}),
            "full": client.get(f"/pages/{page}/image", params={"full": "1"}),
        }
        for what, r in got.items():
            if key in _visible(name):
                assert r.status_code == 200, (name, key, what)
            else:
                m = missing[what]
                assert (r.status_code, r.content, r.headers.get("content-type")) == \
                       (404, m.content, m.headers.get("content-type")), (name, key, what)
        if key not in _visible(name):
            continue
        restricted = key in ("cond", "cond2", "secret", "later")
        assert ("no-store" in got["image"].headers["cache-control"]) == restricted, (name, key)


@pytest.mark.parametrize("name", list(PERSONAS))
def test_home_and_browse_count_only_visible_documents(world: World, name: str) -> None:
    client = logged_in(world, name)
    visible = _visible(name)
    home = client.get("/").text
    assert re.search(rf"<strong>{len(visible)}</strong><span>văn bản", home), name
    browse = client.get("/browse").text
    for fo in ("F01", "F02", "F03"):
        n = sum(1 for d in DOCS if d.fonds == fo and d.key in visible)
        assert re.search(rf">{fo}</a></td>\s*<td><a[^>]*>[^<]*</a></td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*"
                         rf"<td class=\"num\">{n}</td>", browse), (name, fo)
    f03 = client.get("/browse/F03")
    assert f03.status_code == 200
    file_page = client.get(f"/browse/files/{world.secret_file_id}")
    if "secret" in visible:
        assert SECRET_FILE_TITLE in f03.text and file_page.status_code == 200
    else:
        assert SECRET_FILE_TITLE not in f03.text
        assert (file_page.status_code, file_page.text) == (404, client.get("/browse/files/999999").text)
    for page in (home, browse, f03.text, client.get("/browse/F01").text, client.get("/browse/F02").text):
        _no_leak(page, name, "a browse page", years=False)


def test_declassified_document_is_public_and_a_future_date_changes_nothing(world: World) -> None:
    with world.catalog.session() as s:
        assert s.get(DocumentRow, world.doc_ids["old"]).access_mode == "public"
        assert s.get(DocumentRow, world.doc_ids["later"]).access_mode == "secret"
    anon = client_for(world, "anonymous")
    assert world.doc_ids["old"] in {h["id"] for h in anon.get("/api/search", params={"q": "Chuthước"}).json()["hits"]}


def test_a_granted_document_made_secret_later_disappears_for_the_grantee(world: World) -> None:
    cond = world.doc_ids["cond"]
    client = client_for(world, "nnc-grant")
    assert client.get(f"/documents/{cond}").status_code == 200
    backend = world.app.state.kholuu.backend
    try:
        with world.catalog.session() as s:
            s.get(DocumentRow, cond).access_mode = "secret"
        indexing.index_documents(world.catalog, backend, [cond])
        assert client.get(f"/documents/{cond}").status_code == 404
        assert cond not in {h["id"] for h in client.get("/api/search", params={"q": "Bạchlong"}).json()["hits"]}
        assert client.get(f"/pages/{world.page_ids['cond'][0]}/image").status_code == 404
    finally:
        with world.catalog.session() as s:
            s.get(DocumentRow, cond).access_mode = "conditional"
        indexing.index_documents(world.catalog, backend, [cond])


def test_revoking_a_grant_takes_effect_on_the_next_request(world: World) -> None:
    store = AccessStore(world.catalog)
    cond2 = world.doc_ids["cond2"]
    store.grant(cond2, username="nnc-none")
    client = client_for(world, "nnc-none")
    try:
        assert client.get(f"/documents/{cond2}").status_code == 200
        store.revoke(cond2, username="nnc-none")
        assert client.get(f"/documents/{cond2}").status_code == 404
    finally:
        store.revoke(cond2, username="nnc-none")


def test_public_access_off_shows_anonymous_visitors_nothing(world: World) -> None:
    settings = load_settings({"KHOLUU_HOME": str(world.settings.home), "KHOLUU_PUBLIC_ACCESS": "off",
                              **({"KHOLUU_ELASTICSEARCH_URL": world.settings.elasticsearch_url,
                                  "KHOLUU_ELASTICSEARCH_INDEX": world.settings.elasticsearch_index}
                                 if world.settings.elasticsearch_url else {})})
    app = create_app(settings, catalog=world.catalog, backend=world.app.state.kholuu.backend)
    with TestClient(app) as anon:
        data = anon.get("/api/search", params={"q": "nông thôn mới"}).json()
        assert (data["total"], data["hits"]) == (0, [])
        assert anon.get(f"/documents/{world.doc_ids['pub1']}").status_code == 404
        assert anon.get(f"/pages/{world.page_ids['pub1'][0]}/image").status_code == 404
        assert re.search(r"<strong>0</strong><span>văn bản", anon.get("/").text)
        # a researcher who logs in still sees the public documents
        anon.post("/login", data={"username": "nnc-none", "password": PASSWORD,
                                  "csrf": anon.cookies.get("kholuu_csrf")})
        assert anon.get(f"/documents/{world.doc_ids['pub1']}").status_code == 200


def test_audit_log_records_searches_openings_downloads_and_access_changes(world: World) -> None:
    client = client_for(world, "nnc-grant")
    client.get("/search", params={"q": "Bạchlong"})
    client.get(f"/documents/{world.doc_ids['cond']}")
    client.get(f"/documents/{world.doc_ids['cond']}/pdf")
    entries = AccessStore(world.catalog).audit_entries(limit=500)
    seen = {(e.actor, e.action, e.target) for e in entries}
    assert ("nnc-grant", "search", "Bạchlong") in seen
    assert ("nnc-grant", "open", f"document {world.doc_ids['cond']}") in seen
    assert ("nnc-grant", "download", f"document {world.doc_ids['cond']}") in seen
    assert ("cli", "grant", f"document {world.doc_ids['cond']}") in seen
    assert ("cli", "revoke", f"document {world.doc_ids['cond']}") in seen
    assert ("system", "declassified", f"document {world.doc_ids['old']}") in seen
    assert ("nnc-grant", "login", "nnc-grant") in seen
    # administrators read it on a page; anyone else gets the ordinary 404
    assert client.get("/admin/audit").status_code == 404
    admin = client_for(world, "qt")
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and "Bạchlong" in page.text and "nnc-grant" in page.text
