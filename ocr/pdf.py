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
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from kholuu.errors import KholuuError
from kholuu.model import PageOCR
from kholuu.textnorm import normalize
from ocr.errors import MissingFileError, TruncatedImageError
from ocr.options import OcrOptions
from ocr.rasterize import _dpi_of, _normalized, plain_png, usable_dpi

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




@dataclass(frozen=True)
class PdfImage:
    """A page image as PDF image data: Flate-compressed samples and how to read them."""

    width: int
    height: int
    dpi: float
    colors: int            # 1 gray, 3 RGB
    bits: int              # 1 or 8 bits per sample
    data: bytes            # zlib stream of the samples
    png_rows: bool         # rows carry PNG filter bytes (PDF predictor 15)


def png_as_pdf_image(raw: bytes, fallback_dpi: int) -> PdfImage | None:
    """The PNG's own compressed data as a PDF image, without decoding it.

    PDF's Flate filter with PNG predictors reads a PNG's IDAT stream as is (as
    img2pdf does), so a 300 dpi page costs no decode and no re-compression;
    drawing it through reportlab decoded, re-compressed and ASCII85-encoded the
    page in Python, about a CPU second a page. Only a plain PNG qualifies
    (``ocr.rasterize.plain_png``: what rasterize stores); anything else returns None.
    """
    png = plain_png(raw)
    if png is None:
        return None
    return PdfImage(png.width, png.height, float(usable_dpi(png.ppm * 0.0254) or fallback_dpi), png.colors,
                    png.bits, png.idat, png_rows=True)


def read_pdf_image(path: Path, fallback_dpi: int) -> PdfImage:
    """A page image for the PDF: the PNG's own data when possible, else decoded and compressed once."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TruncatedImageError(path, f"page image cannot be read ({exc})") from None
    image = png_as_pdf_image(raw, fallback_dpi)
    if image is not None:
        return image
    try:
        with Image.open(path) as img:
            dpi = _dpi_of(img) or fallback_dpi
            img = _normalized(img)              # L, RGB or 1, as rasterize stores pages
            if img.mode == "1":
                img = img.convert("L")
            return PdfImage(img.width, img.height, dpi, 1 if img.mode == "L" else 3, 8,
                            zlib.compress(img.tobytes(), 6), png_rows=False)
    except OSError as exc:
        raise TruncatedImageError(path, f"page image cannot be read ({exc})") from None


def _image_stream(pdf: Any, image: PdfImage) -> Any:
    import pikepdf

    stream = pikepdf.Stream(pdf, image.data)
    stream.stream_dict = pikepdf.Dictionary({
        "/Type": pikepdf.Name.XObject, "/Subtype": pikepdf.Name.Image,
        "/Width": image.width, "/Height": image.height, "/BitsPerComponent": image.bits,
        "/ColorSpace": pikepdf.Name.DeviceGray if image.colors == 1 else pikepdf.Name.DeviceRGB,
        "/Filter": pikepdf.Name.FlateDecode})
    if image.png_rows:
        stream.stream_dict["/DecodeParms"] = pikepdf.Dictionary({
            "/Predictor": 15, "/Colors": image.colors, "/BitsPerComponent": image.bits,
            "/Columns": image.width})
    return stream


def _finish(path: Path, title: str, images: Sequence[PdfImage]) -> None:
    """Put each page image under its text layer, and add what PDF/A-2b asks for
    beyond embedded fonts: an sRGB output intent and XMP metadata declaring the
    part and conformance. The result passes veraPDF's PDF/A-2b profile
    (tests/test_ocr_pdf.py runs the validator)."""
    import pikepdf
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page, image in zip(pdf.pages, images):
            box = [float(v) for v in page.mediabox]
            name = page.add_resource(_image_stream(pdf, image), pikepdf.Name.XObject, prefix="Im")
            draw = f"q {box[2] - box[0]:.4f} 0 0 {box[3] - box[1]:.4f} {box[0]:.4f} {box[1]:.4f} cm {name} Do Q\n"
            page.contents_add(pikepdf.Stream(pdf, draw.encode("ascii")), prepend=True)
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
        images = []
        for image_path, result in pages:
            image_path = Path(image_path)
            if not image_path.is_file():
                raise MissingFileError(image_path, "page image missing, cannot write the PDF")
            image = read_pdf_image(image_path, options.target_dpi)
            images.append(image)
            scale = 72.0 / image.dpi
            w_pt, h_pt = image.width * scale, image.height * scale
            c.setPageSize((w_pt, h_pt))
            # invisible text layer (the image goes under it in _finish)
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
        _finish(Path(tmp), out_path.stem, images)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_path
