"""Hardening checks for inbox files that had no test yet (issue 8): the file
size limit, a PDF carrying JavaScript (rasterized by poppler, the script never
runs and never reaches the stored pages) and a huge PDF page refused before
rendering. The other checks (decompression bomb, type sniffing, encrypted PDFs,
manifest names escaping the batch folder) are in test_ocr_rasterize.py and
test_manifest.py."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from kholuu.errors import InputFileError
from ocr import rasterize
from ocr.errors import DecompressionBombError, FileTooLargeError
from ocr.options import OcrOptions


def test_file_over_the_size_limit_is_refused_by_name(tmp_path: Path) -> None:
    src = tmp_path / "to-qua.png"
    Image.new("L", (600, 800), 255).save(src)
    with pytest.raises(FileTooLargeError, match="to-qua.png.*over the 0 MiB limit") as info:
        rasterize(src, tmp_path / "pages", OcrOptions(max_file_bytes=100))
    assert isinstance(info.value, InputFileError)


def test_pdf_with_javascript_is_rasterized_to_plain_pages(tmp_path: Path) -> None:
    src = tmp_path / "co-script.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x'); this.exportDataObject();"))
    pdf.Root.OpenAction = pdf.make_indirect(js)
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), js])))
    pdf.save(src)
    pages = rasterize(src, tmp_path / "pages", OcrOptions(target_dpi=150))
    assert len(pages) == 1
    stored = Path(pages[0].image_path)
    assert stored.suffix == ".png" and b"JavaScript" not in stored.read_bytes()
    with Image.open(stored) as im:
        assert im.width > 1000                      # a real page image, nothing else kept


def test_huge_pdf_page_is_refused_before_rendering(tmp_path: Path) -> None:
    src = tmp_path / "kho-lon.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(14400, 14400))     # 200 × 200 inches
    pdf.save(src)
    with pytest.raises(DecompressionBombError, match="kho-lon.pdf.*over the limit"):
        rasterize(src, tmp_path / "pages", OcrOptions(max_image_pixels=50_000_000))
