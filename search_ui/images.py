"""Resized page images for the browser, cached on disk.

Masters are lossless page PNGs of several megabytes; a slow office connection
must never receive one unless asked. Widths are clamped to a few sizes so the
cache stays small and every URL is a cache hit after the first request. A
derivative's name includes the master's size and modification time, so a
re-scanned page gets new derivatives instead of a stale one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

ALLOWED_WIDTHS: tuple[int, ...] = (160, 320, 640, 1000, 1600)
DEFAULT_WIDTH = 1000
FORMATS = {"jpeg": ("jpg", "image/jpeg"), "webp": ("webp", "image/webp")}


def clamp_width(requested: int | None) -> int:
    """The smallest allowed width at least as wide as asked (or the largest)."""
    if not requested or requested <= 0:
        return DEFAULT_WIDTH
    for w in ALLOWED_WIDTHS:
        if w >= requested:
            return w
    return ALLOWED_WIDTHS[-1]


def derivative(master: Path, cache_dir: Path, width: int, fmt: str = "jpeg") -> Path:
    """Path of ``master`` resized to ``width`` (never enlarged), made on first use.

    Raises ``FileNotFoundError`` when the master is missing and ``OSError`` when
    it cannot be decoded; the caller answers 404.
    """
    ext, _ = FORMATS[fmt]
    st = master.stat()
    key = hashlib.sha256(f"{master.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]
    out = cache_dir / key[:2] / f"{key}-{width}.{ext}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(master) as im:
        im.draft("RGB", (width, width * 4))   # fast path for large JPEG masters
        im = ImageOps.exif_transpose(im)
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        if im.width > width:
            height = max(1, round(im.height * width / im.width))
            im = im.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix="." + ext)
        os.close(fd)
        try:
            if fmt == "webp":
                im.save(tmp, "WEBP", quality=80, method=4)
            else:
                im.save(tmp, "JPEG", quality=82, optimize=True, progressive=True)
            os.replace(tmp, out)   # atomic: a concurrent reader never sees half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return out


def media_type(fmt: str) -> str:
    return FORMATS[fmt][1]
