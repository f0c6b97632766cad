"""Born-digital PDFs: keep a good text layer instead of OCRing the page.

``pdftotext -bbox-layout`` gives the words of a page with their boxes (points);
they are scaled to the rasterized page's pixels and regrouped into rows across
the page (the same reading order Tesseract gives a scan, so extraction sees one
shape of text). A layer is "good" when it has enough words and nearly all of its
letter tokens are valid Vietnamese syllables or upper-case abbreviations —
legacy-font PDFs (TCVN3/VNI extracted as ``cđa``, ``K ÉT LUẬN``) fail that and
are OCRed instead. The words are stored beside the page PNG as
``<hash>.textlayer.json``; ``ocr_page`` uses that file when it exists.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from kholuu.model import Word
from kholuu.textnorm import normalize
from ocr.correct import is_valid_syllable

ENGINE = "pdf text layer (born-digital)"
MIN_WORDS = 15
MIN_VALID_SHARE = 0.85
_NS = "{http://www.w3.org/1999/xhtml}"
_LETTERS = re.compile(r"[^\W\d_]+")


def sidecar_path(image_path: Path) -> Path:
    return Path(image_path).with_name(Path(image_path).stem + ".textlayer.json")


def read_text_layer(pdf: Path, page: int, dpi: int, timeout_s: float) -> list[Word]:
    """Words of one PDF page in pixel coordinates at ``dpi``, in row reading order."""
    try:
        proc = subprocess.run(["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                              capture_output=True, timeout=timeout_s)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return []
    if proc.returncode != 0:
        return []
    try:
        root = ET.fromstring(proc.stdout.decode("utf-8", "replace"))
    except ET.ParseError:
        return []
    scale = dpi / 72.0
    lines: list[list[tuple[float, float, float, float, str]]] = []
    for line in root.iter(f"{_NS}line"):
        words = []
        for w in line.iter(f"{_NS}word"):
            text = normalize((w.text or "").strip())
            if text:
                words.append((float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")),
                              float(w.get("yMax")), text))
        if words:
            lines.append(words)
    # rows: lines whose vertical centres are within half a line height of each other
    lines.sort(key=lambda ws: (min(w[1] for w in ws), min(w[0] for w in ws)))
    rows: list[list[tuple[float, float, float, float, str]]] = []
    for ws in lines:
        centre = sum((w[1] + w[3]) / 2 for w in ws) / len(ws)
        height = max(w[3] - w[1] for w in ws)
        if rows:
            last = rows[-1]
            last_centre = sum((w[1] + w[3]) / 2 for w in last) / len(last)
            if abs(centre - last_centre) < height / 2:
                last.extend(ws)
                continue
        rows.append(list(ws))
    out: list[Word] = []
    for number, row in enumerate(rows):
        for x0, y0, x1, y1, text in sorted(row, key=lambda w: w[0]):
            out.append(Word(text=text, conf=100.0, line=number,
                            bbox=(int(x0 * scale), int(y0 * scale), int(round(x1 * scale)), int(round(y1 * scale)))))
    return out


def is_good(words: list[Word]) -> bool:
    """Enough words, and the letters read as Vietnamese (not a legacy-font mangle)."""
    if len(words) < MIN_WORDS:
        return False
    tokens = [t for w in words for t in _LETTERS.findall(w.text)]
    if not tokens:
        return False
    ok = sum(1 for t in tokens if is_valid_syllable(t) or (t.isascii() and t.isupper()) or t.isascii() and len(t) <= 3)
    return ok / len(tokens) >= MIN_VALID_SHARE and not any("\ufffd" in w.text for w in words)


def save(words: list[Word], image_path: Path, width: int, height: int) -> Path:
    path = sidecar_path(image_path)
    data = {"width": width, "height": height, "words": [w.to_dict() for w in words]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def load(image_path: Path) -> list[Word] | None:
    path = sidecar_path(image_path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Word.from_dict(w) for w in data["words"]]
    except (ValueError, KeyError, TypeError):
        return None


def text_of(words: list[Word]) -> str:
    lines: dict[int, list[str]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w.text)
    return normalize("\n".join(" ".join(lines[k]) for k in sorted(lines)))
