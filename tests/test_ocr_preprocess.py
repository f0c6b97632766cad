"""Each preprocessing step on a synthetic case with a known answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr import OcrOptions, ocr_page, preprocess as pp, tesseract
from ocr.synthetic import BLUE_INK, Line, aged, faded, party_page, red_seal, red_stamp, render, skew, speckle

BODY = ["Ban Thường vụ Tỉnh ủy yêu cầu các cấp ủy đảng tập trung lãnh đạo",
        "xây dựng nông thôn mới bền vững trong năm 2021 và những năm tiếp theo",
        "Một là, tiếp tục đẩy mạnh công tác tuyên truyền, nâng cao nhận thức"]


@pytest.fixture(scope="module")
def page() -> Image.Image:
    lines = [Line(t, 0.5, 0.4 + i * 0.35, 13) for i, t in enumerate(BODY)]
    return render(lines, dpi=300, size_in=(7.0, 1.6)).image


def _gray(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"))


def test_grayscale_records_and_converts(page):
    step = pp.grayscale(np.asarray(page))
    assert step.image.ndim == 2 and step.record == "grayscale"
    assert pp.grayscale(step.image).record == "grayscale(already)"


@pytest.mark.slow
def test_rotation_by_known_angle_comes_back_upright(page, tmp_path):
    upright = _gray(page)
    for turned_ccw in (90, 180, 270):
        turned = np.asarray(page.convert("L").rotate(turned_ccw, expand=True))
        back = pp.rotate_orthogonal(turned, turned_ccw)  # undo: the same angle clockwise
        assert np.array_equal(back.image, upright)
        # the matrix maps a point of the turned image onto the upright one
        h, w = upright.shape
        corner = {90: (0, w), 180: (w, h), 270: (h, 0)}[turned_ccw]  # turned-image coords of upright (0,0)
        mapped = back.matrix @ np.array([corner[0], corner[1], 1.0])
        assert np.allclose(mapped[:2], (0, 0))
    # detection with Tesseract OSD on a full page turned by 90° counter-clockwise
    full = party_page(300).image.convert("L").rotate(90, expand=True)
    props = pp.measure(np.asarray(full), 300)
    assert props.vertical_text
    osd = tesseract.detect_orientation(np.asarray(full), timeout_s=60)
    assert osd is not None and osd.rotate == 90
    assert not pp.measure(np.asarray(party_page(300).image), 300).vertical_text


@pytest.mark.parametrize("angle", [3.0, -2.0])
def test_skewed_page_is_deskewed_within_half_a_degree(page, angle):
    skewed = _gray(skew(page, angle))
    assert abs(pp.estimate_skew(skewed) + angle) < 0.5
    step = pp.deskew(skewed)
    assert "deskew" in step.record and abs(step.data["angle"] + angle) < 0.5
    assert abs(pp.estimate_skew(step.image)) < 0.5
    assert pp.deskew(_gray(page)).record.startswith("deskew(skipped")


@pytest.mark.slow
def test_red_seal_over_text_no_longer_hides_it_and_stamp_is_reported(tmp_path):
    rendered = party_page(300)
    x0, y0, x1, y1 = rendered.box_of("08-CT/TU")
    img = red_seal(rendered.image, ((x0 + x1) // 2, (y0 + y1) // 2), 170)
    img = red_stamp(img, "MẬT", (1950, 160), 70)
    rgb = np.asarray(img)
    props = pp.measure(rgb, 300)
    assert props.red_fraction > 0.001
    assert "suppress_stamps" in pp.plan_steps(props)
    step = pp.suppress_stamps(rgb)
    # around the seal: plain grayscale has far more "ink" than the clean page; after suppression
    # only the black text is left, and the text under the seal is intact
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    region = (slice(cy - 175, cy + 175), slice(cx - 175, cx + 175))
    clean_ink = (_gray(rendered.image)[region] < 150).sum()
    assert (_gray(img)[region] < 150).sum() > 1.5 * clean_ink
    assert (step.image[region] < 150).sum() < 1.15 * clean_ink
    assert (step.image[y0:y1, x0:x1] < 100).sum() > 0.8 * (_gray(rendered.image)[y0:y1, x0:x1] < 100).sum()
    path = tmp_path / "seal.png"
    img.save(path, dpi=(300, 300))
    result = ocr_page(path, OcrOptions(timeout_s=60), source="seal.png", page=1)
    assert "Số 08-CT/TU" in result.text
    assert result.marks == ["MẬT"]
    assert any(s.startswith("suppress_stamps") for s in result.steps)


@pytest.mark.slow
def test_blue_seal_over_text_no_longer_hides_it_and_blue_stamp_is_reported(tmp_path):
    rendered = party_page(300)
    x0, y0, x1, y1 = rendered.box_of("08-CT/TU")
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    img = red_seal(rendered.image, (cx, cy), 170, colour=BLUE_INK)
    img = red_stamp(img, "KHẨN", (1950, 160), 70, colour=BLUE_INK)
    rgb = np.asarray(img)
    props = pp.measure(rgb, 300)
    assert props.blue_fraction > 0.001 and props.red_fraction < 0.0005
    assert pp.blue_is_stamp(props) and "suppress_stamps" in pp.plan_steps(props)
    assert pp.suppress_stamps(rgb).record.startswith("suppress_stamps(red,")  # red alone leaves blue ink
    step = pp.suppress_stamps(rgb, blue=True)
    assert step.record.startswith("suppress_stamps(red+blue,")
    region = (slice(cy - 175, cy + 175), slice(cx - 175, cx + 175))
    clean_ink = (_gray(rendered.image)[region] < 150).sum()
    assert (_gray(img)[region] < 150).sum() > 1.5 * clean_ink
    assert (step.image[region] < 150).sum() < 1.15 * clean_ink
    assert (step.image[y0:y1, x0:x1] < 100).sum() > 0.8 * (_gray(rendered.image)[y0:y1, x0:x1] < 100).sum()
    path = tmp_path / "blue-seal.png"
    img.save(path, dpi=(300, 300))
    result = ocr_page(path, OcrOptions(timeout_s=60), source="blue-seal.png", page=1)
    assert "Số 08-CT/TU" in result.text
    assert result.marks == ["KHẨN"]
    assert any(s.startswith("suppress_stamps(red+blue") for s in result.steps)


@pytest.mark.parametrize("ink, paper, blur", [(BLUE_INK, (255, 255, 255), 0.0),
                                              ((95, 80, 160), (232, 230, 222), 1.3)])  # violet carbon copy
def test_blue_text_ink_is_not_taken_for_a_stamp(page, ink, paper, blur):
    """A page typed in blue ink or a carbon copy keeps its text: its ink lies on blue."""
    from PIL import ImageFilter

    soft = page.convert("L").filter(ImageFilter.GaussianBlur(blur)) if blur else page.convert("L")
    amount = (1 - np.asarray(soft, dtype=np.float32) / 255.0)[..., None]
    out = np.array(paper, dtype=np.float32) * (1 - amount) + np.array(ink, dtype=np.float32) * amount
    props = pp.measure(np.clip(out, 0, 255).astype(np.uint8), 300)
    assert props.blue_fraction > 0.001 and props.blue_cover > 0.5
    assert not pp.blue_is_stamp(props) and "suppress_stamps" not in pp.plan_steps(props)


def test_upscale_is_planned_for_low_dpi_and_maps_back(page):
    small = page.resize((page.width // 2, page.height // 2), Image.LANCZOS)
    props = pp.measure(np.asarray(small), 150)
    assert props.effective_dpi == 150 and "upscale" in pp.plan_steps(props)
    # missing dpi: estimated from glyph heights
    guessed = pp.measure(np.asarray(small), None).effective_dpi
    assert 110 <= guessed <= 190
    step = pp.upscale(_gray(small), 150, 300)
    assert step.image.shape == (small.height * 2, small.width * 2)
    prep = pp.Preprocessed(_gray(small), np.eye(3), [], 150, props)
    prep.apply(step)
    prep.apply(pp.rotate_orthogonal(prep.image, 90))
    # upscaled ×2 then turned 90° clockwise: the top-left corner of the result is the bottom-left
    # of the original, at half the size
    assert prep.to_original((0, 0, 20, 40)) == (0, small.height - 10, 20, small.height)


def test_illumination_flattening_evens_the_background(page):
    dark = _gray(aged(page))
    props = pp.measure(dark, 300)
    assert props.unevenness > 25 and "flatten_illumination" in pp.plan_steps(props)
    flat = pp.flatten_illumination(dark).image
    assert pp.measure(flat, 300).unevenness < props.unevenness / 2


def test_very_faint_ink_gets_contrast_stretch(page):
    pale = _gray(faded(page, 0.8))
    props = pp.measure(pale, 300)
    assert "stretch_contrast" in pp.plan_steps(props)
    assert "stretch_contrast" not in pp.plan_steps(pp.measure(_gray(faded(page, 0.5)), 300))
    out = pp.stretch_contrast(pale).image
    assert np.percentile(out, 0.5) < np.percentile(pale, 0.5) - 30


def test_denoise_removes_specks_only_when_measured(page):
    noisy = _gray(speckle(page, 0.003))
    props = pp.measure(noisy, 300)
    assert props.speckle > 0.02 and "denoise" in pp.plan_steps(props)
    assert pp.measure(pp.denoise(noisy).image, 300).speckle < 0.005
    assert "denoise" not in pp.plan_steps(pp.measure(_gray(page), 300))


def test_binarize_is_adaptive_and_only_for_very_uneven_pages(page):
    clean_plan = pp.plan_steps(pp.measure(_gray(page), 300))
    assert clean_plan == ["grayscale", "deskew"]
    out = pp.binarize(_gray(aged(page))).image
    assert set(np.unique(out)) <= {0, 255}
    props = pp.ImageProperties(1000, 1400, 300, 300, False, 0, 0, 0.02, 200, 90, 0, False, False)
    assert "binarize" in pp.plan_steps(props)


def test_blank_page_is_measured_blank():
    assert pp.measure(np.full((1400, 1000), 245, np.uint8), None).blank
    assert pp.plan_steps(pp.measure(np.full((1400, 1000), 245, np.uint8), None)) == []


def test_scanner_border_and_punch_holes_are_cleaned():
    rendered = party_page(150)  # A4 at 150 dpi
    gray = _gray(rendered.image).copy()
    h, w = gray.shape
    gray[:, :25] = 30                       # dark scanner edge down the left side
    import cv2
    for cy in (int(h * 0.35), int(h * 0.65)):  # two 6 mm punch holes in the left margin
        cv2.circle(gray, (int(w * 0.06), cy), int(3 * 150 / 25.4), 20, -1)
    props = pp.measure(gray, 150)
    assert props.dark_edges > 0.2 and props.holes == 2
    assert "clean_borders" in pp.plan_steps(props)
    step = pp.clean_borders(gray)
    assert step.record == "clean_borders(1 border, 2 holes)"
    assert step.image[:, :25].min() == 255
    # the text is untouched
    x0, y0, x1, y1 = rendered.box_of("08-CT/TU")
    assert np.array_equal(step.image[y0:y1, x0:x1], gray[y0:y1, x0:x1])
    assert "clean_borders" not in pp.plan_steps(pp.measure(_gray(rendered.image), 150))
