"""The web interface in a real browser: Debian's chromium, headless, via Playwright.

The app runs under uvicorn on a free localhost port in a thread, over a real
SQLite catalog and the embedded index. Screenshots of the main pages go to
test-output/screenshots/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import expect

from kholuu.catalog import Catalog
from kholuu.settings import load_settings
from browser_support import SHOTS, launch_chromium, serve
from test_web_support import Seeded, make_backend, seed_catalog

pytestmark = pytest.mark.browser


class Site:
    def __init__(self, base: str, seeded: Seeded):
        self.base, self.seeded = base, seeded


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from search_ui.app import create_app

    home = tmp_path_factory.mktemp("ui") / "home"
    settings = load_settings({"KHOLUU_HOME": str(home)})
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    seeded = seed_catalog(settings, catalog)
    backend = make_backend(settings, catalog)
    try:
        with serve(create_app(settings, catalog=catalog, backend=backend)) as base:
            yield Site(base, seeded)
    finally:
        backend.close()
        catalog.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launch_chromium() as b:
        yield b


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.problems = problems
    yield pg
    context.close()
    # no CSP violations, no script errors, no alert() from injected text
    assert problems == [], problems


def _wait(page: object, js: str, timeout: float = 10.0) -> None:
    """Poll a JS expression (wait_for_function would need 'unsafe-eval', which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(js):
        assert time.monotonic() < deadline, f"timed out waiting for {js}"
        time.sleep(0.05)


def _shot(page: object, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def test_search_facet_document_with_hit_boxes(site: Site, page: object) -> None:
    page.goto(site.base + "/")
    _shot(page, "01-home")
    box = page.locator("#q")
    box.fill("nông thôn mới")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    results = page.locator("li.result")
    assert results.count() == 2
    assert page.locator("li.result .snippet mark").count() >= 2
    assert "q=n%C3%B4ng+th%C3%B4n+m%E1%BB%9Bi" in page.url
    _shot(page, "02-search")

    # a facet narrows the results and shows as a removable filter
    page.locator('.facet[data-facet="doc_type"] a', has_text="Nghị quyết").click()
    page.wait_for_url(re.compile(r"type=Ngh"))
    assert page.locator("li.result").count() == 1
    assert "Nghị quyết 05-NQ/TU" in page.locator("li.result h2").inner_text()
    assert page.locator(".chips a", has_text="Loại văn bản").count() == 1
    _shot(page, "03-search-facet")
    page.locator(".chips a", has_text="Loại văn bản").click()
    expect(page.locator("li.result")).to_have_count(2)

    # open the document: the hits are drawn as boxes over the page image
    page.locator("li.result h2 a", has_text="Chỉ thị 08-CT/TU").click()
    page.wait_for_url(re.compile(r"/documents/\d+"))
    _wait(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("h1").inner_text() == "Chỉ thị 08-CT/TU"
    assert "15/03/2021" in page.locator(".meta-table").inner_text()
    img = page.locator("#page-1 .page-image img").bounding_box()
    rects = page.locator("#page-1 svg.hits rect")
    assert rects.count() == 2        # two hits on page 1, each one line of three words
    for i in range(rects.count()):
        r = rects.nth(i).bounding_box()
        assert r["width"] > 5 and r["height"] > 5
        assert img["x"] <= r["x"] and r["x"] + r["width"] <= img["x"] + img["width"] + 1
        assert img["y"] <= r["y"] and r["y"] + r["height"] <= img["y"] + img["height"] + 1
    # the first box sits where "nông" was drawn: 1/3 of the way down the rendered page at most
    first = rects.first.bounding_box()
    assert (first["y"] - img["y"]) / img["height"] < 0.35
    assert page.locator(".ocr-text mark").count() >= 2
    _shot(page, "04-document", full=False)

    # keyboard: next hit moves across pages, the counter follows
    page.locator("body").press("n")
    page.locator("body").press("n")
    expect(page.locator("[data-hit-current]")).to_have_text("3")
    assert page.locator("#page-2 g.hit.current").count() == 1
    page.locator("body").press("p")
    expect(page.locator("[data-hit-current]")).to_have_text("2")
    _shot(page, "05-document-next-hit", full=False)

    # zoom makes the page image wider
    before = page.locator("#page-1 .page-image").bounding_box()["width"]
    page.locator('[data-zoom="in"]').click()
    after = page.locator("#page-1 .page-image").bounding_box()["width"]
    assert after > before * 1.3
    # a zoomed page can be dragged with the mouse
    page.locator('[data-zoom="in"]').click()
    frame = page.locator("#page-1 .page-frame")
    box = frame.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 150, box["y"] + box["height"] / 2 - 100, steps=5)
    page.mouse.up()
    assert frame.evaluate("f => f.scrollLeft") > 50


def test_instant_search_updates_results_and_url(site: Site, page: object) -> None:
    page.goto(site.base + "/search?q=b%C3%A1o+c%C3%A1o")
    page.locator("#q").fill("nong thon moi")
    expect(page.locator("li.result")).to_have_count(2)
    page.wait_for_url(re.compile(r"q=nong\+thon\+moi"))
    assert page.locator("li.result mark").count() >= 2


def test_keyboard_slash_focuses_search_and_links_are_reachable(site: Site, page: object) -> None:
    page.goto(site.base + "/browse")
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("lưu trữ")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    # tab from the search box reaches the first result title link
    page.locator("#q").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('li.result h2') !== null"):
            break
    else:
        pytest.fail("no result link reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/documents/\d+"))
    _shot(page, "06-browse-to-document", full=False)


def test_injected_markup_is_shown_as_text(site: Site, page: object) -> None:
    doc = site.seeded.doc_ids["xss"]
    page.goto(f"{site.base}/documents/{doc}?q=ki%E1%BB%83m+tra")
    assert "<script>alert('xss')</script>" in page.locator(".ocr-text").first.inner_text()
    assert page.locator(".doc-subject b").count() == 0
    page.goto(site.base + "/search?q=ki%E1%BB%83m+tra+h%E1%BB%87+th%E1%BB%91ng")
    assert page.locator("li.result").count() >= 1
    assert page.locator("li.result script, li.result b").count() == 0
    # the page fixture asserts no dialog opened and no console/CSP errors


def test_browse_pages(site: Site, page: object) -> None:
    page.goto(site.base + "/browse")
    _shot(page, "07-browse")
    page.locator("table.data a", has_text="Phông Tỉnh ủy Thái Bình").first.click()
    page.wait_for_url(re.compile(r"/browse/F01$"))
    page.locator("table.data a", has_text="12").click()
    page.wait_for_url(re.compile(r"/browse/files/\d+"))
    titles = page.locator("table.data tbody a").all_inner_texts()
    assert titles == ["Nghị quyết 05-NQ/TU", "Chỉ thị 08-CT/TU"]
    _shot(page, "08-browse-file")
    page.goto(site.base + "/documents/424242")
    assert "Không tìm thấy" in page.locator("h1").inner_text()
    page.problems.clear()   # the 404 itself is logged by chromium as a console error
