"""Searchable PDF: page image + invisible text that pdftotext reads back, Vietnamese intact."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pikepdf

from ocr import OcrOptions, ocr_page, write_searchable_pdf
from ocr.synthetic import Line, render


def test_searchable_pdf_text_layer_is_vietnamese_and_placed(tmp_path):
    opts = OcrOptions(cache_dir=tmp_path / "cache", timeout_s=60)
    items = []
    for i, text in enumerate(["Số 08-CT/TU về xây dựng nông thôn mới", "Ban Thường vụ Tỉnh ủy Thái Bình"], 1):
        page = render([Line(text, 0.4, 0.4, 13)], dpi=300, size_in=(5.0, 1.2))
        path = tmp_path / f"p{i}.png"
        page.image.save(path, dpi=(300, 300))
        items.append((path, ocr_page(path, opts, source="doc", page=i), page))
    out = write_searchable_pdf([(p, r) for p, r, _ in items], tmp_path / "pdf" / "doc.pdf", opts)
    assert out.is_file()
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
        box = [float(v) for v in pdf.pages[0].mediabox]
        assert abs(box[2] - 5.0 * 72) < 1 and abs(box[3] - 1.2 * 72) < 1  # 300 dpi pixels → points
        # PDF/A-2b ingredients: output intent, XMP identification, only embedded fonts
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"
        for pg in pdf.pages:
            for font in pg.Resources.Font.values():
                descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                assert "/FontFile2" in descendant.FontDescriptor
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")
    assert "xây dựng nông thôn mới" in re.sub(r"\s+", " ", pages[0])
    assert "Ban Thường vụ Tỉnh ủy Thái Bình" in re.sub(r"\s+", " ", pages[1])
    # the invisible word sits where the word is on the image
    html = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    m = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">08-CT/TU</word>', html)
    assert m, html
    x0, y0, x1, y1 = (float(v) * 300 / 72 for v in m.groups())
    drawn = items[0][2].box_of("08-CT/TU")
    assert abs(x0 - drawn[0]) < 15 and abs(x1 - drawn[2]) < 25 and abs((y0 + y1) / 2 - (drawn[1] + drawn[3]) / 2) < 25


VERAPDF_VERSION = "1.28.2"  # as scripts/install fetches it


def _verapdf_lib() -> Path:
    """The veraPDF jars scripts/install puts in the CI cache (or the user's cache when not writable)."""
    import os

    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kholuu"
    for base in (Path("/var/cache/kholuu-ci"), user_cache):
        lib = base / "verapdf" / VERAPDF_VERSION / "lib"
        if (lib / f"greenfield-apps-{VERAPDF_VERSION}.jar").is_file():
            return lib
    raise AssertionError("veraPDF missing: scripts/install fetches it with Maven")


def test_searchable_pdf_passes_verapdf_as_pdfa_2b(tmp_path):
    """The written PDF is PDF/A-2b by veraPDF's own rules (colour and gray pages); an ordinary
    PDF fails the same check, so the validator really looks."""
    from PIL import Image

    from ocr.synthetic import party_page, red_seal

    opts = OcrOptions(cache_dir=tmp_path / "cache", timeout_s=60)
    page = party_page(300).image
    colour = tmp_path / "colour.png"
    red_seal(page.convert("RGB"), (800, 900), 170).save(colour, dpi=(300, 300))
    gray = tmp_path / "gray.png"
    page.convert("L").save(gray, dpi=(300, 300))
    pages = [(p, ocr_page(p, opts, source="doc", page=i)) for i, p in enumerate([colour, gray], 1)]
    out = write_searchable_pdf(pages, tmp_path / "doc.pdf", opts)
    plain = tmp_path / "plain.pdf"
    Image.open(gray).convert("RGB").save(plain)  # PIL's PDF: no output intent, no XMP
    run = subprocess.run(["java", "-cp", str(_verapdf_lib() / "*"), "org.verapdf.apps.GreenfieldCliWrapper",
                          "--flavour", "2b", "--format", "text", str(out), str(plain)],
                         capture_output=True, text=True, timeout=300)
    lines = run.stdout.splitlines()
    assert f"PASS {out} 2b" in lines, run.stdout + run.stderr
    assert f"FAIL {plain} 2b" in lines, run.stdout + run.stderr


def _blank_ocr(img) -> "PageOCR":
    from kholuu.model import PageOCR

    return PageOCR(source="doc", page=1, text="", confidence=0.0, words=[], width=img.width, height=img.height)


def test_page_images_go_into_the_pdf_pixel_exact_and_pngs_without_recompression(tmp_path):
    """Gray, RGB and 1-bit PNGs (what ocr.rasterize stores) and a TIFF come back from the PDF
    pixel for pixel; a PNG's own compressed data is embedded as is (no decode, no re-encode)."""
    import numpy as np
    from PIL import Image

    from ocr.pdf import png_as_pdf_image

    rng = np.random.default_rng(5)
    gray = Image.fromarray(rng.integers(0, 256, (120, 173), dtype=np.uint8), "L")
    rgb = Image.fromarray(rng.integers(0, 256, (120, 173, 3), dtype=np.uint8), "RGB")
    images = {"gray.png": gray, "rgb.png": rgb, "bits.png": gray.point(lambda v: 255 if v > 128 else 0).convert("1"),
              "rgb.tif": rgb}
    opts = OcrOptions(cache_dir=tmp_path / "cache", timeout_s=60)
    for name, img in images.items():
        path = tmp_path / name
        img.save(path, dpi=(150, 150), **({"compression": "tiff_lzw"} if name.endswith(".tif") else {}))
        out = write_searchable_pdf([(path, _blank_ocr(img))], tmp_path / f"{name}.pdf", opts)
        with pikepdf.open(out) as pdf:
            page = pdf.pages[0]
            box = [float(v) for v in page.mediabox]
            assert abs(box[2] - 173 / 150 * 72) < 0.01 and abs(box[3] - 120 / 150 * 72) < 0.01, name
            (stream,) = page.Resources.XObject.values()
            back = pikepdf.PdfImage(stream).as_pil_image()
            assert np.array_equal(np.asarray(back.convert("RGB")), np.asarray(img.convert("RGB"))), name
            if name.endswith(".png"):
                assert stream.read_raw_bytes() == png_as_pdf_image(path.read_bytes(), 300).data, name


def test_a_damaged_page_image_names_the_file_and_writes_nothing(tmp_path):
    from PIL import Image

    from ocr.errors import TruncatedImageError

    path = tmp_path / "page.png"
    Image.new("L", (200, 100), 255).save(path)
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0xFF                                   # inside the last IDAT: its CRC no longer matches
    path.write_bytes(bytes(raw))
    opts = OcrOptions(cache_dir=tmp_path / "cache", timeout_s=60)
    out = tmp_path / "doc.pdf"
    try:
        write_searchable_pdf([(path, _blank_ocr(Image.new("L", (200, 100))))], out, opts)
    except TruncatedImageError as exc:
        assert str(path) in str(exc)
    else:
        raise AssertionError("a damaged page image was written into the PDF")
    assert not out.exists() and not list(tmp_path.glob("*.part"))
