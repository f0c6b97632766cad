"""Page preprocessing: measured properties → a plan → one small step at a time.

Each step is a plain function ``step(image, ...) -> Step`` returning the new
image, a record of what it did, and the 3×3 matrix mapping the coordinates of
its input to those of its output. ``run`` composes the matrices, so OCR word
boxes can be mapped back to the ORIGINAL page image (after rotation, deskew and
upscaling) for drawing hits on the page.

Steps are chosen per page by ``plan_steps`` from ``measure``'d properties rather
than applied as one fixed chain: a clean 300 dpi page gets only grayscale; a
150 dpi carbon copy gets upscaling (before any binarization, which would
otherwise destroy the diacritics), illumination flattening and so on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

# Typical median height of a glyph's connected component, in inches, for 12–14 pt
# body text (measured on rendered pages: 0.085–0.09). Used to estimate a missing dpi.
GLYPH_HEIGHT_IN = 0.088
A4_LONG_IN = 11.69
A4_LONG_MM = 297.0         # A4_LONG_IN is this in inches, rounded
FAINT_CONTRAST = 60   # paper minus darkest ink below this: faded typescript, carbon copies


@dataclass
class Step:
    image: np.ndarray
    record: str                       # e.g. "deskew(-3.02°)"
    matrix: np.ndarray = field(default_factory=lambda: np.eye(3))  # input coords → output coords
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImageProperties:
    width: int
    height: int
    dpi: int | None                  # as read from the file
    effective_dpi: int               # dpi used for planning (read, or estimated from glyph heights)
    is_color: bool
    red_fraction: float              # share of page pixels that are saturated red
    blue_fraction: float
    ink_fraction: float              # share of dark (ink) pixels
    contrast: float                  # paper gray level minus the darkest ink's (0.3rd percentile)
    unevenness: float                # spread of the background illumination (gray levels)
    speckle: float                   # share of dark pixels that are isolated specks
    vertical_text: bool              # text lines run vertically (page turned 90/270°)
    blank: bool
    dark_edges: float = 0.0          # share of dark pixels along the page edges (scanner border)
    holes: int = 0                   # round dark blobs in the margins (punch holes)
    blue_cover: float = 0.0          # share of the page's ink lying on or next to blue ink
    # Seals and framed stamps in the page's own gray (no colour to lift them by), original pixels:
    seals: tuple[tuple[float, float, float], ...] = ()     # (centre x, centre y, outer ring radius)
    frames: tuple[tuple[int, int, int, int], ...] = ()     # (x, y, w, h) of a rectangular stamp frame
    # The marks read in each frame, same order (engine.read_frame_marks, before planning: only
    # a frame holding a mark is erased, so a boxed heading stays); () while not read.
    frame_marks: tuple[tuple[str, ...], ...] = ()


# ---------------------------------------------------------------- helpers

def _gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _small(gray: np.ndarray, max_side: int = 1000) -> tuple[np.ndarray, float]:
    scale = min(1.0, max_side / max(gray.shape))
    if scale >= 1.0:
        return gray, 1.0
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale


def _percentiles(gray: np.ndarray, ps: list[float]) -> list[float]:
    """Percentiles of a uint8 image from its histogram (much faster than sorting).

    OpenCV counts in half np.bincount's time (no int64 copy of the image); its float32
    counts are exact integers below 2^24 pixels, larger images take the numpy path."""
    if gray.dtype == np.uint8 and gray.size < 1 << 24:
        hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().astype(np.int64).cumsum()
    else:
        hist = np.bincount(gray.ravel(), minlength=256).cumsum()
    total = hist[-1]
    return [float(np.searchsorted(hist, total * p / 100.0)) for p in ps]


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return binary


def color_masks(rgb: np.ndarray, hsv: np.ndarray | None = None, min_sat: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of saturated red and blue pixels (stamps, seals, blue ink)."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV) if hsv is None else hsv
    h, s, v = cv2.split(hsv)
    coloured = (s >= min_sat) & (v >= 70)
    red = coloured & ((h <= 10) | (h >= 160))
    blue = coloured & (h >= 95) & (h <= 135)
    return red, blue


def _ink_points(binary: np.ndarray, limit: int = 80_000) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the ink pixels of a uint8 mask in row-major order, every n-th beyond
    ``limit``. cv2.findNonZero lists them in np.nonzero's order at a quarter of its cost."""
    points = cv2.findNonZero(binary)
    if points is None:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    points = points.reshape(-1, 2)
    if len(points) > limit:
        points = points[::len(points) // limit + 1]
    return points[:, 1].astype(np.float32), points[:, 0].astype(np.float32)


def _score_points(ys: np.ndarray, xs: np.ndarray, angle: float) -> float:
    """Sharpness of the row profile of ink points after rotating them by ``angle`` (degrees,
    counter-clockwise as in ``cv2.getRotationMatrix2D``): sum of squared differences."""
    if len(ys) == 0:
        return 0.0
    a = np.deg2rad(angle)
    proj = ys * np.float32(np.cos(a))
    proj -= xs * np.float32(np.sin(a))
    proj -= proj.min()
    # integer counts: the sum of squares is exact (the float64 sum it replaces was exact too)
    diff = np.diff(np.bincount(proj.astype(np.int32)))
    return float(np.dot(diff, diff))


def is_vertical(binary_small: np.ndarray) -> bool:
    """True when text lines run top to bottom (page turned by 90° or 270°).

    Compares the sharpest row profile with the sharpest column profile over the
    skew range, so a skewed upright page is not mistaken for a turned one.
    """
    ys, xs = _ink_points(binary_small)
    angles = np.arange(-6.0, 6.01, 1.0)
    rows = max(_score_points(ys, xs, float(a)) for a in angles)
    cols = max(_score_points(xs, ys, float(a)) for a in angles)
    return cols > 1.3 * rows


def estimate_dpi(gray: np.ndarray, vertical: bool = False) -> int | None:
    """Estimate the scan resolution from the median glyph height (None if no text).

    On a page turned by 90° the glyph "height" runs along x.
    """
    binary = _ink_mask(gray)
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n < 30:
        return None
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    if vertical:
        h, w = w, h
    sel = h[(h >= 4) & (w >= 2) & (h < max(gray.shape) / 10)]
    if len(sel) < 20:
        return None
    return int(round(float(np.median(sel)) / GLYPH_HEIGHT_IN))


def measure(img: np.ndarray, dpi: int | None) -> ImageProperties:
    """Measure what the plan needs, mostly on a downscaled copy (fast)."""
    gray = _gray(img)
    height, width = gray.shape
    # Contrast between paper and the darkest ink: percentiles of the whole page would
    # miss faint ink, which covers well under 1% of a typewritten page.
    detail, _ = _small(gray, 1800)
    small, _ = _small(detail)
    detail = cv2.medianBlur(detail, 3)
    paper, darkest = _percentiles(detail, [50, 0.3])
    contrast = paper - darkest
    ink = cv2.countNonZero(_below(detail, paper - max(25.0, contrast * 0.5))) / detail.size if contrast >= 25 else 0.0
    blank = contrast < 25 or ink < 0.0003
    is_color = img.ndim == 3
    red_f = blue_f = blue_cover = 0.0
    binary_small = _ink_mask(small)
    if is_color:
        rgb_small = cv2.resize(img, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
        red, blue = color_masks(rgb_small)
        red_f, blue_f = float(red.mean()), float(blue.mean())
        if blue_f > 0:
            near_blue = cv2.dilate(blue.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
            ink_px = binary_small > 0
            blue_cover = float((ink_px & near_blue).sum()) / max(1, int(ink_px.sum()))
    background = cv2.medianBlur(cv2.resize(small, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA), 9) \
        if min(small.shape) >= 40 else small
    b_lo, b_hi = _percentiles(background, [5, 95])
    unevenness = float(b_hi - b_lo)
    speckle = 0.0
    vertical = False
    effective = dpi
    if not blank:
        speckle = _speckle(gray, paper - max(25.0, contrast * 0.5))
        vertical = is_vertical(binary_small)
        if effective is None or not 3.0 <= max(width, height) / effective <= 25.0:
            estimated = estimate_dpi(gray, vertical)
            effective = estimated if estimated else int(round(max(width, height) / A4_LONG_IN))
    effective = int(min(1200, max(50, effective or 300)))
    dark_edges, holes = _edge_properties(binary_small)
    props = ImageProperties(width, height, dpi, effective, is_color, red_f, blue_f, ink, contrast,
                            unevenness, speckle, vertical, blank, dark_edges, holes, blue_cover)
    if not blank and contrast < FAINT_CONTRAST and not colour_stamps(props):
        # faint ink only: there a gray seal is as light as the type and Tesseract drops the
        # block under it; through a dark gray seal it reads better than with the seal erased
        # (7 real gray pages with seals: CER 8.4 -> 13.4 % when erased)
        props.seals, props.frames = find_gray_marks(gray, binary_small)
    return props


def _below(gray: np.ndarray, level: float) -> np.ndarray:
    """uint8 mask, 1 where ``gray < level``: one OpenCV pass instead of numpy's bool compare
    (and the mean or uint8 copy after it). Integer gray < level ⇔ gray ≤ ceil(level) - 1."""
    return cv2.threshold(gray, math.ceil(level) - 1, 1, cv2.THRESH_BINARY_INV)[1]


def _speckle(gray: np.ndarray, below: float) -> float:
    """Share of the dark pixels (gray < ``below``) that are isolated specks: at most one dark
    neighbour (strokes have many). Full resolution on purpose: specks are 1–2 px, a downscaled
    copy averages them away. OpenCV 8-bit passes, no bool/16-bit temporaries (~6 ms, not ~10)."""
    dark = _below(gray, below)
    dark_count = cv2.countNonZero(dark)
    neighbours = cv2.boxFilter(dark, -1, (3, 3), normalize=False)  # itself included, at most 9
    _, crowded = cv2.threshold(cv2.multiply(neighbours, dark), 2, 1, cv2.THRESH_BINARY)
    return float(dark_count - cv2.countNonZero(crowded)) / max(1, dark_count)


def _edge_properties(binary_small: np.ndarray) -> tuple[float, int]:
    h, w = binary_small.shape
    band = max(2, min(h, w) // 100)
    edges = np.concatenate([binary_small[:band].ravel(), binary_small[-band:].ravel(),
                            binary_small[:, :band].ravel(), binary_small[:, -band:].ravel()])
    return float((edges > 0).mean()), len(_punch_holes(binary_small))


def _punch_holes(binary: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Round, solid dark blobs 4–9 mm across in the outer 15% of the page."""
    h, w = binary.shape
    px_per_mm = max(h, w) / A4_LONG_MM
    _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    # the tests over all components at once (a page has thousands: a Python loop cost ~5 ms)
    x, y, bw, bh, area = (stats[1:, k].astype(np.float64) for k in range(5))
    side = np.maximum(bw, bh)
    aspect = bw / np.maximum(1.0, bh)
    cx, cy = x + bw / 2, y + bh / 2
    keep = ((4 * px_per_mm <= side) & (side <= 9 * px_per_mm) & (0.8 <= aspect) & (aspect <= 1.25)
            & (area >= 0.6 * bw * bh)
            & ((np.minimum(cx, w - cx) < 0.15 * w) | (np.minimum(cy, h - cy) < 0.15 * h)))
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in stats[1:][keep, :4]]


def find_gray_marks(gray: np.ndarray, binary_small: np.ndarray) -> tuple[tuple[tuple[float, float, float], ...],
                                                                          tuple[tuple[int, int, int, int], ...]]:
    """Round seals and rectangular stamp frames drawn in the text's own gray.

    On a gray scan (or faded ink, where every mark is as light as the type) there is no
    colour to lift a seal or a KHẨN stamp by, and Tesseract drops the signature block
    under a seal as a picture. Candidates are ink components taller than any text line,
    labelled on a half-size copy of the measuring binary (about 2–3 ms a page, run on faint
    pages only). A seal is confirmed by a circle of ink 10–25 mm in radius (Hough on the
    candidate region only), a frame by ink along all four sides of its box.
    """

    half = cv2.resize(binary_small, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    n, labels, stats, _ = cv2.connectedComponentsWithStats((half > 0).view(np.uint8), connectivity=8)
    px_mm = max(half.shape) / A4_LONG_MM
    to_full = max(gray.shape) / max(half.shape)
    seals: list[tuple[float, float, float]] = []
    frames: list[tuple[int, int, int, int]] = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        w_mm, h_mm = w / px_mm, h / px_mm
        if 6 <= h_mm <= 30 and 1.4 * h <= w and w_mm <= 120 and _is_frame(labels[y:y + h, x:x + w] == i):
            frames.append(tuple(int(round(v * to_full)) for v in (x, y, w, h)))  # type: ignore[misc]
        elif 15 <= min(w_mm, h_mm) and max(w_mm, h_mm) <= 120:
            circle = _find_circle(gray, tuple(int(round(v * to_full)) for v in (x, y, w, h)))  # type: ignore[arg-type]
            if circle is not None:
                seals.append(circle)
    return tuple(seals), tuple(frames)


def _is_frame(component: np.ndarray, min_cover: float = 0.7) -> bool:
    """Ink along all four sides of the component's box (a stamp frame, not a word or a line)."""
    h, w = component.shape
    band = max(1, min(h, w) // 8)
    sides = [component[:band].any(axis=0), component[-band:].any(axis=0),
             component[:, :band].any(axis=1), component[:, -band:].any(axis=1)]
    return all(float(side.mean()) >= min_cover for side in sides)


def _find_circle(gray: np.ndarray, box: tuple[int, int, int, int]) -> tuple[float, float, float] | None:
    """A seal's outer ring inside ``box``: the best Hough circle of radius 10–25 mm whose
    circumference is inked over most of its length; None if there is none."""

    x, y, w, h = box
    px_mm = max(gray.shape) / A4_LONG_MM
    scale = min(1.0, 4.0 / px_mm)            # 4 px a millimetre is enough to find a ring
    m = int(3 * px_mm)
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(gray.shape[1], x + w + m), min(gray.shape[0], y + h + m)
    roi = cv2.resize(gray[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if min(roi.shape) < 80:
        return None
    roi = cv2.GaussianBlur(roi, (3, 3), 0)
    found = cv2.HoughCircles(roi, cv2.HOUGH_GRADIENT, dp=1, minDist=40, param1=60, param2=30,
                             minRadius=int(10 * px_mm * scale), maxRadius=int(25 * px_mm * scale))
    if found is None:
        return None
    _, ink = cv2.threshold(roi, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)

    def inked(cx: float, cy: float, r: float) -> bool:
        xs = np.clip(np.round(cx + r * np.cos(angles)).astype(int), 0, roi.shape[1] - 1)
        ys = np.clip(np.round(cy + r * np.sin(angles)).astype(int), 0, roi.shape[0] - 1)
        return float(ink[ys, xs].mean()) >= 0.7

    for cx, cy, r in found[0][:3]:
        if inked(cx, cy, r):
            # Hough may settle on the inner of a seal's two rings: take the outermost inked one
            outer = max((rr for rr in np.arange(r, 1.45 * r, 1.0) if inked(cx, cy, rr)), default=r)
            return (x0 + float(cx) / scale, y0 + float(cy) / scale, float(outer) / scale)
    return None


# ---------------------------------------------------------------- steps

def grayscale(img: np.ndarray) -> Step:
    if img.ndim == 2:
        return Step(img, "grayscale(already)")
    return Step(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), "grayscale")


def suppress_stamps(img: np.ndarray, *, red: bool = True, blue: bool = False) -> Step:
    """Gray image with red (and optionally blue) stamp ink turned to paper.

    A stamp pixel's gray becomes its brightest channel, so red ink fades to near
    white while black text under the seal (dark in every channel) stays dark.
    Coloured regions are found on a small copy and only they are processed at
    full resolution (stamps cover a few percent of a page). ``data['mask']``
    keeps the suppressed stamp ink (original coordinates) for reading the stamps.
    """
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    scale = min(1.0, 800 / max(h, w))
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else img
    red_s, blue_s = color_masks(small, min_sat=35)  # thin strokes are paler after averaging
    found = (red_s if red else np.zeros_like(red_s)) | (blue_s if blue else np.zeros_like(blue_s))
    found = cv2.dilate(found.astype(np.uint8), np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(found, connectivity=8)
    stamp_ink = np.zeros((h, w), dtype=bool)
    replaced = 0
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        x0, y0 = max(0, int(x / scale) - 8), max(0, int(y / scale) - 8)
        x1, y1 = min(w, int((x + bw) / scale) + 8), min(h, int((y + bh) / scale) + 8)
        crop = img[y0:y1, x0:x1]
        hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
        red_mask, blue_mask = color_masks(crop, hsv)
        mask = (red_mask if red else np.zeros_like(red_mask)) | (blue_mask if blue else np.zeros_like(blue_mask))
        bright = hsv[..., 2]  # V = the brightest channel
        # scale so the stamp ink's own brightest channel becomes the paper's gray around it:
        # blue pad ink (V ≈ 190) left a visible gray ring at a fixed +40, red (V ≈ 205) barely
        # did; to white instead of the paper's gray, aged paper read worse (CER 0.87 → 0.96 %)
        v_ink = float(np.median(bright[mask])) if mask.any() else 215.0
        paper = _percentiles(gray[y0:y1, x0:x1], [90])[0]
        lifted = cv2.convertScaleAbs(bright, alpha=min(2.0, max(1.0, paper / max(v_ink, 1.0))), beta=10)
        # with the anti-aliased stamp edges: faint tinted pixels next to the stamp
        halo = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        replace = mask | (halo & (hsv[..., 1] >= 30) & (bright >= 120))
        np.copyto(gray[y0:y1, x0:x1], lifted, where=replace)
        stamp_ink[y0:y1, x0:x1] |= mask
        replaced += int(np.count_nonzero(mask))
    colours = "+".join(c for c, on in (("red", red), ("blue", blue)) if on)
    return Step(gray, f"suppress_stamps({colours}, {replaced / (h * w):.2%})", data={"mask": stamp_ink})


def _row_bands(rows: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in a 1-D boolean array, as (start, end) pairs."""
    edges = np.diff(np.concatenate([[0], rows.view(np.int8), [0]]))
    return list(zip(np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist()))


def erase_seal(gray: np.ndarray, seal: tuple[float, float, float]) -> np.ndarray:
    """Paint a gray seal's disc as paper, keeping the letters of text lines that run into it.

    Kept: letter-sized ink inside the disc (off the outer ring) that lies on a row band of
    ink just outside the disc and chains to it with gaps under a letter height (the
    signature block's lines begin under the seal). Everything else in the disc — rings,
    ring text, star, the committee's name, the signature's loops — goes.
    """

    cx, cy, r = seal
    h, w = gray.shape
    big = r * 1.06
    x0, x1 = max(0, int(cx - 2.5 * r)), min(w, int(cx + 2.5 * r) + 1)
    y0, y1 = max(0, int(cy - big) - 2), min(h, int(cy + big) + 3)
    roi = gray[y0:y1, x0:x1]
    paper = int(_percentiles(roi, [50])[0])
    thr, _ = cv2.threshold(roi, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = roi < thr
    yy, xx = np.ogrid[y0:y1, x0:x1]
    dist = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    disc = dist <= big
    inside = (ink & disc & (np.abs(dist - r) > max(4.0, 0.035 * r))).view(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=8)
    kept: set[int] = set()
    around = ink & ~disc & (dist <= big + 0.5 * r)
    right = xx > cx
    for near, b0, b1 in [(side, b0, b1) for side in (around & right, around & ~right)
                         for b0, b1 in _row_bands(side.any(axis=1))]:  # lines beside the seal, per side
        bh = b1 - b0
        if bh < 8 or bh > 0.3 * r:
            continue  # not a text line's height
        cols = np.nonzero(near[b0:b1].any(axis=0))[0]
        gap = 0.8 * bh
        breaks = np.nonzero(np.diff(cols) > gap)[0]
        spans = list(zip(cols[np.r_[0, breaks + 1]].tolist(), cols[np.r_[breaks, len(cols) - 1]].tolist()))
        grown = True
        while grown:
            grown = False
            for c in range(1, n):
                x, y, cw, ch = (int(v) for v in stats[c, :4])
                if c in kept or ch > 1.3 * bh or cw > 2 * bh:
                    continue
                if min(y + ch, b1 + 0.15 * bh) - max(y, b0 - 0.15 * bh) < 0.7 * ch:
                    continue  # not on this line
                if any(x <= s1 + gap and x + cw >= s0 - gap for s0, s1 in spans):
                    kept.add(c)
                    spans.append((x, x + cw))
                    grown = True
    keep = np.isin(labels, list(kept)) if kept else np.zeros(disc.shape, dtype=bool)
    erase = disc & ~keep
    # the signature's pen stroke beside the seal: ink larger than any letter of the lines
    # around it (typed letters do not touch), that is not a thin straight rule; with its
    # faint edges, and faint strokes with no ink core (a letter always has one)
    faint = cv2.blur(roi, (3, 3)) < paper - max(3.0, 0.25 * (paper - thr))
    near_seal = dist <= big + 0.5 * r
    n, labels, stats, _ = cv2.connectedComponentsWithStats((ink & ~disc).view(np.uint8), connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    letter = float(np.median(heights[heights >= 8])) if np.count_nonzero(heights >= 8) >= 5 else 0.0
    if letter:
        big_ones = [c for c in range(1, n)
                    if (stats[c, 2] > 3 * letter or stats[c, 3] > 2 * letter) and stats[c, 3] > 0.4 * letter
                    and near_seal[labels == c].any()]
        if big_ones:
            stroke = cv2.dilate(np.isin(labels, big_ones).view(np.uint8), np.ones((5, 5), np.uint8)).view(bool)
            erase |= stroke & faint
        n, labels, stats, _ = cv2.connectedComponentsWithStats((faint & ~disc & ~ink).view(np.uint8), connectivity=8)
        pale = [c for c in range(1, n) if max(stats[c, 2], stats[c, 3]) > 2 * letter and near_seal[labels == c].any()]
        if pale:
            erase |= np.isin(labels, pale)
    out = gray.copy()
    sub = out[y0:y1, x0:x1]
    sub[erase] = np.maximum(sub[erase], paper)
    return out


def erase_seals(gray: np.ndarray, seals: tuple[tuple[float, float, float], ...]) -> Step:
    """Gray seals found by ``find_gray_marks`` painted out (see ``erase_seal``)."""
    for seal in seals:
        gray = erase_seal(gray, seal)
    return Step(gray, f"erase_seals({len(seals)} gray)")


def marked_frames(props: ImageProperties) -> tuple[tuple[int, int, int, int], ...]:
    """The gray frames in which a mark was read (``ImageProperties.frame_marks``)."""
    return tuple(frame for frame, marks in zip(props.frames, props.frame_marks) if marks)


def erase_frames(gray: np.ndarray, frames: tuple[tuple[int, int, int, int], ...]) -> Step:
    """Gray MẬT/KHẨN stamps (frame and the words inside) painted as paper: only frames that
    hold a mark are given (``marked_frames``), the marks being reported instead."""
    out = gray.copy()
    for x, y, w, h in frames:
        m = max(2, h // 10)
        region = out[max(0, y - m):y + h + m, max(0, x - m):x + w + m]
        region[...] = np.maximum(region, int(_percentiles(region, [90])[0]))
    return Step(out, f"erase_frames({len(frames)} gray)")


def clean_borders(gray: np.ndarray) -> Step:
    """Paint dark scanner borders and punch holes white.

    Border: dark regions connected to the page edge that are large (a strip, not
    a letter cut by the edge). Holes: round solid blobs 4–9 mm wide in the margins.
    """
    binary = _ink_mask(gray)
    h, w = binary.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    out = gray.copy()
    remove = np.zeros(n, dtype=bool)
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        touches = x == 0 or y == 0 or x + bw >= w or y + bh >= h
        if touches and (bw > 0.2 * w or bh > 0.2 * h):
            remove[i] = True
    holes = _punch_holes(binary)
    for x, y, bw, bh in holes:
        sub = labels[y:y + bh, x:x + bw]
        remove[np.unique(sub[sub > 0])] = True
    mask = remove[labels]
    out[mask] = 255
    return Step(out, f"clean_borders({int(remove[1:].sum()) - len(holes)} border, {len(holes)} holes)")


def upscale(img: np.ndarray, from_dpi: int, to_dpi: int) -> Step:
    """Resample to ``to_dpi`` before any binarization, to keep diacritics.

    Lanczos measured best (bench: 91 dpi phone photo CER 9.6% → 6.5%; cubic 9.6%).
    """
    scale = min(4.0, to_dpi / max(1, from_dpi))
    out = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_LANCZOS4)
    sy, sx = out.shape[0] / img.shape[0], out.shape[1] / img.shape[1]
    return Step(out, f"upscale({from_dpi}→{to_dpi} dpi, ×{scale:.2f})", np.diag([sx, sy, 1.0]))


def rotate_orthogonal(img: np.ndarray, degrees_cw: int) -> Step:
    """Rotate by 90, 180 or 270 degrees clockwise (exact, no resampling)."""
    h, w = img.shape[:2]
    degrees_cw %= 360
    if degrees_cw == 0:
        return Step(img, "rotate(0°)")
    if degrees_cw == 90:
        out, m = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE), [[0, -1, h], [1, 0, 0], [0, 0, 1]]
    elif degrees_cw == 180:
        out, m = cv2.rotate(img, cv2.ROTATE_180), [[-1, 0, w], [0, -1, h], [0, 0, 1]]
    elif degrees_cw == 270:
        out, m = cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE), [[0, 1, 0], [-1, 0, w], [0, 0, 1]]
    else:
        raise ValueError(f"not a right angle: {degrees_cw}")
    return Step(out, f"rotate({degrees_cw}° cw)", np.array(m, dtype=np.float64))


def estimate_skew(gray: np.ndarray, limit: float = 6.0) -> float:
    """Angle (degrees, counter-clockwise) that straightens the text lines.

    Projection-profile search over the ink pixels of a downscaled copy: the right
    angle makes the row profile sharpest. Coarse 0.5° grid, then 0.05° steps.
    """
    small, _ = _small(gray, 1600)
    ys, xs = _ink_points(_ink_mask(small))
    best = max(np.arange(-limit, limit + 1e-9, 0.5), key=lambda a: _score_points(ys, xs, float(a)))
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    return float(max(fine, key=lambda a: _score_points(ys, xs, float(a))))


def deskew(img: np.ndarray, angle: float | None = None, min_angle: float = 0.5) -> Step:
    """Rotate by the measured skew (no-op below ``min_angle``: Tesseract reads a
    page tilted by less than half a degree as well, and the rotation costs time)."""
    angle = estimate_skew(_gray(img)) if angle is None else angle
    if abs(angle) < min_angle:
        return Step(img, f"deskew(skipped, {angle:+.2f}°)", data={"angle": angle})
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    border = 255 if img.ndim == 2 else (255, 255, 255)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    return Step(out, f"deskew({angle:+.2f}°)", np.vstack([m, [0, 0, 1]]), data={"angle": angle})


def flatten_illumination(gray: np.ndarray) -> Step:
    """Divide by a smooth background estimate: uneven lighting, yellowed paper."""
    small, scale = _small(gray, 600)
    k = max(15, int(min(small.shape) / 12) | 1)
    background = cv2.medianBlur(cv2.dilate(small, np.ones((5, 5), np.uint8)), k)
    background = cv2.resize(background, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(gray, np.maximum(background, 1), scale=255)
    return Step(out, "flatten_illumination")


def stretch_contrast(gray: np.ndarray) -> Step:
    """Map the 1st–99.5th percentile to full range: faded typewriter ink."""
    lo, hi = _percentiles(gray, [1, 99.5])
    if hi - lo < 1:
        return Step(gray, "stretch_contrast(skipped)")
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    out = cv2.LUT(gray, lut)
    return Step(out, f"stretch_contrast({lo:.0f}..{hi:.0f})")


def denoise(gray: np.ndarray) -> Step:
    """Median filter: removes isolated specks without eating diacritics at 300 dpi."""
    return Step(cv2.medianBlur(gray, 3), "denoise(median 3)")


def binarize(gray: np.ndarray, dpi: int = 300) -> Step:
    """Adaptive (local Gaussian) threshold, window scaled with the resolution."""
    block = max(15, int(dpi / 300 * 41) | 1)
    out = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 12)
    return Step(out, f"binarize(adaptive {block}px)")


# ---------------------------------------------------------------- plan and run

def blue_is_stamp(props: ImageProperties) -> bool:
    """Blue ink that is a stamp or seal, not the text: enough of it, yet only a minority of
    the page's ink lies on or next to it. On a carbon copy or a page typed in blue nearly
    all ink does (the blue pixel count alone is no guide: thin blue strokes lose their
    saturation when measured small, so blue text counted as little as 30% of the ink)."""
    return props.is_color and props.blue_fraction >= 0.001 and props.blue_cover < 0.5


def colour_stamps(props: ImageProperties) -> bool:
    """Red or blue stamps that colour separates from the text (``suppress_stamps``)."""
    return props.is_color and (props.red_fraction >= 0.0005 or blue_is_stamp(props))


def plan_steps(props: ImageProperties, target_dpi: int = 300) -> list[str]:
    """Choose the steps for one page from its measured properties."""
    if props.blank:
        return []
    steps: list[str] = []
    if colour_stamps(props):
        steps.append("suppress_stamps")
    else:
        steps.append("grayscale")
        if props.seals:
            steps.append("erase_seals")
        if marked_frames(props):
            steps.append("erase_frames")
    if props.dark_edges > 0.2 or props.holes:
        steps.append("clean_borders")
    if props.effective_dpi < target_dpi * 0.9:
        steps.append("upscale")
    if props.vertical_text:
        steps.append("orient")
    steps.append("deskew")
    if props.unevenness > 15:  # aged paper measures 16–25, clean scans under 10 (bench: CER 9.8 → 8.5 summed)
        steps.append("flatten_illumination")
    if props.contrast < FAINT_CONTRAST:  # only very faint ink: stretching aged typescript measured worse
        steps.append("stretch_contrast")
    if props.speckle > 0.02:
        steps.append("denoise")
    if props.unevenness > 60:
        steps.append("binarize")
    return steps


@dataclass
class Preprocessed:
    image: np.ndarray
    matrix: np.ndarray          # original page coords → processed coords
    records: list[str]
    dpi: int                    # resolution of the processed image
    properties: ImageProperties
    stamp_mask: np.ndarray | None = None   # red (and blue) stamp pixels, in original coordinates
    # (matrix bytes, its inverse): one inversion for all a page's word boxes, redone if the matrix changes
    _inverse: tuple[bytes, np.ndarray] | None = field(default=None, init=False, repr=False, compare=False)

    def to_original(self, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        """Map a box in processed coordinates back to the original page image."""
        x0, y0, x1, y1 = box
        key = self.matrix.tobytes()
        if self._inverse is None or self._inverse[0] != key:
            self._inverse = (key, np.linalg.inv(self.matrix))
        inv = self._inverse[1]
        pts = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]], dtype=np.float64).T
        mapped = inv @ pts
        xs, ys = mapped[0] / mapped[2], mapped[1] / mapped[2]
        w, h = self.properties.width, self.properties.height
        return (int(max(0, min(w, np.floor(xs.min())))), int(max(0, min(h, np.floor(ys.min())))),
                int(max(0, min(w, np.ceil(xs.max())))), int(max(0, min(h, np.ceil(ys.max())))))

    def apply(self, step: Step) -> None:
        self.image = step.image
        self.matrix = step.matrix @ self.matrix
        self.records.append(step.record)


def run(img: np.ndarray, props: ImageProperties, steps: list[str], *, target_dpi: int = 300,
        orient: Any = None) -> Preprocessed:
    """Apply ``steps`` in order. ``orient(gray) -> degrees_cw`` decides orientation (OSD)."""
    result = Preprocessed(img, np.eye(3), [], props.effective_dpi, props)
    for name in steps:
        if name == "suppress_stamps":
            step = suppress_stamps(result.image, blue=blue_is_stamp(props))
            result.stamp_mask = step.data["mask"]
        elif name == "grayscale":
            step = grayscale(result.image)
        elif name == "erase_seals":
            step = erase_seals(_gray(result.image), props.seals)
        elif name == "erase_frames":
            step = erase_frames(_gray(result.image), marked_frames(props))
        elif name == "clean_borders":
            step = clean_borders(_gray(result.image))
        elif name == "upscale":
            step = upscale(result.image, props.effective_dpi, target_dpi)
            result.dpi = target_dpi
        elif name == "orient":
            degrees = orient(result.image) if orient else 0
            step = rotate_orthogonal(result.image, degrees or 0)
        elif name == "deskew":
            step = deskew(result.image)
        elif name == "flatten_illumination":
            step = flatten_illumination(result.image)
        elif name == "stretch_contrast":
            step = stretch_contrast(result.image)
        elif name == "denoise":
            step = denoise(result.image)
        elif name == "binarize":
            step = binarize(result.image, result.dpi)
        else:
            raise ValueError(f"unknown preprocessing step {name!r}")
        result.apply(step)
    return result
