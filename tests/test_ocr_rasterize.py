"""rasterize: content sniffing, lossless page PNGs by pixel hash, DPI, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from kholuu.errors import InputFileError
from ocr import OcrOptions, rasterize
from ocr.errors import (DecompressionBombError, EmptyFileError, EncryptedPdfError, ImageTooSmallError,
                        MissingFileError, NotAnImageError, TruncatedImageError)
from ocr.synthetic import Line, render


@pytest.fixture(scope="module")
def page_image() -> Image.Image:
    return render([Line("Số 08-CT/TU ngày 15 tháng 3 năm 2021", 0.3, 0.3, 13)], dpi=200, size_in=(4.0, 1.0)).image


@pytest.fixture
def opts(tmp_path: Path) -> OcrOptions:
    return OcrOptions(cache_dir=tmp_path / "cache", timeout_s=60)


def test_png_is_stored_losslessly_by_pixel_hash_with_dpi(tmp_path, opts, page_image):
    src = tmp_path / "scan.png"
    page_image.save(src, dpi=(200, 200))
    pages = rasterize(src, tmp_path / "pages", opts)
    assert len(pages) == 1
    p = pages[0]
    assert (p.page, p.dpi, p.width, p.height) == (1, 200, page_image.width, page_image.height)
    assert Path(p.image_path).name == f"{p.sha256}.png"
    with Image.open(p.image_path) as stored:
        assert np.array_equal(np.asarray(stored), np.asarray(page_image))
        assert round(stored.info["dpi"][0]) == 200
    # same pixels again → same file, same hash (idempotent)
    assert rasterize(src, tmp_path / "pages", opts)[0].sha256 == p.sha256


def test_a_plain_png_is_kept_byte_for_byte_and_a_palette_png_is_converted(tmp_path, opts, page_image):
    """A one-page gray/RGB PNG needs no re-compression: its bytes are copied. A palette PNG is
    decoded to RGB and stored as a new PNG with the same pixels."""
    src = tmp_path / "scan.png"
    page_image.save(src, dpi=(200, 200), compress_level=1)    # not what the store would write
    p = rasterize(src, tmp_path / "pages", opts)[0]
    assert Path(p.image_path).read_bytes() == src.read_bytes()
    palette = tmp_path / "palette.png"
    page_image.convert("RGB").quantize(16).save(palette, dpi=(200, 200))
    q = rasterize(palette, tmp_path / "pages", opts)[0]
    with Image.open(q.image_path) as stored, Image.open(palette) as original:
        assert stored.mode == "RGB" and round(stored.info["dpi"][0]) == 200
        assert np.array_equal(np.asarray(stored), np.asarray(original.convert("RGB")))


def _handmade_png(width: int, height: int, bits: int, colour: int, row: bytes) -> bytes:
    """A PNG of identical rows (filter 0), for kinds Pillow cannot write."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress((b"\x00" + row) * height)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("name, bits, colour, row", [
    ("rgb16.png", 16, 2, bytes([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]) * 40),   # 16-bit RGB, decoded as RGB
    ("gray4.png", 4, 0, bytes([0x1f, 0x8e]) * 10),                          # 4-bit gray, decoded as L
])
def test_a_png_of_another_kind_is_stored_as_a_plain_png(tmp_path, opts, name, bits, colour, row):
    """Only a plain PNG (8-bit gray or RGB, 1-bit; ``plain_png``) is kept byte for byte:
    the store holds 8-bit data under the hash of the 8-bit pixels, and the searchable
    PDF can embed every stored page without decoding it."""
    from ocr.pdf import png_as_pdf_image
    from ocr.rasterize import plain_png

    src = tmp_path / name
    src.write_bytes(_handmade_png(40, 30, bits, colour, row))
    assert plain_png(src.read_bytes()) is None
    p = rasterize(src, tmp_path / "pages", opts)[0]
    stored = Path(p.image_path).read_bytes()
    assert stored != src.read_bytes() and plain_png(stored) is not None
    assert png_as_pdf_image(stored, 300) is not None
    with Image.open(src) as original, Image.open(p.image_path) as kept:
        assert np.array_equal(np.asarray(kept), np.asarray(original.convert(kept.mode)))


def test_a_png_with_an_exif_orientation_is_stored_without_it(tmp_path, opts, page_image):
    """Copying such a PNG would carry the rotation flag into the page image: the reader's
    derivatives would turn while the OCR boxes (in stored pixels) would not."""
    src = tmp_path / "rotated-flag.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    page_image.save(src, exif=exif)
    p = rasterize(src, tmp_path / "pages", opts)[0]
    with Image.open(p.image_path) as stored:
        assert stored.getexif().get(0x0112, 1) == 1
        assert stored.size == page_image.size and np.array_equal(np.asarray(stored), np.asarray(page_image))


def test_type_is_sniffed_from_content_not_extension(tmp_path, opts, page_image):
    misnamed = tmp_path / "scan.pdf"
    page_image.save(misnamed, format="JPEG", quality=92)
    pages = rasterize(misnamed, tmp_path / "pages", opts)
    assert len(pages) == 1 and pages[0].width == page_image.width
    text_as_png = tmp_path / "notes.png"
    text_as_png.write_text("Biên bản họp chi bộ\n", encoding="utf-8")
    with pytest.raises(NotAnImageError, match="notes.png"):
        rasterize(text_as_png, tmp_path / "pages", opts)


@pytest.mark.parametrize("compression", ["tiff_lzw", "group4"])
def test_multipage_tiff(tmp_path, opts, page_image, compression):
    frames = [page_image.convert("1") if compression == "group4" else page_image,
              page_image.rotate(180).convert("1") if compression == "group4" else page_image.rotate(180)]
    src = tmp_path / f"box-{compression}.tif"
    frames[0].save(src, save_all=True, append_images=frames[1:], compression=compression, dpi=(300, 300))
    pages = rasterize(src, tmp_path / "pages", opts)
    assert [p.page for p in pages] == [1, 2]
    assert pages[0].sha256 != pages[1].sha256
    assert all(p.dpi == 300 for p in pages)
    assert all(p.source == str(src) for p in pages)


def test_pdf_is_rendered_at_target_dpi(tmp_path, opts, page_image):
    import img2pdf

    png = tmp_path / "p.png"
    page_image.save(png, dpi=(200, 200))
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(img2pdf.convert([str(png), str(png)]))
    pages = rasterize(pdf, tmp_path / "pages", OcrOptions(target_dpi=150))
    assert [p.page for p in pages] == [1, 2]
    assert pages[0].dpi == 150
    # 4 × 1 inch page at 150 dpi
    assert abs(pages[0].width - 600) <= 2 and abs(pages[0].height - 150) <= 2


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_bad_inputs_give_typed_errors_naming_the_file(tmp_path, opts, page_image):
    out = tmp_path / "pages"
    cases: list[tuple[str, bytes | None, type]] = [
        ("empty.png", b"", EmptyFileError),
        ("truncated.png", _png_bytes(page_image)[:3000], TruncatedImageError),
        ("garbage.tif", b"II*\x00" + b"\x07" * 200, TruncatedImageError),
        ("random.jpg", bytes(range(256)) * 4, NotAnImageError),
        ("dot.png", _png_bytes(Image.new("L", (1, 1), 255)), ImageTooSmallError),
    ]
    buf = io.BytesIO()
    page_image.save(buf, format="JPEG")
    cases.append(("truncated.jpg", buf.getvalue()[: len(buf.getvalue()) // 2], TruncatedImageError))
    for name, data, error in cases:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(error) as info:
            rasterize(path, out, opts)
        assert name in str(info.value), str(info.value)
        assert isinstance(info.value, InputFileError)
    with pytest.raises(MissingFileError, match="missing.png"):
        rasterize(tmp_path / "missing.png", out, opts)


def test_decompression_bomb_is_refused_before_decoding(tmp_path, page_image):
    src = tmp_path / "huge.png"
    page_image.save(src)
    with pytest.raises(DecompressionBombError, match="huge.png.*over the limit"):
        rasterize(src, tmp_path / "pages", OcrOptions(max_image_pixels=10_000))


def test_encrypted_pdf(tmp_path, opts):
    src = tmp_path / "secret.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(src, encryption=pikepdf.Encryption(user="mat-khau", owner="mat-khau"))
    with pytest.raises(EncryptedPdfError, match="secret.pdf.*password"):
        rasterize(src, tmp_path / "pages", opts)
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.4\n1 0 obj\n<<")
    with pytest.raises(TruncatedImageError, match="damaged.pdf"):
        rasterize(damaged, tmp_path / "pages", opts)


def test_pillow_warnings_are_silenced_by_the_entry_points_even_after_catch_warnings(tmp_path, opts, page_image):
    """A host that imported ``ocr`` inside ``catch_warnings`` (pytest does) lost filters
    set at import; the entry points set them again, once (no duplicate on later calls)."""
    import warnings

    from ocr.rasterize import quiet_pillow

    src = tmp_path / "scan.png"
    page_image.save(src)
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("error")
        rasterize(src, tmp_path / "pages", opts)   # an entry point: quiet_pillow before any thread
        before = list(warnings.filters)
        quiet_pillow()
        assert warnings.filters == before
        warnings.warn_explicit("Corrupt EXIF data", UserWarning, "TiffImagePlugin.py", 1,
                               module="PIL.TiffImagePlugin")                 # ignored, not raised
        with pytest.raises(UserWarning):
            warnings.warn_explicit("ours", UserWarning, "stages.py", 1, module="kholuu.stages")
