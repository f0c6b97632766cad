"""Two-column reading order (optional): header and signature bands read column by column."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocr import OcrOptions, ocr_page
from ocr.layout import Box, reading_order
from ocr.synthetic import party_page


def _line(*words: tuple[str, int, int], y: int = 0) -> list[Box[str]]:
    return [Box(x0, y, x1, y + 30, text) for text, x0, x1 in words]


def test_bands_are_read_column_by_column_and_body_keeps_its_order():
    lines = [
        _line(("TỈNH", 100, 200), ("ỦY", 210, 260), ("ĐẢNG", 1300, 1450), ("CỘNG", 1460, 1600), y=0),
        _line(("*", 170, 190), y=40),
        _line(("Số", 100, 150), ("08-CT/TU", 160, 330), ("Thái", 1250, 1350), ("Bình,", 1360, 1460), y=80),
        _line(("CHỈ", 1000, 1080), ("THỊ", 1090, 1170), y=140),
        _line(("Thực", 100, 200), ("hiện", 210, 300), ("Nghị", 310, 420), ("quyết", 430, 2300), y=200),
    ]
    order = [" ".join(b.item for b in line) for line in reading_order(lines, 2480)]
    assert order == ["TỈNH ỦY", "*", "Số 08-CT/TU", "ĐẢNG CỘNG", "Thái Bình,", "CHỈ THỊ", "Thực hiện Nghị quyết"]


@pytest.mark.slow
def test_ocr_page_column_order_option(tmp_path):
    path = tmp_path / "p.png"
    party_page(300).image.save(path, dpi=(300, 300))
    rows = ocr_page(path, OcrOptions(), source="p", page=1).text.splitlines()
    cols = ocr_page(path, OcrOptions(column_order=True), source="p", page=1).text.splitlines()
    assert rows[0] == "TỈNH ỦY THÁI BÌNH ĐẢNG CỘNG SẢN VIỆT NAM"
    assert cols[0] == "TỈNH ỦY THÁI BÌNH" and cols.index("ĐẢNG CỘNG SẢN VIỆT NAM") > cols.index("Số 08-CT/TU")
