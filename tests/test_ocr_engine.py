"""ocr_page / ocr_many with real Tesseract: words, boxes in original coordinates, cache, errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image

from kholuu.errors import KholuuError
from kholuu.model import PageOCR
from ocr import OcrJob, OcrOptions, ocr_many, ocr_page
from ocr import engine as engine_module
from ocr.errors import TruncatedImageError
from ocr.synthetic import Line, RenderedPage, render

LINES = [
    Line("ĐẢNG CỘNG SẢN VIỆT NAM", 2.0, 0.3, 14, "serif-bold"),
    Line("Số 08-CT/TU", 0.5, 0.8, 13),
    Line("Thái Bình, ngày 15 tháng 3 năm 2021", 2.6, 0.8, 13),
    Line("về đẩy mạnh xây dựng nông thôn mới trong toàn tỉnh", 0.9, 1.3, 13),
]
SIZE_IN = (6.0, 1.8)


def _overlap(a, b) -> float:
    """Intersection over the smaller box."""
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / small if small else 0.0


def _word(result: PageOCR, text: str):
    matches = [w for w in result.words if w.text == text]
    assert matches, f"{text!r} not in {[w.text for w in result.words]}"
    return matches[0]


@pytest.fixture(scope="module")
def page300() -> RenderedPage:
    return render(LINES, dpi=300, size_in=SIZE_IN)


@pytest.fixture
def opts(tmp_path: Path) -> OcrOptions:
    return OcrOptions(cache_dir=tmp_path / "cache", timeout_s=60, workers=2)


def test_words_come_back_with_boxes_where_they_were_drawn(tmp_path, opts, page300):
    path = tmp_path / "page.png"
    page300.image.save(path, dpi=(300, 300))
    result = ocr_page(path, opts, source="page.png", page=1)
    for phrase in ("ĐẢNG CỘNG SẢN VIỆT NAM", "Số 08-CT/TU", "ngày 15 tháng 3 năm 2021", "xây dựng nông thôn mới"):
        assert phrase in result.text
    assert result.confidence > 80 and not result.blank
    assert result.engine.startswith("tesseract") and len(result.settings_hash) == 16
    for text in ("08-CT/TU", "Bình,", "nông"):
        assert _overlap(_word(result, text).bbox, page300.box_of(text)) > 0.8
    assert (result.width, result.height) == page300.image.size


def test_rotated_page_is_read_and_boxes_stay_in_original_coordinates(tmp_path, opts, page300):
    turned = page300.image.rotate(90, expand=True)  # counter-clockwise: the scan lies on its side
    path = tmp_path / "turned.png"
    turned.save(path, dpi=(300, 300))
    result = ocr_page(path, opts, source="turned.png", page=1)
    assert "xây dựng nông thôn mới" in result.text
    assert any("rotate" in s for s in result.steps)
    x0, y0, x1, y1 = page300.box_of("08-CT/TU")
    expected = (y0, page300.image.width - x1, y1, page300.image.width - x0)
    assert _overlap(_word(result, "08-CT/TU").bbox, expected) > 0.8
    assert (result.width, result.height) == turned.size


def test_low_dpi_page_is_upscaled_but_boxes_are_in_its_own_pixels(tmp_path, opts):
    page150 = render(LINES, dpi=150, size_in=SIZE_IN)
    path = tmp_path / "p150.png"
    page150.image.save(path, dpi=(150, 150))
    result = ocr_page(path, opts, source="p150.png", page=1)
    assert any(s.startswith("upscale") for s in result.steps)
    assert "Số 08-CT/TU" in result.text
    box = _word(result, "08-CT/TU").bbox
    assert _overlap(box, page150.box_of("08-CT/TU")) > 0.7
    assert max(box) <= max(page150.image.size)


def test_blank_page_is_a_blank_result_not_an_error(tmp_path, opts, monkeypatch):
    path = tmp_path / "blank.png"
    Image.new("L", (1200, 1600), 250).save(path)
    monkeypatch.setattr(engine_module.tesseract, "image_to_words",
                        lambda *a, **k: pytest.fail("Tesseract must not run on a blank page"))
    result = ocr_page(path, opts, source="blank.png", page=3)
    assert result.blank and result.text == "" and result.words == [] and result.page == 3


def test_second_run_hits_the_cache(tmp_path, opts, page300, monkeypatch):
    path = tmp_path / "page.png"
    page300.image.save(path, dpi=(300, 300))
    start = time.perf_counter()
    first = ocr_page(path, opts, source="a.png", page=1)
    first_s = time.perf_counter() - start
    monkeypatch.setattr(engine_module.tesseract, "image_to_words",
                        lambda *a, **k: pytest.fail("cache miss: Tesseract ran again"))
    start = time.perf_counter()
    second = ocr_page(path, opts, source="b.png", page=2)
    second_s = time.perf_counter() - start
    assert second.text == first.text and second.words == first.words
    assert (second.source, second.page) == ("b.png", 2)
    assert second_s < first_s / 5
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 1


def test_ocr_many_goes_on_past_a_bad_page(tmp_path, opts, page300):
    good = tmp_path / "good.png"
    page300.image.save(good, dpi=(300, 300))
    bad = tmp_path / "bad.png"
    bad.write_bytes(good.read_bytes()[:2000])
    blank = tmp_path / "blank.png"
    Image.new("L", (800, 600), 255).save(blank)
    jobs = [OcrJob(bad, "bad.png", 1), OcrJob(good, "good.png", 1), OcrJob(blank, "blank.png", 1)]
    results = dict(ocr_many(jobs, opts))
    assert sorted(results) == [0, 1, 2]
    assert isinstance(results[0], TruncatedImageError) and "bad.png" in str(results[0])
    assert isinstance(results[1], PageOCR) and "08-CT/TU" in results[1].text
    assert isinstance(results[2], PageOCR) and results[2].blank
    assert not isinstance(results[1], KholuuError)


def test_page_pixels_from_the_raw_packer_equal_numpys_view():
    """ocr.engine._pixels uses Pillow's internal raw encoder for speed; it must give exactly
    np.asarray's array for the modes pages are read in (L, RGB), odd widths included."""
    import numpy as np
    from PIL import Image

    from ocr.engine import _pixels

    rng = np.random.default_rng(3)
    for shape, mode in (((37, 53), "L"), ((41, 29, 3), "RGB"), ((700, 1001), "L"), ((301, 257, 3), "RGB")):
        img = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
        got = _pixels(img)
        assert got.shape == shape and got.dtype == np.uint8
        assert np.array_equal(got, np.asarray(img)), (shape, mode)
