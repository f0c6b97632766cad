"""Extraction on real Tesseract output of rendered two-column pages (slow)."""

from __future__ import annotations

from datetime import date

import pytest

from extraction import extract, split_documents


@pytest.fixture(scope="module")
def ocr_pages(tmp_path_factory):
    from kholuu.settings import load_settings
    from ocr import OcrOptions, ocr_page
    from ocr.synthetic import Line, party_lines, render

    tmp = tmp_path_factory.mktemp("extraction-ocr")
    settings = load_settings({"KHOLUU_HOME": str(tmp / "home"), "KHOLUU_OCR_WORKERS": "1"})
    settings.ensure_dirs()
    options = OcrOptions.from_settings(settings)
    first = party_lines()
    second = [
        Line("2", 4.13, 0.6, 12, centered=True),
        Line("Hai là, các huyện ủy, thành ủy báo cáo kết quả về Văn phòng Tỉnh ủy trước", 1.2, 1.0, 13),
        Line("ngày 30 tháng 11 năm 2021 để tổng hợp, báo cáo Ban Thường vụ Tỉnh ủy.", 1.2, 1.3, 13),
        Line("Nơi nhận:", 1.0, 2.0, 12, "serif-bold"),
        Line("- Các huyện ủy, thành ủy,", 1.0, 2.25, 12),
        Line("- Lưu Văn phòng Tỉnh ủy.", 1.0, 2.5, 12),
        Line("T/M BAN THƯỜNG VỤ", 5.9, 2.0, 13, "serif-bold", centered=True),
        Line("BÍ THƯ", 5.9, 2.3, 13, "serif-bold", centered=True),
        Line("Nguyễn Văn An", 5.9, 3.3, 13, "serif-bold", centered=True),
    ]
    texts = []
    for i, lines in enumerate((first, second), 1):
        path = tmp / f"p{i}.png"
        render(lines, dpi=300).image.save(path)
        texts.append(ocr_page(path, options, source=str(path), page=1).text)
    return texts


@pytest.mark.slow
def test_metadata_from_ocr_of_a_two_column_party_document(ocr_pages):
    result = extract("\n\n".join(ocr_pages))
    m = result.metadata
    assert m.doc_type == "Chỉ thị"
    assert m.number_symbol == "08-CT/TU"
    assert m.issuer == "TỈNH ỦY THÁI BÌNH"
    assert m.place == "Thái Bình" and m.issued_date == date(2021, 3, 15)
    assert m.subject and m.subject.startswith("về đẩy mạnh xây dựng nông thôn mới")
    assert m.signer_name == "Nguyễn Văn An"
    assert m.signer_title == "BÍ THƯ"
    assert any(e.canonical == "Tỉnh ủy Thái Bình" for e in result.entities)


@pytest.mark.slow
def test_boundaries_on_ocr_text(ocr_pages):
    plans = split_documents([ocr_pages[0], ocr_pages[1], "", ocr_pages[0]])
    assert [p.page_seqs for p in plans] == [[0, 1, 2], [3]]
