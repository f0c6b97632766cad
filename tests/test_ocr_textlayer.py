"""Born-digital PDFs keep their own text layer; legacy-font mangles are OCRed instead."""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from kholuu.model import Word
from ocr import OcrOptions, ocr_page, rasterize, textlayer
from ocr.synthetic import font_path

LINES = ["Ban Thường vụ Tỉnh ủy yêu cầu các cấp ủy đảng tập trung lãnh đạo",
         "xây dựng nông thôn mới bền vững trong năm 2021 và những năm tiếp theo"]


def _pdf(path: Path, lines: list[str]) -> Path:
    if "Serif" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Serif", str(font_path("serif"))))
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    c.setFont("Serif", 13)
    c.drawString(72, 800, "TỈNH ỦY THÁI BÌNH")
    c.drawString(330, 800, "ĐẢNG CỘNG SẢN VIỆT NAM")
    for i, line in enumerate(lines):
        c.drawString(72, 760 - 20 * i, line)
    c.showPage()
    c.save()
    return path


def test_born_digital_pdf_keeps_its_text_layer(tmp_path):
    opts = OcrOptions(cache_dir=tmp_path / "cache", target_dpi=150)
    pages = rasterize(_pdf(tmp_path / "born.pdf", LINES), tmp_path / "pages", opts)
    assert textlayer.sidecar_path(Path(pages[0].image_path)).is_file()
    result = ocr_page(Path(pages[0].image_path), opts, source="born.pdf", page=1)
    assert result.engine == textlayer.ENGINE and result.confidence == 100.0
    lines = result.text.splitlines()
    assert lines[0] == "TỈNH ỦY THÁI BÌNH ĐẢNG CỘNG SẢN VIỆT NAM"  # one row across both columns, like OCR
    assert lines[1:] == LINES
    word = next(w for w in result.words if w.text == "ĐẢNG")
    # 330 pt from the left at 150 dpi; the top of the row 42 pt from the top
    assert abs(word.bbox[0] - 330 * 150 / 72) < 3 and abs(word.bbox[1] - 30 * 150 / 72) < 15


def test_legacy_font_text_is_not_trusted(tmp_path):
    mangled = ["Ban Th\u00adêng vô TØnh ñy yªu cÇu c¸c cÊp ñy ®¶ng tËp trung l·nh ®¹o"] * 3
    opts = OcrOptions(cache_dir=tmp_path / "cache", target_dpi=150)
    pages = rasterize(_pdf(tmp_path / "tcvn3.pdf", mangled), tmp_path / "pages", opts)
    assert not textlayer.sidecar_path(Path(pages[0].image_path)).exists()
    assert not textlayer.is_good([Word(t, 100, (0, 0, 1, 1)) for t in " ".join(mangled).split()])
    assert textlayer.is_good([Word(t, 100, (0, 0, 1, 1)) for t in " ".join(LINES).split()])
