"""The exported volume, read back with poppler: the table of contents lists the
documents in the collection's order with the pages they start on, Vietnamese
text survives intact, every font is embedded; CSV and JSON carry the metadata."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from datetime import date, datetime
from typing import Iterator

import pytest

from search_ui.export import ExportDoc, ExportVolume, volume_csv, volume_pdf
from test_collections_support import World, client_for, make_world, new_collection, pdf_text, post

TOC_LINE = re.compile(r"^\s*(\d+)\. (.+?)\s*(?:\. ?)+\s*(\d+)\s*$")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = make_world(tmp_path_factory.mktemp("export") / "home")
    yield w
    w.backend.close()
    w.catalog.dispose()


@pytest.fixture(scope="module")
def volume(world: World) -> tuple[int, bytes, list[int]]:
    """A collection of three documents, the first with a long note so the others start later."""
    c = client_for(world, "btv")
    cid = new_collection(c, "Văn kiện Tỉnh ủy về nông thôn mới")
    keys = ["nq05", "bc112", "ct08"]
    for key in keys:
        post(c, "/collections/add", collection=cid, document=world.doc(key))
    long_note = " ".join(["Đối chiếu với bản lưu tại Văn phòng Tỉnh ủy, sửa lỗi nhận dạng dấu thanh."] * 60)
    post(c, "/collections/note", collection=cid, document=world.doc("nq05"), note=long_note)
    r = c.get(f"/collections/{cid}/export/pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert "attachment" in r.headers["content-disposition"] and ".pdf" in r.headers["content-disposition"]
    return cid, r.content, [world.doc(k) for k in keys]


def _toc(pdf: bytes) -> list[tuple[int, str, int]]:
    lines = pdf_text(pdf, first=2, last=2, layout=True).splitlines()
    assert any("MỤC LỤC" in line for line in lines)
    return [(int(m[1]), m[2], int(m[3])) for m in map(TOC_LINE.match, lines) if m]


def test_table_of_contents_lists_documents_in_order_with_their_page_numbers(volume) -> None:
    _, pdf, _ = volume
    toc = _toc(pdf)
    assert [n for n, _, _ in toc] == [1, 2, 3]
    titles = [t for _, t, _ in toc]
    assert titles[0].startswith("Nghị quyết 05-NQ/TU (02/06/2019)")
    assert titles[1].startswith("Báo cáo 112-BC/VPTU (20/11/1998)")
    assert titles[2].startswith("Chỉ thị 08-CT/TU (15/03/2021)")
    pages = [p for _, _, p in toc]
    assert pages[0] == 3 and pages[0] < pages[1] - 1 < pages[2] - 1     # the long note takes more than a page
    for n, title, page in toc:
        heading = f"{n}. {title.split(' — ')[0]}"
        assert heading in pdf_text(pdf, first=page, last=page), (heading, page)      # it starts there
        if page - 1 > 2:                                  # page 2 is the table of contents itself
            assert heading not in pdf_text(pdf, first=page - 1, last=page - 1)
        # ... and the number printed at the foot of that page is the same
        assert pdf_text(pdf, first=page, last=page, layout=True).rstrip().splitlines()[-1].strip() == str(page)


def test_vietnamese_text_comes_out_intact_and_fonts_are_embedded(volume) -> None:
    _, pdf, _ = volume
    text = pdf_text(pdf)
    for phrase in ("Văn kiện Tỉnh ủy về nông thôn mới", "TẬP VĂN KIỆN", "Gồm 3 văn bản", "Biên tập: Biên tập btv",
                   "Ban Thường vụ Tỉnh ủy yêu cầu các huyện ủy, thành ủy", "Kho lưu trữ đã chỉnh lý 240 hồ sơ",
                   "Cơ quan ban hành", "Trích yếu", "Trích dẫn", "Phông F01, Mục lục 01, Hồ sơ 12, tờ 1-2",
                   "Ghi chú của biên tập viên", "sửa lỗi nhận dạng dấu thanh"):
        assert phrase in text, phrase
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, timeout=30, check=True)
    rows = fonts.stdout.decode().splitlines()[2:]
    assert rows and all(re.match(r"^\S+\+\S+\s+TrueType.*\byes\s+yes\s+yes\b", r) for r in rows), rows


def test_page_images_are_included_when_asked(world: World, volume) -> None:
    cid, plain, _ = volume
    c = client_for(world, "btv")
    with_images = c.get(f"/collections/{cid}/export/pdf", params={"images": "1"}).content
    listing = subprocess.run(["pdfimages", "-list", "-"], input=with_images, capture_output=True, timeout=30)
    if listing.returncode:       # older poppler reads no stdin: count the image XObjects instead
        n_images = with_images.count(b"/Subtype /Image")
    else:
        n_images = len(listing.stdout.decode().splitlines()) - 2
    assert n_images == 4                                 # nq05 1 page, bc112 1, ct08 2
    assert b"/Subtype /Image" not in plain
    assert "Ảnh trang 2 — Phông F01, Mục lục 01, Hồ sơ 12" in pdf_text(with_images)


def test_csv_and_json_carry_the_metadata_in_order(world: World, volume) -> None:
    cid, _, ids = volume
    c = client_for(world, "btv")
    raw = c.get(f"/collections/{cid}/export/csv")
    assert raw.headers["content-type"].startswith("text/csv") and raw.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.content.decode("utf-8-sig"))))
    assert [int(r["Mã văn bản"]) for r in rows] == ids
    assert rows[2]["Số, ký hiệu"] == "08-CT/TU" and rows[2]["Ngày ban hành"] == "2021-03-15"
    assert rows[2]["Cơ quan ban hành"] == "Tỉnh ủy Thái Bình" and rows[2]["Trích dẫn"].startswith("Phông F01")
    assert rows[0]["Ghi chú của biên tập viên"].startswith("Đối chiếu với bản lưu")
    data = json.loads(c.get(f"/collections/{cid}/export/json").content)
    assert data["title"] == "Văn kiện Tỉnh ủy về nông thôn mới" and data["count"] == 3
    assert [d["id"] for d in data["documents"]] == ids and data["documents"][1]["number_symbol"] == "112-BC/VPTU"


def _doc(**kw) -> ExportDoc:
    base = dict(id=1, title="Công văn 1-CV/TU", doc_type="Công văn", number_symbol="1-CV/TU",
                issued_date=date(2001, 1, 2), issuer="Tỉnh ủy", place=None, subject="Về <b>việc</b> & cách",
                signer="", fonds="F01", register="01", file_number="1", citation="Phông F01", full_citation="",
                access_mode="public", page_count=1)
    base.update(kw)
    return ExportDoc(**base)


def test_text_with_markup_and_formulas_is_exported_as_text() -> None:
    vol = ExportVolume("Tập <i>thử</i>", "", datetime(2026, 1, 1),
                       [_doc(note="=HYPERLINK(\"http://x\")", text="a < b && c > d\n<para>không phải thẻ</para>")])
    text = pdf_text(volume_pdf(vol))
    assert "Tập <i>thử</i>" in text and "Về <b>việc</b> & cách" in text and "a < b && c > d" in text
    assert "<para>không phải thẻ</para>" in text
    row = list(csv.reader(io.StringIO(volume_csv(vol).lstrip("\ufeff"))))[1]
    assert "'=HYPERLINK(\"http://x\")" in row          # a spreadsheet shows it, never runs it


def test_an_empty_collection_still_exports_a_volume() -> None:
    text = pdf_text(volume_pdf(ExportVolume("Tập trống", "", datetime(2026, 1, 1), [])))
    assert "Gồm 0 văn bản" in text and "chưa có văn bản nào" in text


def test_docx_has_the_documents_in_order_with_metadata_notes_and_a_table_of_contents(world: World, volume) -> None:
    from docx import Document

    cid, _, ids = volume
    r = client_for(world, "btv").get(f"/collections/{cid}/export/docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    doc = Document(io.BytesIO(r.content))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["1. Nghị quyết 05-NQ/TU (02/06/2019)", "2. Báo cáo 112-BC/VPTU (20/11/1998)",
                        "3. Chỉ thị 08-CT/TU (15/03/2021)"]
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Văn kiện Tỉnh ủy về nông thôn mới" in body and "MỤC LỤC" in body
    assert "Ban Thường vụ Tỉnh ủy yêu cầu các huyện ủy, thành ủy" in body
    assert "Ghi chú của biên tập viên: Đối chiếu với bản lưu" in body
    xml = doc.element.xml
    assert 'TOC \\o "1-1"' in xml                                      # Word fills in the page numbers
    assert [[c.text for c in row.cells] for row in doc.tables[2].rows][1] == ["Số, ký hiệu", "08-CT/TU"]
    assert doc.styles["Normal"].font.name == "Liberation Serif"
    # the font is embedded as Word embeds it: obfuscated with the key the font table names
    import zipfile
    from search_ui.export_docx import EMBED_FILES, obfuscate

    z = zipfile.ZipFile(io.BytesIO(r.content))
    table = z.read("word/fontTable.xml").decode()
    rels = z.read("word/_rels/fontTable.xml.rels").decode()
    assert "<w:embedTrueTypeFonts/>" in z.read("word/settings.xml").decode()
    for tag, path in EMBED_FILES.items():
        rid, key = re.search(rf'<{tag} r:id="(\w+)" w:fontKey="(\{{[0-9A-F-]+\}})"', table).groups()
        target = re.search(rf'Id="{rid}" Type="[^"]+/font" Target="([^"]+)"', rels)[1]
        embedded = z.read(f"word/{target}")
        assert embedded != open(path, "rb").read() and obfuscate(embedded, key) == open(path, "rb").read()
    assert doc.core_properties.title == "Văn kiện Tỉnh ủy về nông thôn mới"
