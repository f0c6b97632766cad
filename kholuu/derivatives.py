"""Resized page images (reading sizes and thumbnails), cached on disk.

Core, not web: the pipeline makes every page's derivatives right after
rasterizing (so no reader waits for a decode) and the web app serves them;
both need the same names, so the naming and the making live here, below both.

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
FORMATS = {"jpeg": ("jpg", "image/jpeg"), "webp": ("webp", "image/webp")}


def _key(master: Path) -> str:
    st = master.stat()
    return hashlib.sha256(f"{master.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]


def _path(cache_dir: Path, key: str, width: int, fmt: str) -> Path:
    return cache_dir / key[:2] / f"{key}-{width}.{FORMATS[fmt][0]}"


def _save(im: Image.Image, out: Path, fmt: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=out.suffix)
    os.close(fd)
    try:
        if fmt == "webp":
            im.save(tmp, "WEBP", quality=80, method=4)
        else:
            im.save(tmp, "JPEG", quality=82)
        os.replace(tmp, out)   # atomic: a concurrent reader never sees half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_derivatives(master: Path, cache_dir: Path, fmt: str = "jpeg") -> dict[int, Path]:
    """Every allowed width of ``master`` in one decode, largest first.

    Decoding a 300 dpi page PNG costs about half a second; doing it once for all
    sizes (each resized from the next larger one) keeps the first look at a
    page fast and the thumbnails free afterwards. The pipeline calls this
    after rasterizing so that no reader ever waits.
    """
    key = _key(master)
    out: dict[int, Path] = {w: _path(cache_dir, key, w, fmt) for w in ALLOWED_WIDTHS}
    if all(p.exists() for p in out.values()):  # a re-run: nothing to decode
        return out
    out = {}
    (cache_dir / key[:2]).mkdir(parents=True, exist_ok=True)
    with Image.open(master) as opened:
        opened.draft("RGB", (ALLOWED_WIDTHS[-1], ALLOWED_WIDTHS[-1] * 4))   # fast path for JPEG masters
        im = ImageOps.exif_transpose(opened)
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        for width in sorted(ALLOWED_WIDTHS, reverse=True):
            if im.width > width:
                height = max(1, round(im.height * width / im.width))
                im = im.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=2.0)
            path = _path(cache_dir, key, width, fmt)
            if not path.exists():
                _save(im, path, fmt)
            out[width] = path
    return out


def derivative(master: Path, cache_dir: Path, width: int, fmt: str = "jpeg") -> Path:
    """Path of ``master`` at an allowed ``width`` (never enlarged), made on first use.

    Raises ``FileNotFoundError`` when the master is missing and ``OSError`` when
    it cannot be decoded; the caller answers 404.
    """
    path = _path(cache_dir, _key(master), width, fmt)
    if path.exists():
        return path
    return make_derivatives(master, cache_dir, fmt)[width]
