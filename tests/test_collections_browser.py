"""An editor builds a collection and exports it, in Debian's chromium (headless,
Playwright): log in, create the collection, add documents from the result list
and from a document page, reorder, annotate, order by date, export the PDF and
read its table of contents. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from test_collections_support import PASSWORD, World, make_world, pdf_text
from browser_support import SHOTS, serve
from test_ui_browser import browser, page  # noqa: F401 - the shared chromium fixtures

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = make_world(tmp_path_factory.mktemp("coll-ui") / "home")
    try:
        with serve(world.app) as base:
            yield base, world
    finally:
        world.backend.close()
        world.catalog.dispose()


def _shot(pg: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_editor_builds_a_collection_and_exports_it(site, page, tmp_path: Path) -> None:  # noqa: F811
    base, world = site
    page.goto(base + "/login")
    page.fill("input[name=username]", "btv")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(base + "/")
    page.get_by_role("link", name="Tập văn kiện").click()
    page.wait_for_url(base + "/collections")
    page.fill("#new-title", "Văn kiện về nông thôn mới")
    page.get_by_role("button", name="Tạo tập").click()
    page.wait_for_url(re.compile(r"/collections/\d+$"))
    cid = int(page.url.rsplit("/", 1)[1])

    # two documents from the result list (the form brings the editor back to the results)
    page.goto(base + "/search?q=n%C3%B4ng+th%C3%B4n+m%E1%BB%9Bi")
    _shot(page, "21-results-editor")
    for i in range(2):
        page.locator("li.result").nth(i).get_by_role("button", name="Thêm vào tập").click()
        page.wait_for_url(re.compile(r"/search\?q="))
    # one from its document page
    page.goto(f"{base}/documents/{world.doc('bc112')}")
    _shot(page, "22-document-editor")
    page.locator(".doc-actions").get_by_role("button", name="Thêm vào tập").click()
    page.wait_for_url(f"{base}/collections/{cid}")
    items = page.locator("li.coll-item h2")
    assert items.count() == 3

    first = items.nth(0).inner_text()
    page.locator("li.coll-item").nth(0).get_by_role("button", name=re.compile("xuống", re.IGNORECASE)).click()
    page.wait_for_load_state()
    assert page.locator("li.coll-item h2").nth(1).inner_text() == first
    note = page.locator(f"#note-{world.doc('ct08')}")
    note.fill("Bản chụp từ bản gốc; đã đối chiếu dấu thanh.")
    page.locator(f"#item-{world.doc('ct08')}").get_by_role("button", name="Lưu ghi chú").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Sắp xếp theo ngày ban hành").click()
    page.wait_for_load_state()
    titles = page.locator("li.coll-item h2").all_inner_texts()
    assert titles == ["Báo cáo 112-BC/VPTU", "Nghị quyết 05-NQ/TU", "Chỉ thị 08-CT/TU"]
    assert page.locator(f"#note-{world.doc('ct08')}").input_value() == "Bản chụp từ bản gốc; đã đối chiếu dấu thanh."
    _shot(page, "20-collection")

    # dragging (progressive enhancement): the last document dropped on top of the first
    page.set_viewport_size({"width": 1366, "height": 1600})     # both items on screen
    src = page.locator(f"#item-{world.doc('ct08')} .coll-num").bounding_box()
    dst = page.locator(f"#item-{world.doc('bc112')}").bounding_box()
    page.mouse.move(src["x"] + 5, src["y"] + 5)
    page.mouse.down()
    page.mouse.move(src["x"] + 10, src["y"] - 10, steps=5)
    page.mouse.move(dst["x"] + 20, dst["y"] + 5, steps=20)
    with page.expect_navigation():             # the drop posts the new order and comes back
        page.mouse.up()
    titles = page.locator("li.coll-item h2").all_inner_texts()
    assert titles == ["Chỉ thị 08-CT/TU", "Báo cáo 112-BC/VPTU", "Nghị quyết 05-NQ/TU"]

    with page.expect_download() as dl:
        page.locator("#export-pdf").click()
    out = tmp_path / "tap.pdf"
    dl.value.save_as(out)
    pdf = out.read_bytes()
    toc = pdf_text(pdf, first=2, last=2, layout=True)
    found = [m[1] for m in re.finditer(r"^\s*\d+\. (\S+ \S+ [^ ]+)", toc, re.MULTILINE)]
    assert found == titles, toc
    assert "Bản chụp từ bản gốc; đã đối chiếu dấu thanh." in pdf_text(pdf)
