"""Input files → page images stored losslessly as PNG, named by pixel hash.

The file type is sniffed from its first bytes, never from the extension (scans
arrive renamed, misnamed and truncated). Each page is decoded fully here, so a
truncated or corrupt file fails now, with a typed error naming the file, rather
than deep inside OCR. The stored PNG keeps the page's DPI when the file had one.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import tempfile
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from kholuu.model import PageImage
from ocr.errors import (DecompressionBombError, EmptyFileError, EncryptedPdfError, FileTooLargeError,
                        ImageTooSmallError, MissingFileError, NotAnImageError, TruncatedImageError)
from ocr import textlayer
from ocr.options import OcrOptions

MIN_SIDE = 16  # pixels; below this no line of text fits
ORIENTATION_TAG = 0x0112     # EXIF orientation
_KEEP_MODES = {"1", "L", "RGB"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def quiet_pillow() -> None:
    """Silence Pillow's warnings for the whole process, once (later calls change nothing).

    Pages are decoded in threads (ocr_many, the pipeline's stages), and
    ``warnings.catch_warnings()`` swaps the process-wide filter list, so one
    thread can restore another's; and a host that imported ``ocr`` inside
    ``catch_warnings`` (pytest does) lost filters set at import. So the entry
    points call this before they start their threads. ``rasterize`` enforces its
    own pixel limit (DecompressionBombError), and Pillow's "Corrupt EXIF
    data"-style warnings say nothing a reader of the page can use."""
    for category, module in ((UserWarning, r"PIL\."), (Image.DecompressionBombWarning, "")):
        if not any(f[0] == "ignore" and f[2] is category and (f[3].pattern if f[3] else "") == module
                   for f in warnings.filters):   # present: the shared list is left alone
            warnings.filterwarnings("ignore", category=category, module=module)


def sniff(head: bytes) -> str | None:
    """'png', 'jpeg', 'tiff', 'pdf' or None, from the first bytes of a file."""
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


@dataclass(frozen=True)
class PlainPng:
    """A PNG whose bytes are exactly what ``_store`` would write for its pixels, in
    kind: gray (8 or 1 bit) or 8-bit RGB, not interlaced, no palette or transparency,
    every chunk intact. Such a file is stored as is, and a PDF embeds its IDAT data as is."""

    width: int
    height: int
    bits: int
    colors: int          # 1 gray, 3 RGB
    idat: bytes          # the zlib stream of the filtered rows
    ppm: float           # pixels per metre from pHYs (0: none)


def plain_png(raw: bytes) -> PlainPng | None:
    """``raw`` as a ``PlainPng``, or None for any other PNG (or not a PNG, or damaged)."""
    if not raw.startswith(PNG_SIGNATURE):
        return None
    pos, header, idat, ppm = len(PNG_SIGNATURE), None, [], 0.0
    while pos + 8 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        body = raw[pos + 8:pos + 8 + length]
        crc = raw[pos + 8 + length:pos + 12 + length]
        if len(crc) != 4 or zlib.crc32(kind + body) != struct.unpack(">I", crc)[0]:
            return None                                   # truncated or damaged: let PIL say why
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"pHYs" and length == 9 and body[8] == 1:
            ppm = float(struct.unpack(">I", body[:4])[0])
        elif kind in (b"tRNS", b"PLTE"):
            return None
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        return None
    width, height, bits, colour, _compression, _filter, interlace = header
    if interlace or (colour, bits) not in ((0, 8), (0, 1), (2, 8)):
        return None
    return PlainPng(width, height, bits, 1 if colour == 0 else 3, b"".join(idat), ppm)


def _check_file(path: Path, options: OcrOptions) -> str:
    if not path.exists():
        raise MissingFileError(path, "no such file")
    if not path.is_file():
        raise MissingFileError(path, "not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError(path, "the file is empty (0 bytes)")
    if size > options.max_file_bytes:
        raise FileTooLargeError(path, f"the file is {size // 2**20} MiB, over the {options.max_file_bytes // 2**20} MiB limit")
    with open(path, "rb") as f:
        head = f.read(1024)
    kind = sniff(head)
    if kind is None:
        raise NotAnImageError(path, "not a PNG, JPEG, TIFF or PDF file (content not recognized)")
    return kind


def usable_dpi(value: float | None) -> int | None:
    """A resolution worth believing, rounded; None under 30 dpi (a placeholder such as
    72 is believed, 1 or 0 is not), and the caller falls back to its default."""
    return int(round(value)) if value and value >= 30 else None


def _dpi_of(img: Image.Image) -> int | None:
    dpi = img.info.get("dpi")
    try:
        return usable_dpi(float(dpi[0]) if isinstance(dpi, tuple) else float(dpi) if dpi else None)
    except (TypeError, ValueError):
        return None


def _normalized(frame: Image.Image) -> Image.Image:
    if frame.mode in _KEEP_MODES:
        return frame
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):
        import numpy as np

        arr = np.asarray(frame, dtype=np.float64)
        top = arr.max() or 1.0
        return Image.fromarray((arr * (255.0 / top)).astype("uint8"), "L")
    if frame.mode in ("LA", "La"):
        return frame.convert("L")
    if frame.mode in ("RGBA", "RGBa", "P", "PA"):
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return frame.convert("RGB")


def pixel_hash(img: Image.Image) -> str:
    h = hashlib.sha256()
    h.update(f"{img.mode}:{img.width}x{img.height}:".encode())
    h.update(img.tobytes())
    return h.hexdigest()


def _store(img: Image.Image, dpi: int | None, out_dir: Path, source: Path, page: int, *,
           same_png: bytes | None = None) -> PageImage:
    """Keep the page as ``<pixel sha256>.png``.

    ``same_png``: the bytes of a one-page plain PNG (``plain_png``) whose decoded
    pixels are exactly ``img`` (and whose resolution is ``dpi``), written as they
    are rather than compressed again (level 6 costs about 0.4 CPU s on a 300 dpi
    page); the bytes the pixels were decoded from, so they match the name.
    """
    digest = pixel_hash(img)
    target = out_dir / f"{digest}.png"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".png.part")
        os.close(fd)
        try:
            params = {"dpi": (dpi, dpi)} if dpi else {}
            if same_png is not None:
                Path(tmp).write_bytes(same_png)
            else:
                img.save(tmp, format="PNG", compress_level=6, **params)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return PageImage(source=str(source), page=page, image_path=str(target), sha256=digest,
                     width=img.width, height=img.height, dpi=dpi)


def _check_size(path: Path, width: int, height: int, options: OcrOptions, page: int) -> None:
    where = f" (page {page})" if page > 1 else ""
    if width * height > options.max_image_pixels:
        raise DecompressionBombError(
            path, f"image{where} is {width}×{height} pixels, over the limit of {options.max_image_pixels:,} pixels")
    if min(width, height) < MIN_SIDE:
        raise ImageTooSmallError(path, f"image{where} is only {width}×{height} pixels, too small to read")


def _rasterize_image(path: Path, out_dir: Path, options: OcrOptions) -> list[PageImage]:
    pages: list[PageImage] = []
    raw = None
    with open(path, "rb") as fh:   # a PNG is decoded from the very bytes it may be stored as
        if fh.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE:
            raw = PNG_SIGNATURE + fh.read()
    plain = raw if raw is not None and plain_png(raw) is not None else None
    try:
        with Image.open(io.BytesIO(raw) if raw is not None else path) as img:   # Pillow's warnings: quiet_pillow
            for number, frame in enumerate(ImageSequence.Iterator(img), 1):
                _check_size(path, frame.width, frame.height, options, number)
                dpi = _dpi_of(frame)
                frame.load()
                page = _normalized(frame)
                # copy the file only when nothing in it changes what the pixels mean: an EXIF
                # orientation would turn the stored page, which OCR and its boxes do not do
                same = (plain is not None and getattr(img, "n_frames", 1) == 1 and page is frame
                        and img.getexif().get(ORIENTATION_TAG, 1) == 1)
                pages.append(_store(page, dpi, out_dir, path, number, same_png=plain if same else None))
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(path, f"image is too large to decode safely ({exc})") from None
    except UnidentifiedImageError:
        raise TruncatedImageError(path, "the image header is damaged and cannot be decoded") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, (DecompressionBombError, ImageTooSmallError)):
            raise
        reason = str(exc) or exc.__class__.__name__
        raise TruncatedImageError(path, f"the image data is truncated or corrupt ({reason})") from None
    if not pages:
        raise TruncatedImageError(path, "the file holds no page")
    return pages


def _rasterize_pdf(path: Path, out_dir: Path, options: OcrOptions) -> list[PageImage]:
    import pikepdf
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError

    try:
        with pikepdf.open(path) as pdf:
            sizes = []
            for p in pdf.pages:
                box = [float(v) for v in p.mediabox]
                sizes.append((abs(box[2] - box[0]), abs(box[3] - box[1])))
    except pikepdf.PasswordError:
        raise EncryptedPdfError(path, "the PDF is encrypted and needs a password") from None
    except pikepdf.PdfError as exc:
        raise TruncatedImageError(path, f"the PDF is damaged and cannot be read ({str(exc).splitlines()[0]})") from None
    if not sizes:
        raise TruncatedImageError(path, "the PDF has no pages")
    dpi = options.target_dpi
    pages: list[PageImage] = []
    for number, (w_pt, h_pt) in enumerate(sizes, 1):
        _check_size(path, int(w_pt / 72 * dpi), int(h_pt / 72 * dpi), options, number)
        try:
            images = convert_from_path(str(path), dpi=dpi, first_page=number, last_page=number,
                                       timeout=options.timeout_s)
        except subprocess.TimeoutExpired:
            raise TruncatedImageError(path, f"rendering page {number} took longer than {options.timeout_s:g} s") from None
        except (PDFPageCountError, PDFSyntaxError) as exc:
            raise TruncatedImageError(path, f"the PDF cannot be rendered ({exc})") from None
        if not images:
            raise TruncatedImageError(path, f"page {number} of the PDF could not be rendered")
        img = _normalized(images[0])
        _check_size(path, img.width, img.height, options, number)
        stored = _store(img, dpi, out_dir, path, number)
        words = textlayer.read_text_layer(path, number, dpi, options.timeout_s)
        if textlayer.is_good(words):  # born-digital: keep its text instead of OCR
            textlayer.save(words, Path(stored.image_path), img.width, img.height)
        pages.append(stored)
        img.close()
    return pages


def rasterize(path: Path, out_dir: Path, options: OcrOptions) -> list[PageImage]:
    """Decode every page of ``path`` and store it as ``out_dir/<pixel sha256>.png``.

    Raises the typed errors of ``ocr.errors`` (file name and reason) for input
    that cannot be used. Blank pages are returned like any other page.
    """
    quiet_pillow()
    path = Path(path)
    kind = _check_file(path, options)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if kind == "pdf":
        return _rasterize_pdf(path, out_dir, options)
    return _rasterize_image(path, out_dir, options)
