"""Access in a real browser (Debian chromium, headless, Playwright): log in with
the Vietnamese form, see a granted document appear, log out, and check that a
form posted from another site and XSS payloads get nowhere."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Iterator

import pytest

from kholuu.access import hash_password
from kholuu.catalog import Catalog
from kholuu.catalog.users import AccessStore
from kholuu.model import DocumentMetadata
from kholuu.settings import load_settings
from browser_support import SHOTS, launch_chromium, serve
from test_web_support import SampleDoc, make_backend, seed_catalog

pytestmark = pytest.mark.browser
PASSWORD = "mat-khau-trinh-duyet"
XSS = "<img src=x onerror=alert(document.cookie)>"

DOCS = [
    SampleDoc(key="pub", fonds="F01", entities=[], file_number="1",
              metadata=DocumentMetadata(doc_type="Chỉ thị", number_symbol="08-CT/TU", subject="Về nông thôn mới"),
              pages=[["CHỈ THỊ", "về xây dựng nông thôn mới"]]),
    SampleDoc(key="cond", fonds="F01", entities=[], file_number="1", access_mode="conditional",
              metadata=DocumentMetadata(doc_type="Báo cáo", number_symbol="77-BC/TU", subject=f"Về nông thôn mới {XSS}"),
              pages=[["BÁO CÁO", f"nông thôn mới ở xã Bạchlong {XSS}"]]),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    from search_ui.app import create_app

    settings = load_settings({"KHOLUU_HOME": str(tmp_path_factory.mktemp("ui-acc") / "home")})
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    seeded = seed_catalog(settings, catalog, DOCS)
    store = AccessStore(catalog)
    store.add_user("nnc", "researcher", hash_password(PASSWORD), display_name="Nhà nghiên cứu Một")
    store.grant(seeded.doc_ids["cond"], username="nnc", expires_at=datetime.utcnow() + timedelta(days=3))
    backend = make_backend(settings, catalog)
    try:
        with serve(create_app(settings, catalog=catalog, backend=backend)) as base:
            yield base, seeded.doc_ids
    finally:
        backend.close()
        catalog.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launch_chromium() as b:
        yield b


def test_login_see_granted_document_logout_and_no_script_runs(site, browser) -> None:
    base, ids = site
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # anonymous: the conditional document is not there
    page.goto(f"{base}/search?q=n%C3%B4ng+th%C3%B4n+m%E1%BB%9Bi")
    assert "08-CT/TU" in page.content() and "77-BC/TU" not in page.content()
    assert page.goto(f"{base}/documents/{ids['cond']}").status == 404
    # log in through the form, typing a payload first (a wrong attempt)
    page.click("text=Đăng nhập")
    page.fill("#username", XSS)
    page.fill("#password", "sai-mat-khau-lan-1")
    page.click("form.login-form button[type=submit]")
    assert "không đúng" in page.content()
    page.fill("#username", "nnc")
    page.fill("#password", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state()
    assert "Nhà nghiên cứu Một" in page.content()
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["kholuu_session"]["httpOnly"] and cookies["kholuu_session"]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""          # HttpOnly: scripts cannot read either cookie
    page.goto(f"{base}/search?q=B%E1%BA%A1chlong")
    assert "77-BC/TU" in page.content()
    page.goto(f"{base}/documents/{ids['cond']}")
    assert "Bạchlong" in page.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "access-granted-document.png"))
    # a form on another origin posting to the logout URL is refused (CSRF)
    page.set_content(f'<form id="f" method="post" action="{base}/logout"><input name="csrf" value="x"></form>')
    with page.expect_navigation():
        page.evaluate("document.getElementById('f').submit()")
    assert "hết hạn" in page.content() or "từ chối" in page.content()
    page.goto(f"{base}/")
    assert "Nhà nghiên cứu Một" in page.content()       # still logged in
    # log out with the page's own button
    page.click("form.logout button")
    page.wait_for_load_state()
    assert "Đăng nhập" in page.content() and "Nhà nghiên cứu Một" not in page.content()
    assert page.goto(f"{base}/documents/{ids['cond']}").status == 404
    assert dialogs == []                                   # no payload ever ran
    context.close()
