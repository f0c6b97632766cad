"""The one module that runs Tesseract.

Tesseract runs as a child process with ``OMP_THREAD_LIMIT=1`` (its own threads
make many-page work far slower; kholuu parallelizes pages instead), a timeout
that kills it, and typed errors. Output is parsed from TSV: words with boxes,
confidences and Tesseract's block/paragraph/line numbering (its reading order).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from ocr.errors import OcrEngineError, OcrTimeoutError

TESSERACT = "tesseract"


@dataclass(frozen=True)
class TessWord:
    """One word as Tesseract reports it, in the coordinates of the image it was given."""

    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int
    block: int
    par: int
    line: int


@dataclass(frozen=True)
class Osd:
    rotate: int          # degrees clockwise to rotate the image to make it upright
    orientation_conf: float
    script: str


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def _run(args: list[str], *, timeout_s: float, what: Path | str) -> str:
    try:
        proc = subprocess.run([TESSERACT, *args], capture_output=True, timeout=timeout_s, env=_env())
    except FileNotFoundError:
        raise OcrEngineError(what, "tesseract is not installed (apt install tesseract-ocr tesseract-ocr-vie)") from None
    except subprocess.TimeoutExpired:
        raise OcrTimeoutError(what, f"tesseract did not finish within {timeout_s:g} s") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrEngineError(what, f"tesseract failed: {err[-1] if err else 'exit code ' + str(proc.returncode)}")
    return proc.stdout.decode("utf-8", "replace")


def _common(lang: str, tessdata_dir: Path | None) -> list[str]:
    args = ["-l", lang]
    if tessdata_dir is not None:
        args += ["--tessdata-dir", str(tessdata_dir)]
    return args


@lru_cache(maxsize=1)
def version() -> str:
    """The engine version, e.g. ``tesseract 5.3.0`` (recorded per page, part of the cache key)."""
    out = subprocess.run([TESSERACT, "--version"], capture_output=True, timeout=30).stdout.decode()
    return out.splitlines()[0].strip() if out else "tesseract unknown"


@lru_cache(maxsize=8)
def default_tessdata_dir() -> Path:
    out = _run(["--list-langs"], timeout_s=30, what="tesseract")
    m = re.search(r'"([^"]+)"', out)
    if not m:
        raise OcrEngineError("tesseract", "cannot find the tessdata directory")
    return Path(m.group(1))


@lru_cache(maxsize=16)
def _file_sha256(path: Path, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def traineddata_hashes(lang: str, tessdata_dir: Path | None) -> dict[str, str]:
    """sha256 of each ``<lang>.traineddata`` used: another model means another output."""
    base = tessdata_dir or default_tessdata_dir()
    result = {}
    for part in lang.split("+"):
        path = base / f"{part}.traineddata"
        if not path.is_file():
            raise OcrEngineError(path, f"Tesseract language '{part}' is not installed")
        st = path.stat()
        result[part] = _file_sha256(path, st.st_mtime_ns, st.st_size)
    return result


def _as_png(image: Image.Image | np.ndarray | Path, tmp: Path) -> Path:
    if isinstance(image, Path):
        return image
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and (
            image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        # the bytes Pillow's PNM writer would write (header, then the rows), without its
        # piecewise packing: ~3.5 instead of ~6 ms for a 300 dpi A4 page
        target = tmp / ("page.pgm" if image.ndim == 2 else "page.ppm")
        with open(target, "wb") as f:
            f.write(b"%s\n%d %d\n255\n" % (b"P5" if image.ndim == 2 else b"P6", image.shape[1], image.shape[0]))
            f.write(np.ascontiguousarray(image).data)
        return target
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    # PNM: no compression to pay for; Tesseract (Leptonica) reads it directly
    target = tmp / ("page.ppm" if image.mode == "RGB" else "page.pgm")
    if image.mode not in ("L", "RGB"):
        image = image.convert("L")
    image.save(target)
    return target


def image_to_words(image: Image.Image | np.ndarray | Path, *, lang: str, psm: int, dpi: int | None,
                   timeout_s: float, tessdata_dir: Path | None = None,
                   what: Path | str = "page") -> list[TessWord]:
    """Words with boxes and confidences, in Tesseract's reading order."""
    with tempfile.TemporaryDirectory(prefix="kholuu-tess-") as tmp:
        src = _as_png(image, Path(tmp))
        args = [str(src), "stdout", *_common(lang, tessdata_dir), "--psm", str(psm)]
        if dpi:
            args += ["--dpi", str(int(dpi))]
        # TSV by variables, not the "tsv" config file: a model directory given with
        # --tessdata-dir (e.g. the npm 4.0.0 models) has no configs/ folder
        out = _run([*args, "-c", "tessedit_create_tsv=1", "-c", "tessedit_create_txt=0"], timeout_s=timeout_s, what=what)
    return parse_tsv(out)


def parse_tsv(tsv: str) -> list[TessWord]:
    words: list[TessWord] = []
    lines = tsv.splitlines()
    for row in lines[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        try:
            conf = float(cols[10])
            block, par, line = int(cols[2]), int(cols[3]), int(cols[4])
            left, top, width, height = (int(c) for c in cols[6:10])
        except ValueError:
            continue
        words.append(TessWord(text, max(conf, 0.0), left, top, width, height, block, par, line))
    return words


def detect_orientation(image: Image.Image | np.ndarray | Path, *, timeout_s: float,
                       tessdata_dir: Path | None = None, what: Path | str = "page") -> Osd | None:
    """Tesseract OSD (``--psm 0``); None when there is too little text to decide."""
    with tempfile.TemporaryDirectory(prefix="kholuu-osd-") as tmp:
        src = _as_png(image, Path(tmp))
        args = [str(src), "stdout", "--psm", "0"]
        if tessdata_dir is not None and (Path(tessdata_dir) / "osd.traineddata").is_file():
            args += ["--tessdata-dir", str(tessdata_dir)]  # else the system's osd model
        try:
            out = _run(args, timeout_s=timeout_s, what=what)
        except OcrTimeoutError:
            raise
        except OcrEngineError:
            return None  # "Too few characters" and friends: undecided, not an error
    rotate = re.search(r"Rotate:\s*(\d+)", out)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", out)
    script = re.search(r"Script:\s*(\S+)", out)
    if not rotate:
        return None
    return Osd(int(rotate.group(1)), float(conf.group(1)) if conf else 0.0, script.group(1) if script else "")


def image_to_string(image: Image.Image | np.ndarray | Path, *, lang: str, psm: int, timeout_s: float,
                    tessdata_dir: Path | None = None, what: Path | str = "page") -> str:
    with tempfile.TemporaryDirectory(prefix="kholuu-tess-") as tmp:
        src = _as_png(image, Path(tmp))
        return _run([str(src), "stdout", *_common(lang, tessdata_dir), "--psm", str(psm)],
                    timeout_s=timeout_s, what=what)
