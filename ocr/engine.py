"""OCR of one page and of many pages in parallel.

``ocr_page`` = measure → plan → preprocess → Tesseract → words mapped back to the
original page coordinates → Vietnamese post-correction and normalization, with
the result cached as JSON by (image file hash, settings hash): re-running a page
with the same inputs costs a file read. ``ocr_many`` runs pages across
``options.workers`` processes (each Tesseract child single-threaded), keeps only
a bounded number of pages in flight, and turns a failing page into an error
value so the other pages go on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image

from kholuu.errors import KholuuError
from kholuu.model import PageOCR, Word
from kholuu.textnorm import fold, normalize
from ocr import layout, preprocess, tesseract, textlayer
from ocr.correct import correct_words
from ocr.errors import MissingFileError, OcrEngineError, TruncatedImageError
from ocr.options import OcrOptions
from ocr.rasterize import _dpi_of

# A first pass below this mean confidence is retried after orientation detection.
RETRY_BELOW_CONF = 55.0
MARKS = [("TUYET MAT", "TUYỆT MẬT"), ("TOI MAT", "TỐI MẬT"), ("THUONG KHAN", "THƯỢNG KHẨN"),
         ("HOA TOC", "HỎA TỐC"), ("MAT", "MẬT"), ("KHAN", "KHẨN")]


@dataclass(frozen=True)
class OcrJob:
    image_path: Path
    source: str
    page: int


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cache_path(options: OcrOptions, image_hash: str, settings_hash: str) -> Path | None:
    if options.cache_dir is None:
        return None
    return Path(options.cache_dir) / image_hash[:2] / f"{image_hash}-{settings_hash}.json"


def _pixels(img: Image.Image) -> np.ndarray:
    """The pixels of an L or RGB image as a read-only array, as ``np.asarray(img)`` gives them.

    ``np.asarray`` goes through ``tobytes()``, which runs Pillow's raw packer 64 KB at a time and
    joins the pieces: ~25 ms for a 300 dpi A4 RGB page. The same packer run once into one buffer
    gives the same bytes in ~4 ms. Pillow's encoder lookup is internal, so anything unexpected
    falls back to ``np.asarray``.
    """
    bands = len(img.getbands())
    size = img.width * img.height * bands
    try:
        encoder = Image._getencoder(img.mode, "raw", img.mode)
        encoder.setimage(img.im, (0, 0, *img.size))
        try:
            _, status, data = encoder.encode(size)
        finally:
            encoder.cleanup()
    except (AttributeError, TypeError, ValueError, OSError):
        return np.asarray(img)
    if status != 1 or len(data) != size:
        return np.asarray(img)
    shape = (img.height, img.width) if bands == 1 else (img.height, img.width, bands)
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _load_image(path: Path) -> tuple[np.ndarray, int | None]:
    try:
        with Image.open(path) as img:           # Pillow's warnings: rasterize.quiet_pillow
            img.load()
            dpi = _dpi_of(img)
            mode = img.mode
            if mode not in ("L", "RGB"):
                img = img.convert("RGB" if mode not in ("1", "I;16", "I") else "L")
            arr = _pixels(img)
    except FileNotFoundError:
        raise MissingFileError(path, "no such page image") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise TruncatedImageError(path, f"the page image cannot be decoded ({exc})") from None
    return arr, dpi


def _mean(values: list[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0


def _ocr_prepared(prep: preprocess.Preprocessed, options: OcrOptions, what: Path) -> list[tesseract.TessWord]:
    return tesseract.image_to_words(prep.image, lang=options.lang, psm=options.psm, dpi=prep.dpi,
                                    timeout_s=options.timeout_s, tessdata_dir=options.tessdata_dir, what=what)


def _without_frame(ink_crop: np.ndarray) -> np.ndarray:
    """Remove a stamp's rectangular frame (long straight strokes) and pad: Tesseract
    reads the word inside a box far better without the box."""
    import cv2

    ink = (ink_crop < 128).astype(np.uint8)
    h, w = ink.shape
    hor = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(10, w // 2), 1)))
    ver = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(10, h // 2))))
    frame = cv2.dilate(hor | ver, np.ones((3, 3), np.uint8)).astype(bool)
    clean = np.where(ink.astype(bool) & ~frame, 0, 255).astype(np.uint8)
    return cv2.copyMakeBorder(clean, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)


def _mark_crops(mask: np.ndarray, origin: tuple[int, int], page_shape: tuple[int, ...]) -> list[np.ndarray]:
    """The stamp regions of ``mask`` worth reading, black on white without their frames, at most
    160 px high (~48 px text). ``mask`` is the window of the page whose top left corner is
    ``origin`` (x, y); it must reach 14 px past its ink (or the page edge) so the regions are those
    of a whole-page mask.

    Only wide regions in the upper part of the page are kept (a secrecy or urgency stamp is a word
    or two in a frame under the number and date; a round seal over the signature is not a mark).
    """
    import cv2

    if mask is None or np.count_nonzero(mask) < 200:
        return []
    ox, oy = origin
    # Stamp ink covers a few percent of the page: join and label it inside its bounding box only
    # (whole-page labelling cost ~60 ms a page). The box keeps a 12 px margin for the 25×25
    # dilation, so the joined regions are the same, and starts on even page pixels, so the labels
    # (and the order of equal-area regions) are too.
    bx, by, bw, bh = cv2.boundingRect(mask.view(np.uint8))
    bx, by = bx + ox, by + oy
    x0, y0 = max(0, bx - 12) & ~1, max(0, by - 12) & ~1
    x1, y1 = min(page_shape[1], bx + bw + 12), min(page_shape[0], by + bh + 12)
    joined = cv2.dilate(mask[y0 - oy:y1 - oy, x0 - ox:x1 - ox].view(np.uint8), np.ones((25, 25), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    crops = []
    for i in sorted(range(1, n), key=lambda i: -stats[i, cv2.CC_STAT_AREA])[:4]:
        x, y, w, h = (int(v) for v in stats[i, :4])
        x, y = x + x0, y + y0
        if w < 40 or h < 20 or w < 1.4 * h or y > 0.45 * page_shape[0]:
            continue  # marks are stamped under the number and date, in the upper part of the page
        crop = _without_frame(np.where(mask[y - oy:y - oy + h, x - ox:x - ox + w], np.uint8(0), np.uint8(255)))
        scale = min(1.0, 160 / crop.shape[0])
        if scale < 1.0:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        crops.append(crop)
    return crops


def _read_crops(crops: list[np.ndarray], options: OcrOptions, what: Path) -> list[tuple[int, tesseract.TessWord]]:
    """(crop index, word) for the words of all ``crops``, in Tesseract's order, from one call:
    a Tesseract start costs more than reading a stamp, so the crops are stacked into one sheet
    (20 px apart, each already padded by 30 px) and each word goes back to the crop its box's
    middle lies in."""
    import cv2

    width = max(c.shape[1] for c in crops)
    sheet = np.vstack([cv2.copyMakeBorder(c, 0, 20, 0, width - c.shape[1], cv2.BORDER_CONSTANT, value=255)
                       for c in crops])
    words = tesseract.image_to_words(sheet, lang=options.lang, psm=6, dpi=300, timeout_s=options.timeout_s,
                                     tessdata_dir=options.tessdata_dir, what=what)
    starts = np.cumsum([0] + [c.shape[0] + 20 for c in crops[:-1]])
    return [(int(np.searchsorted(starts, w.top + w.height / 2, side="right")) - 1, w) for w in words]


def _marks_in(words: list[tesseract.TessWord]) -> list[str]:
    """The marks (MẬT, KHẨN, ...) spelled by ``words`` (confidence ≥ 30), longest names first."""
    folded = " ".join(fold(normalize(w.text)).upper() for w in words if w.conf >= 30)
    folded = f" {''.join(c if c.isalnum() else ' ' for c in folded)} "
    found: list[str] = []
    for key, mark in MARKS:
        if f" {key} " in folded and not any(key in fold(m) for m in found):
            found.append(mark)
            folded = folded.replace(f" {key} ", " ")
    return found


def read_marks(mask: np.ndarray, options: OcrOptions, what: Path) -> list[str]:
    """Read red or blue stamps (MẬT, KHẨN, ...) from the stamp ink alone: black on white, the
    candidate regions (``_mark_crops``) in one Tesseract call."""
    if mask is None:
        return []
    crops = _mark_crops(mask, (0, 0), mask.shape)
    return _marks_in([w for _, w in _read_crops(crops, options, what)]) if crops else []


def read_frame_marks(gray: np.ndarray, frames: tuple[tuple[int, int, int, int], ...], options: OcrOptions,
                     what: Path) -> tuple[tuple[str, ...], ...]:
    """The marks read in each gray stamp frame found by ``measure`` (same order; () for a boxed
    heading or table cell), each frame's ink alone like a coloured stamp's, all frames of the
    page in one Tesseract call."""
    import cv2

    crops: list[np.ndarray] = []
    owner: list[int] = []
    for k, (x, y, w, h) in enumerate(frames):
        box = gray[y:y + h, x:x + w]
        thr, _ = cv2.threshold(box, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
        # the frame's ink in a window 16 px wider on each side (from an even pixel, see _mark_crops)
        ox, oy = max(0, x - 16) & ~1, max(0, y - 16) & ~1
        window = np.zeros((min(gray.shape[0], y + h + 16) - oy, min(gray.shape[1], x + w + 16) - ox), dtype=bool)
        window[y - oy:y - oy + box.shape[0], x - ox:x - ox + box.shape[1]] = box < thr
        for crop in _mark_crops(window, (ox, oy), gray.shape):
            crops.append(crop)
            owner.append(k)
    if not crops:
        return tuple(() for _ in frames)
    words: list[list[tesseract.TessWord]] = [[] for _ in frames]
    for i, word in _read_crops(crops, options, what):
        words[owner[i]].append(word)
    return tuple(tuple(_marks_in(ws)) for ws in words)


def _to_page(words: list[tesseract.TessWord], prep: preprocess.Preprocessed, options: OcrOptions,
             *, source: str, page: int) -> PageOCR:
    texts = [normalize(w.text) for w in words]
    if options.correct:
        texts = correct_words(texts)
    # Tesseract's lines in its reading order (rows across both header columns, which is what
    # extraction and the samples' ground truth expect); optionally column by column
    grouped: dict[tuple[int, int, int], list[layout.Box]] = {}
    for w, text in zip(words, texts):
        if text.strip():
            grouped.setdefault((w.block, w.par, w.line), []).append(
                layout.Box(w.left, w.top, w.left + w.width, w.top + w.height, (w, text)))
    lines = list(grouped.values())
    if options.column_order:
        lines = layout.reading_order(lines, prep.image.shape[1])
    out_words: list[Word] = []
    for number, line in enumerate(lines):
        for b in line:
            w, text = b.item
            box = prep.to_original((w.left, w.top, w.left + w.width, w.top + w.height))
            out_words.append(Word(text=text, conf=round(w.conf, 2), bbox=box, line=number))
    text = normalize("\n".join(" ".join(b.item[1] for b in line) for line in lines))
    return PageOCR(source=source, page=page, text=text, confidence=_mean([w.conf for w in out_words]),
                   words=out_words, width=prep.properties.width, height=prep.properties.height,
                   blank=not out_words, steps=list(prep.records))


def _ocr_uncached(image_path: Path, options: OcrOptions, *, source: str, page: int) -> PageOCR:
    arr, dpi = _load_image(image_path)
    props = preprocess.measure(arr, dpi)
    if props.blank:
        return PageOCR(source=source, page=page, text="", confidence=0.0, width=props.width,
                       height=props.height, blank=True, steps=["blank"])
    if options.preprocess and props.frames:  # faint gray pages only: which frames hold a mark decides the plan
        props = dataclasses.replace(props, frame_marks=read_frame_marks(preprocess._gray(arr), props.frames,
                                                                        options, image_path))
    steps = preprocess.plan_steps(props, options.target_dpi) if options.preprocess else ["grayscale"]

    def orient(image: np.ndarray) -> int:
        osd = tesseract.detect_orientation(image, timeout_s=options.timeout_s,
                                           tessdata_dir=options.tessdata_dir, what=image_path)
        return osd.rotate if osd else 0

    prep = preprocess.run(arr, props, steps, target_dpi=options.target_dpi, orient=orient)
    words = _ocr_prepared(prep, options, image_path)
    conf = _mean([w.conf for w in words])
    if options.preprocess and "orient" not in steps and (conf < RETRY_BELOW_CONF or len(words) < 3):
        # An upside-down or turned page reads as noise: ask OSD and read again if it says so.
        osd = tesseract.detect_orientation(prep.image, timeout_s=options.timeout_s,
                                           tessdata_dir=options.tessdata_dir, what=image_path)
        if osd and osd.rotate:
            turned = preprocess.Preprocessed(prep.image, prep.matrix.copy(), list(prep.records), prep.dpi,
                                             prep.properties, prep.stamp_mask)
            turned.apply(preprocess.rotate_orthogonal(turned.image, osd.rotate))
            turned.apply(preprocess.deskew(turned.image))
            again = _ocr_prepared(turned, options, image_path)
            if _mean([w.conf for w in again]) > conf:
                prep, words = turned, again
    result = _to_page(words, prep, options, source=source, page=page)
    if prep.stamp_mask is not None:   # coloured stamps lifted off a colour page
        result.marks = read_marks(prep.stamp_mask, options, image_path)
    elif any(props.frame_marks):
        result.marks = list(dict.fromkeys(m for marks in props.frame_marks for m in marks))
    return result


def ocr_page(image_path: Path, options: OcrOptions, *, source: str, page: int) -> PageOCR:
    """OCR one stored page image; cached by image hash + settings hash."""
    image_path = Path(image_path)
    if not image_path.is_file():
        raise MissingFileError(image_path, "no such page image")
    settings_hash = options.settings_hash()
    layer = textlayer.load(image_path)
    if layer is not None:  # born-digital PDF page: its own text layer, no OCR
        with Image.open(image_path) as img:
            width, height = img.size
        return PageOCR(source=source, page=page, text=textlayer.text_of(layer), confidence=100.0, words=layer,
                       width=width, height=height, blank=not layer, engine=textlayer.ENGINE,
                       settings_hash=settings_hash, steps=["text layer (born-digital)"])
    image_hash = _file_hash(image_path)
    cache = _cache_path(options, image_hash, settings_hash)
    if cache is not None and cache.is_file():
        try:
            cached = PageOCR.from_dict(json.loads(cache.read_text(encoding="utf-8")))
            cached.source, cached.page = source, page
            return cached
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is recomputed
    result = _ocr_uncached(image_path, options, source=source, page=page)
    result.engine = options.engine_label()
    result.settings_hash = settings_hash
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(result.to_dict(), f, ensure_ascii=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, cache)
    return result


def _job(job: OcrJob, options: OcrOptions) -> PageOCR | KholuuError:
    try:
        return ocr_page(job.image_path, options, source=job.source, page=job.page)
    except KholuuError as exc:
        return exc
    except Exception as exc:  # a bug on one page must not stop the batch
        return OcrEngineError(job.image_path, f"OCR failed: {exc.__class__.__name__}: {exc}")


def _executor(workers: int, kind: str) -> Executor:
    if kind == "process":
        import multiprocessing

        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kholuu-ocr")


def ocr_many(jobs: Sequence[OcrJob], options: OcrOptions, *,
             executor: str = "thread") -> Iterator[tuple[int, PageOCR | KholuuError]]:
    """OCR ``jobs`` on ``options.workers`` workers; yield (job index, result or error) as pages finish.

    Threads are the default: the heavy work (Tesseract in a child process, OpenCV
    and PIL, which release the GIL) runs outside the interpreter lock, and threads
    are safe inside Dagster and web servers where forking is not (bench/ocr_speed
    measures both). At most two pages per worker are in flight, so memory stays
    bounded however long the batch is.
    """
    from ocr.rasterize import quiet_pillow

    quiet_pillow()   # before the threads start (see there)
    jobs = list(jobs)
    workers = max(1, min(options.workers, len(jobs)))
    if workers == 1:
        for i, job in enumerate(jobs):
            yield i, _job(job, options)
        return
    options.settings_hash()  # fail early on a missing model; warms the version cache
    import cv2

    cv2.setNumThreads(1)  # pages are the unit of parallelism, as for Tesseract: no oversubscription
    with _executor(workers, executor) as pool:
        pending: dict[Future, int] = {}
        it = iter(enumerate(jobs))
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                try:
                    i, job = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending[pool.submit(_job, job, options)] = i
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    yield i, fut.result()
                except Exception as exc:  # worker died (killed, out of memory)
                    yield i, OcrEngineError(jobs[i].image_path, f"OCR worker failed: {exc.__class__.__name__}: {exc}")
