"""Seals and MẬT/KHẨN stamps in the page's own gray (faded or gray scans): found by shape,
painted out, the stamp reported; pages without them are left alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr import OcrOptions, engine, ocr_page, preprocess as pp, tesseract
from ocr.synthetic import Line, faded, font_path, party_lines, red_seal, red_stamp, render

SIGNATURE = [Line("T/M BAN THƯỜNG VỤ", 5.6, 5.2, 13, "serif-bold", centered=True),
             Line("BÍ THƯ", 5.6, 5.5, 13, "serif-bold", centered=True),
             Line("Nguyễn Văn Hòa", 5.6, 6.6, 13, "serif-bold", centered=True)]
SEAL = (1444, 1654, 195)   # over the left part of the signature block, as a seal is applied
FAINT = 0.8                # ink faded to paper minus ~47 gray levels, as the faded typewriter bench pages


@pytest.mark.parametrize("faint", [False, True])
def test_gray_marks_are_looked_for_on_faint_pages_only(faint):
    """A dark gray seal is read through better than erased (real gray pages measured), and
    the search costs nothing on ordinary pages."""
    page = red_seal(render(party_lines() + SIGNATURE, dpi=300).image, SEAL[:2], SEAL[2])
    props = pp.measure(np.asarray(faded(page, FAINT if faint else 0.0)), 300)
    assert (props.contrast < pp.FAINT_CONTRAST) == faint
    assert len(props.seals) == (1 if faint else 0)


@pytest.fixture(scope="module")
def sealed_gray() -> Image.Image:
    """A Party page with a seal over its signature block and a KHẨN stamp, faded to gray."""
    page = render(party_lines() + SIGNATURE, dpi=300).image
    page = red_seal(page, SEAL[:2], SEAL[2])
    return faded(red_stamp(page, "KHẨN", (400, 520), 70), FAINT)


def _read(image: np.ndarray) -> str:
    words = tesseract.image_to_words(image, lang="vie", psm=3, dpi=300, timeout_s=60)
    return " ".join(w.text for w in words)


def test_gray_seal_and_stamp_are_found_by_shape(sealed_gray):
    props = pp.measure(np.asarray(sealed_gray), 300)
    assert not pp.colour_stamps(props)  # no colour left to lift them by
    assert len(props.seals) == 1
    cx, cy, r = props.seals[0]
    assert abs(cx - SEAL[0]) < 10 and abs(cy - SEAL[1]) < 10 and abs(r - SEAL[2]) < 0.06 * SEAL[2]  # the outer ring
    assert len(props.frames) == 1
    x, y, w, h = props.frames[0]
    assert 330 < x < 420 and 460 < y < 540 and w > 2 * h
    # a frame is erased only once a mark is read in it: the plan decides from both facts
    assert pp.plan_steps(props)[:3] == ["grayscale", "erase_seals", "deskew"]
    marked = dataclasses.replace(props, frame_marks=(("KHẨN",),))
    assert pp.plan_steps(marked)[:3] == ["grayscale", "erase_seals", "erase_frames"]
    unmarked = dataclasses.replace(props, frame_marks=((),))
    assert "erase_frames" not in pp.plan_steps(unmarked)


@pytest.mark.slow
def test_gray_seal_over_the_signature_no_longer_hides_it(sealed_gray, tmp_path):
    arr = np.asarray(sealed_gray)
    props = pp.measure(arr, 300)
    before = _read(pp.run(arr, props, ["grayscale", "deskew"]).image)
    assert "THƯỜNG" not in before  # Tesseract drops the block under the seal as a picture
    after = pp.run(arr, props, ["grayscale", "erase_seals", "deskew"])
    # the seal's own ring text and star are gone, the lines beside it kept
    gray = pp.grayscale(arr).image
    disc = np.hypot(*np.ogrid[-SEAL[1]:arr.shape[0] - SEAL[1], -SEAL[0]:arr.shape[1] - SEAL[0]]) <= SEAL[2]
    assert (after.image[disc] < 245).sum() < 0.35 * (gray[disc] < 245).sum()
    right = (slice(1500, 1700), slice(1800, 2300))  # "THƯỜNG VỤ", "THƯ": outside the disc
    assert np.array_equal(after.image[right], gray[right])
    path = tmp_path / "gray-seal.png"
    sealed_gray.save(path, dpi=(300, 300))
    result = ocr_page(path, OcrOptions(cache_dir=None, timeout_s=60), source="gray-seal.png", page=1)
    assert "THƯỜNG VỤ" in result.text and "THƯ" in result.text.split("THƯỜNG VỤ", 1)[1]
    assert "Nguyễn Văn Hòa" in result.text and "Số 08-CT/TU" in result.text
    assert "THÁI BÌNH" not in result.text.split("2021.", 1)[1]  # the seal's ring text is not read
    assert "erase_seals(1 gray)" in result.steps


@pytest.mark.slow
def test_gray_stamp_is_reported_as_a_mark_and_not_read_as_text(sealed_gray, tmp_path):
    path = tmp_path / "gray-stamp.png"
    sealed_gray.save(path, dpi=(300, 300))
    result = ocr_page(path, OcrOptions(cache_dir=None, timeout_s=60), source="gray-stamp.png", page=1)
    assert result.marks == ["KHẨN"]
    assert "KHẨN" not in result.text
    assert "erase_frames(1 gray)" in result.steps


def _boxed(page: Image.Image, text: str, at: tuple[int, int]) -> Image.Image:
    """A boxed heading in the page's ink: a frame by shape, but no mark."""
    d = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(font_path("serif-bold")), 60)
    d.text(at, text, font=font, fill=(20, 20, 20))
    left, top, right, bottom = d.textbbox(at, text, font=font)
    d.rectangle((left - 18, top - 18, right + 18, bottom + 18), outline=(20, 20, 20), width=5)
    return page


@pytest.mark.slow
def test_a_boxed_heading_is_a_frame_but_not_a_mark_so_it_stays(tmp_path):
    gray = faded(_boxed(render(party_lines(), dpi=300).image, "PHỤ LỤC", (420, 540)), FAINT)
    props = pp.measure(np.asarray(gray), 300)
    assert len(props.frames) == 1 and not props.seals
    path = tmp_path / "boxed.png"
    gray.save(path, dpi=(300, 300))
    result = ocr_page(path, OcrOptions(cache_dir=None, timeout_s=60), source="boxed.png", page=1)
    assert result.marks == []
    assert "PHỤ LỤC" in result.text
    assert not any(s.startswith("erase_frames") for s in result.steps)


@pytest.mark.slow
def test_all_frames_of_a_page_are_read_in_one_tesseract_call_with_marks_per_frame(tmp_path, monkeypatch):
    page = render(party_lines() + SIGNATURE, dpi=300).image
    page = red_stamp(red_stamp(page, "HỎA TỐC", (300, 520), 60), "MẬT", (1900, 560), 70)
    gray = faded(_boxed(page, "PHỤ LỤC", (600, 1420)), FAINT)
    arr = np.asarray(gray)
    props = pp.measure(arr, 300)
    assert len(props.frames) == 3 and props.frames[2][1] > 1300  # the boxed heading is the last
    runs: list[tuple[object, ...]] = []
    real_run = tesseract._run
    monkeypatch.setattr(tesseract, "_run", lambda *a, **k: runs.append(a) or real_run(*a, **k))
    marks = engine.read_frame_marks(pp.grayscale(arr).image, props.frames, OcrOptions(timeout_s=60), Path("p.png"))
    assert marks == (("HỎA TỐC",), ("MẬT",), ())
    assert len(runs) == 1
    monkeypatch.undo()
    path = tmp_path / "stamps-and-box.png"
    gray.save(path, dpi=(300, 300))
    result = ocr_page(path, OcrOptions(cache_dir=None, timeout_s=60), source="stamps-and-box.png", page=1)
    assert result.marks == ["HỎA TỐC", "MẬT"]
    assert "erase_frames(2 gray)" in result.steps
    assert "PHỤ LỤC" in result.text and "MẬT" not in result.text and "TỐC" not in result.text


@pytest.mark.parametrize("make", [lambda: render(party_lines(), dpi=300).image,
                                  lambda: faded(render(party_lines(), dpi=300).image, FAINT)])
def test_a_page_without_seal_or_stamp_is_left_alone(make):
    arr = np.asarray(make())
    props = pp.measure(arr, 300)
    assert props.seals == () and props.frames == ()
    steps = pp.plan_steps(props)
    assert "erase_seals" not in steps and "erase_frames" not in steps


def test_a_red_seal_on_a_colour_page_stays_with_the_colour_path():
    rgb = np.asarray(red_seal(render(party_lines() + SIGNATURE, dpi=300).image, SEAL[:2], SEAL[2]))
    props = pp.measure(rgb, 300)
    assert pp.colour_stamps(props) and props.seals == ()  # the gray search is not even run
    assert pp.plan_steps(props)[0] == "suppress_stamps"
