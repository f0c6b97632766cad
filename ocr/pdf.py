"""Searchable two-layer PDF: each page image with an invisible text layer.

The text layer is drawn from the OCR word boxes (so it works from catalog data
without re-running Tesseract): each word in invisible text (render mode 3),
placed on its box and stretched horizontally to the box width, so selecting or
searching in a viewer marks the right spot. The font is an embedded TrueType
font with Vietnamese glyphs, so ``pdftotext`` gives back the exact text.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from PIL import Image

from kholuu.errors import KholuuError
from kholuu.model import PageOCR
from kholuu.textnorm import normalize
from ocr.errors import MissingFileError, TruncatedImageError
from ocr.options import OcrOptions

FONT_NAME = "KholuuText"
FONT_FILES = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
              "/usr/share/fonts/truetype/freefont/FreeSans.ttf"]


class PdfWriteError(KholuuError):
    """The searchable PDF could not be written."""


def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    for path in FONT_FILES:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont(FONT_NAME, path))
            return FONT_NAME
    raise PdfWriteError("no TrueType font with Vietnamese glyphs found (apt install fonts-dejavu-core)")


def _page_dpi(img: Image.Image, fallback: int) -> float:
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError):
        value = 0.0
    return value if value >= 30 else float(fallback)


def _mark_pdfa(path: Path, title: str) -> None:
    """Add what PDF/A-2b asks for beyond embedded fonts: an sRGB output intent and
    XMP metadata declaring the part and conformance. The result passes veraPDF's
    PDF/A-2b profile (tests/test_ocr_pdf.py runs the validator)."""
    import pikepdf
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        profile = pikepdf.Stream(pdf, icc)
        profile["/N"] = 3
        intent = pikepdf.Dictionary({
            "/Type": pikepdf.Name("/OutputIntent"), "/S": pikepdf.Name("/GTS_PDFA1"),
            "/OutputConditionIdentifier": pikepdf.String("sRGB IEC61966-2.1"),
            "/Info": pikepdf.String("sRGB IEC61966-2.1"),
            "/DestOutputProfile": pdf.make_indirect(profile)})
        pdf.Root["/OutputIntents"] = pikepdf.Array([pdf.make_indirect(intent)])
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:title"] = title
            meta["pdfaid:part"] = "2"
            meta["pdfaid:conformance"] = "B"
            meta["xmp:CreatorTool"] = "kholuu"
        pdf.save(path)


def write_searchable_pdf(pages: Sequence[tuple[Path, PageOCR]], out_path: Path, options: OcrOptions) -> Path:
    """Write one PDF with a page per (image, OCR) pair; returns ``out_path``."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    if not pages:
        raise PdfWriteError(f"{out_path}: no pages to write")
    font = _register_font()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, suffix=".pdf.part")
    os.close(fd)
    try:
        c = canvas.Canvas(tmp, pageCompression=1, initialFontName=font, initialFontSize=10, lang="vi")
        c.setTitle(out_path.stem)
        c.setCreator("kholuu")
        for image_path, result in pages:
            image_path = Path(image_path)
            if not image_path.is_file():
                raise MissingFileError(image_path, "page image missing, cannot write the PDF")
            try:
                with Image.open(image_path) as img:
                    dpi = _page_dpi(img, options.target_dpi)
                    width_px, height_px = img.size
            except OSError as exc:
                raise TruncatedImageError(image_path, f"page image cannot be read ({exc})") from None
            scale = 72.0 / dpi
            w_pt, h_pt = width_px * scale, height_px * scale
            c.setPageSize((w_pt, h_pt))
            c.drawImage(str(image_path), 0, 0, width=w_pt, height=h_pt)
            # invisible text layer
            for word in result.words:
                text = normalize(word.text)
                x0, y0, x1, y1 = word.bbox
                if not text or x1 <= x0 or y1 <= y0:
                    continue
                box_h = (y1 - y0) * scale
                size = max(1.0, box_h * 0.9)
                natural = pdfmetrics.stringWidth(text, font, size)
                t = c.beginText()
                t.setTextRenderMode(3)
                t.setFont(font, size)
                if natural > 0:
                    t.setHorizScale(100.0 * (x1 - x0) * scale / natural)
                # baseline a little above the box bottom (descenders)
                t.setTextOrigin(x0 * scale, h_pt - y1 * scale + box_h * 0.2)
                t.textOut(text + " ")
                c.drawText(t)
            c.showPage()
        c.save()
        _mark_pdfa(Path(tmp), out_path.stem)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_path
