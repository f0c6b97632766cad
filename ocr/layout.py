"""Reading order for the two-column parts of Party documents.

Tesseract reads the header ("TỈNH ỦY THÁI BÌNH" left, "ĐẢNG CỘNG SẢN VIỆT NAM"
right) and the signature area ("Nơi nhận:" left, "T/M BAN THƯỜNG VỤ" right) as
lines that run across both columns, mixing them. Here a run of lines that are
split by a wide gap, or are short and off-centre, is a two-column band: its
left column is read first, then its right column. Full-width body lines and
centred titles end a band and keep Tesseract's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Generic, Sequence, TypeVar

T = TypeVar("T")


@dataclass
class Box(Generic[T]):
    """A word's box in any coordinate system, with the payload to reorder."""

    x0: float
    y0: float
    x1: float
    y1: float
    item: T


def _split(line: Sequence[Box[T]], min_gap: float) -> tuple[list[Box[T]], list[Box[T]]] | None:
    if len(line) < 2:
        return None
    height = median(b.y1 - b.y0 for b in line)
    gaps = [(line[i + 1].x0 - line[i].x1, i) for i in range(len(line) - 1)]
    gap, at = max(gaps)
    if gap < max(min_gap, 2.5 * height):
        return None
    return list(line[: at + 1]), list(line[at + 1:])


def reading_order(lines: Sequence[Sequence[Box[T]]], page_width: float) -> list[list[Box[T]]]:
    """Reorder ``lines`` (each a list of word boxes, left to right) for two-column bands."""
    lines = [list(line) for line in lines if line]
    if not lines:
        return []
    left = min(b.x0 for line in lines for b in line)
    right = max(b.x1 for line in lines for b in line)
    width = max(1.0, right - left)
    centre = (left + right) / 2
    min_gap = 0.04 * page_width

    def classify(line: list[Box[T]]):
        parts = _split(line, min_gap)
        if parts and parts[0][-1].x1 < centre + 0.1 * width and parts[1][0].x0 > centre - 0.1 * width:
            return "split", parts
        x0, x1 = line[0].x0, line[-1].x1
        mid = (x0 + x1) / 2
        if x1 - x0 < 0.45 * width and abs(mid - centre) > 0.1 * width:
            return ("left" if mid < centre else "right"), None
        return "full", None

    kinds = [classify(line) for line in lines]
    out: list[list[Box[T]]] = []
    i = 0
    while i < len(lines):
        if kinds[i][0] == "full":
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and kinds[j][0] != "full":
            j += 1
        band = range(i, j)
        if not any(kinds[k][0] == "split" for k in band):
            out.extend(lines[k] for k in band)  # only short lines: nothing to untangle
        else:
            lefts, rights = [], []
            for k in band:
                kind, parts = kinds[k]
                if kind == "split":
                    lefts.append(parts[0])
                    rights.append(parts[1])
                elif kind == "left":
                    lefts.append(lines[k])
                else:
                    rights.append(lines[k])
            out.extend(lefts + rights)
        i = j
    return out
