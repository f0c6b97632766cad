"""Logging in and out through the real app (TestClient, real SQLite catalog and
embedded index): cookies, CSRF on every form, the login rate limit, no open
redirect, escaped payloads, security headers on every kind of answer."""

from __future__ import annotations

import re
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from kholuu.access import hash_password
from kholuu.catalog import Catalog
from kholuu.catalog.users import AccessStore
from kholuu.settings import load_settings
from search_ui.app import CSP, create_app
from search_ui.auth import LoginLimiter, safe_next, same_origin
from test_web_support import make_backend, seed_catalog

PASSWORD = "mat-khau-kiem-thu-2"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def app_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    settings = load_settings({"KHOLUU_HOME": str(tmp_path_factory.mktemp("auth") / "home")})
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    seeded = seed_catalog(settings, catalog)
    store = AccessStore(catalog)
    store.add_user("nnc", "researcher", hash_password(PASSWORD), display_name="Nguyễn <b>Nghiên</b> Cứu")
    store.add_user("qt", "administrator", hash_password(PASSWORD))
    backend = make_backend(settings, catalog)
    app = create_app(settings, catalog=catalog, backend=backend)
    yield app, seeded, store
    backend.close()
    catalog.dispose()


def _login(client: TestClient, username: str, password: str = PASSWORD, **extra: str):
    client.get("/login")
    data = {"username": username, "password": password, "csrf": client.cookies.get("kholuu_csrf") or ""}
    data.update(extra)
    return client.post("/login", data=data, follow_redirects=False)


def test_login_sets_a_safe_session_cookie_and_logout_ends_the_session(app_env) -> None:
    app, seeded, _ = app_env
    client = TestClient(app)
    r = _login(client, "nnc", next="/browse")
    assert r.status_code == 303 and r.headers["location"] == "/browse"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kholuu_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie           # plain http here; https sets Secure (below)
    token = client.cookies.get("kholuu_session")
    home = client.get("/")
    assert "Đăng xuất" in home.text and "Nguyễn &lt;b&gt;Nghiên&lt;/b&gt; Cứu" in home.text
    assert home.headers["cache-control"] == "private, no-store"
    r = client.post("/logout", data={"csrf": client.cookies.get("kholuu_csrf")}, follow_redirects=False)
    assert r.status_code == 303
    # the old token no longer opens a session, even if a copy of the cookie is kept
    other = TestClient(app)
    other.cookies.set("kholuu_session", token)
    assert "Đăng nhập" in other.get("/").text and "Đăng xuất" not in other.get("/").text


def test_secure_cookie_over_https(app_env) -> None:
    app, _, _ = app_env
    client = TestClient(app, base_url="https://kho.example")
    r = _login(client, "nnc")
    assert r.status_code == 303
    assert all("Secure" in c for c in r.headers.get_list("set-cookie"))


def test_wrong_password_and_unknown_user_get_the_same_answer(app_env) -> None:
    app, _, _ = app_env
    a = _login(TestClient(app), "nnc", "sai-mat-khau-roi")
    b = _login(TestClient(app), "khong-ton-tai", "sai-mat-khau-roi")
    assert a.status_code == b.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in a.text and "Tên đăng nhập hoặc mật khẩu không đúng." in b.text


def test_every_form_post_needs_the_csrf_token(app_env) -> None:
    app, _, _ = app_env
    posts = [r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or set())]
    assert set(posts) >= {"/login", "/logout"}
    for path in posts:
        client = TestClient(app)
        client.get("/")
        for data in ({}, {"csrf": ""}, {"csrf": "A" * 43}, {"username": "nnc", "password": PASSWORD}):
            r = client.post(path, data=data, follow_redirects=False)
            assert r.status_code == 403, (path, data)
            assert "kholuu_session" not in r.headers.get("set-cookie", "")
    # a form posted from another site is refused even with a token
    client = TestClient(app)
    client.get("/login")
    r = client.post("/login", data={"username": "nnc", "password": PASSWORD, "csrf": client.cookies.get("kholuu_csrf")},
                    headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert r.status_code == 403


def test_login_is_rate_limited_per_username(app_env) -> None:
    app, _, store = app_env
    store.add_user("bi-do", "researcher", hash_password(PASSWORD))
    client = TestClient(app)
    codes = [_login(client, "bi-do", f"sai-{i}-mat-khau").status_code for i in range(5)]
    assert codes == [401] * 5
    r = _login(client, "bi-do")        # right password, but locked for now
    assert r.status_code == 429 and "quá nhiều lần" in r.text
    assert any(e.action == "login_blocked" for e in store.audit_entries(limit=50))


def test_limiter_window() -> None:
    lim = LoginLimiter(per_user=2, per_ip=3, window_s=10)
    lim.failed("a", "1.1.1.1", now=0)
    assert lim.wait_s("a", "1.1.1.1", now=1) == 0
    lim.failed("A", "1.1.1.1", now=1)
    assert lim.wait_s("a", "2.2.2.2", now=2) > 0            # per name, any address
    assert lim.wait_s("a", "1.1.1.1", now=11.5) == 0         # the window slid past
    lim.failed("b", "9.9.9.9", now=20)
    lim.failed("c", "9.9.9.9", now=20)
    lim.failed("d", "9.9.9.9", now=20)
    assert lim.wait_s("e", "9.9.9.9", now=21) > 0            # per address, any name


def test_next_after_login_stays_on_this_site() -> None:
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "", "/x\r\nSet-Cookie: a=b"):
        assert safe_next(bad) == "/"
    assert safe_next("/search?q=a") == "/search?q=a"
    assert same_origin(None, "http", "h") and same_origin("http://h/x", "http", "h")
    assert not same_origin("http://h.evil/x", "http", "h") and not same_origin("null", "http", "h")


def test_payloads_in_forms_and_queries_come_back_escaped(app_env) -> None:
    app, _, store = app_env
    client = TestClient(app)
    r = _login(client, XSS, "sai-mat-khau-roi")
    assert r.status_code == 401 and "<script>alert(1)" not in r.text and "&lt;script&gt;" in r.text
    r = client.get("/search", params={"q": XSS})
    assert "<script>alert(1)" not in r.text and "onerror=alert(2)>" not in r.text
    r = client.get("/login", params={"next": '"><script>alert(3)</script>'})
    assert "<script>alert(3)" not in r.text
    # the audit page shows the logged payloads as text
    admin = TestClient(app)
    _login(admin, "qt")
    page = admin.get("/admin/audit").text
    assert XSS[:20] not in page and "&lt;script&gt;alert(1)" in page
    assert not re.search(r"<script(?![^>]*src=\"/static/)", page)


def test_security_headers_on_pages_errors_api_images_and_login(app_env) -> None:
    app, seeded, _ = app_env
    client = TestClient(app)
    urls = ["/", "/login", "/search?q=a", "/documents/987654", "/api/search?q=a", "/api/documents/987654",
            f"/pages/{seeded.page_ids['ct08'][0]}/image?w=200", "/admin/audit"]
    for url in urls:
        r = client.get(url)
        assert r.headers["content-security-policy"] == CSP, url
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY", url
    assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP
    r = client.post("/login", data={})
    assert r.status_code == 403 and r.headers["content-security-policy"] == CSP
    # no inline script anywhere in the templates
    html = client.get("/login").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_disabled_user_loses_the_session(app_env) -> None:
    app, _, store = app_env
    store.add_user("tam-thoi", "researcher", hash_password(PASSWORD))
    client = TestClient(app)
    assert _login(client, "tam-thoi").status_code == 303
    assert "Đăng xuất" in client.get("/").text
    store.set_active("tam-thoi", False)
    assert "Đăng xuất" not in client.get("/").text
    assert _login(TestClient(app), "tam-thoi").status_code == 401
