"""Render sample Party documents to scan-like A4 page images.

Layout happens once, in pixels at a reference 300 dpi, so the text on each page
(``ground_truth``) does not depend on the output resolution, the seed or the
degradation; drawing then scales positions and font sizes to the requested dpi.
Each page is composed from ink layers (black text, red seal and stamps, blue
signature) multiplied onto a paper tone, then given mild scan noise. Everything
random comes from a generator seeded by (seed, document, page), so a page is
the same bytes every time.

Fonts must carry Vietnamese glyphs: ``missing_glyphs`` reads a font's cmap so a
missing letter is an error, not a tofu box on the page.
"""

from __future__ import annotations

import csv
import io
import math
import struct
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from kholuu.errors import KholuuError
from kholuu.samples import MARKUP, strip_markup

if TYPE_CHECKING:
    from kholuu.samples import SampleDocument

REF_DPI = 300
PT = REF_DPI / 72          # layout pixels per point
MM = REF_DPI / 25.4        # layout pixels per millimetre
PAGE_W, PAGE_H = round(210 * MM), round(297 * MM)
DEGRADES = ("none", "mild", "aged")
FORMATS = ("png", "jpeg", "tiff", "pdf")

_FONT_DIRS = ("/usr/share/fonts/truetype/liberation2", "/usr/share/fonts/truetype/freefont",
              "/usr/share/fonts/truetype/noto", "/usr/share/fonts/truetype/dejavu")
# Per era, candidate families (regular, bold, italic, bold italic), first complete one wins.
_FAMILIES = {
    "typewriter": [("FreeMono.ttf", "FreeMonoBold.ttf", "FreeMonoOblique.ttf", "FreeMonoBoldOblique.ttf"),
                   ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf", "LiberationMono-Italic.ttf",
                    "LiberationMono-BoldItalic.ttf")],
    "print": [("FreeSerif.ttf", "FreeSerifBold.ttf", "FreeSerifItalic.ttf", "FreeSerifBoldItalic.ttf"),
              ("NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf", "NotoSerif-Italic.ttf", "NotoSerif-BoldItalic.ttf")],
    "digital": [("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf", "LiberationSerif-Italic.ttf",
                 "LiberationSerif-BoldItalic.ttf"),
                ("FreeSerif.ttf", "FreeSerifBold.ttf", "FreeSerifItalic.ttf", "FreeSerifBoldItalic.ttf")],
    "stamp": [("LiberationSans-Bold.ttf",) * 4, ("FreeSansBold.ttf",) * 4, ("DejaVuSans-Bold.ttf",) * 4],
}
_FACES = ("r", "b", "i", "bi")


class RenderError(KholuuError):
    """A sample page cannot be rendered (missing font, bad option)."""


# --------------------------------------------------------------------------- fonts

def _find_font(name: str) -> Path | None:
    for d in _FONT_DIRS:
        p = Path(d) / name
        if p.is_file():
            return p
    return None


@lru_cache(maxsize=32)
def _cmap(path: Path) -> frozenset[int]:
    """Code points mapped by a TrueType/OpenType font (cmap formats 4 and 12)."""
    data = path.read_bytes()
    num_tables = struct.unpack_from(">H", data, 4)[0]
    cmap_off = None
    for i in range(num_tables):
        tag, _, off, _ = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"cmap":
            cmap_off = off
    if cmap_off is None:
        return frozenset()
    points: set[int] = set()
    n_sub = struct.unpack_from(">H", data, cmap_off + 2)[0]
    for i in range(n_sub):
        platform, encoding, off = struct.unpack_from(">HHI", data, cmap_off + 4 + 8 * i)
        if platform not in (0, 3):
            continue
        sub = cmap_off + off
        fmt = struct.unpack_from(">H", data, sub)[0]
        if fmt == 4:
            seg2 = struct.unpack_from(">H", data, sub + 6)[0]
            ends = struct.unpack_from(f">{seg2 // 2}H", data, sub + 14)
            starts = struct.unpack_from(f">{seg2 // 2}H", data, sub + 16 + seg2)
            deltas = struct.unpack_from(f">{seg2 // 2}h", data, sub + 16 + 2 * seg2)
            ro_base = sub + 16 + 3 * seg2
            ranges = struct.unpack_from(f">{seg2 // 2}H", data, ro_base)
            for k, (s, e) in enumerate(zip(starts, ends)):
                for c in range(s, min(e, 0xFFFE) + 1):
                    if ranges[k] == 0:
                        gid = (c + deltas[k]) & 0xFFFF
                    else:
                        at = ro_base + 2 * k + ranges[k] + 2 * (c - s)
                        gid = struct.unpack_from(">H", data, at)[0]
                        gid = (gid + deltas[k]) & 0xFFFF if gid else 0
                    if gid:
                        points.add(c)
        elif fmt == 12:
            n_groups = struct.unpack_from(">I", data, sub + 12)[0]
            for g in range(n_groups):
                s, e, gid = struct.unpack_from(">III", data, sub + 16 + 12 * g)
                points.update(c for c in range(s, e + 1) if gid + (c - s))
    return frozenset(points)


def missing_glyphs(font_path: Path | str, text: str) -> set[str]:
    """Characters of ``text`` (besides spaces and controls) the font cannot draw."""
    cmap = _cmap(Path(font_path))
    return {c for c in set(text) if not c.isspace() and ord(c) not in cmap}


@lru_cache(maxsize=8)
def _family(style: str, sample: str) -> tuple[Path, ...]:
    tried = []
    for names in _FAMILIES[style]:
        paths = [_find_font(n) for n in names]
        tried.append(names[0])
        if all(paths) and not any(missing_glyphs(p, sample) for p in paths):  # type: ignore[arg-type]
            return tuple(paths)  # type: ignore[arg-type]
    raise RenderError(f"no font for the {style!r} style draws every Vietnamese letter (tried "
                      f"{', '.join(tried)} in {', '.join(_FONT_DIRS)}); install fonts-liberation2 "
                      "and fonts-freefont-ttf")


def font_paths(style: str, text: str) -> dict[str, Path]:
    """The font files (by face r/b/i/bi) the renderer uses for ``text`` in ``style``."""
    return dict(zip(_FACES, _family(style, "".join(sorted(set(text))))))


@lru_cache(maxsize=256)
def _font(path: Path, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), max(px, 1))


# --------------------------------------------------------------------------- layout

@dataclass(frozen=True)
class _Style:
    body_pt: float
    header_pt: float
    party_pt: float
    title_pt: float
    small_pt: float
    leading: float           # line height / font size
    justify: bool
    margins_mm: tuple[float, float, float, float]  # top, bottom, left, right
    paper: tuple[int, int, int]
    ink: tuple[int, int, int]


_AGED_PAPER = (228, 216, 186)   # yellowed, for degrade="aged"
_STYLES = {
    "typewriter": _Style(12, 12, 12, 13, 11, 1.45, False, (18, 20, 28, 17), (238, 231, 212), (34, 30, 48)),
    "print": _Style(13.5, 13, 14, 15, 12, 1.28, True, (20, 20, 30, 17), (247, 245, 239), (22, 22, 22)),
    "digital": _Style(14, 13.5, 14.5, 15.5, 12, 1.22, True, (20, 20, 30, 17), (252, 252, 250), (12, 12, 12)),
}


@dataclass
class _Run:
    x: float                 # left of the text, layout px
    y: float                 # baseline, layout px
    text: str
    face: str                # r, b, i, bi
    pt: float
    body: bool = False       # part of a body paragraph (may move to the next page)


@dataclass
class _Page:
    number: int
    lines: list[tuple[str, list[_Run]]] = field(default_factory=list)
    rules: list[tuple[float, float, float]] = field(default_factory=list)  # x0, x1, y
    seal: tuple[float, float] | None = None
    stamps: list[tuple[str, float, float]] = field(default_factory=list)   # text, centre x, centre y
    scribble: tuple[float, float] | None = None


class _Layout:
    """Greedy top-to-bottom layout of one document over A4 pages."""

    def __init__(self, doc: "SampleDocument"):
        self.doc = doc
        self.st = _STYLES[doc.era_style]
        self.fonts = font_paths(doc.era_style, doc.printed_text() + "0123456789")
        top, bottom, left, right = (m * MM for m in self.st.margins_mm)
        self.top, self.bottom, self.left, self.right = top, PAGE_H - bottom, left, PAGE_W - right
        self.width = self.right - self.left
        self.pages: list[_Page] = []
        self.y = 0.0
        self.new_page()

    # measuring
    def w(self, text: str, face: str, pt: float) -> float:
        return _font(self.fonts[face], round(pt * PT)).getlength(text)

    def lh(self, pt: float) -> float:
        return pt * PT * self.st.leading

    @property
    def page(self) -> _Page:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append(_Page(len(self.pages) + 1))
        self.y = self.top
        if len(self.pages) > 1:   # page number, centred at the top from page 2
            pt = self.st.small_pt
            text = str(len(self.pages))
            self.y += pt * PT
            self.add_line(text, [_Run(self.left + (self.width - self.w(text, "r", pt)) / 2, self.y, text, "r", pt)])
            self.y += self.lh(pt) * 0.8

    def add_line(self, text: str, runs: list[_Run]) -> None:
        self.page.lines.append((text, runs))

    def carry_last_body_lines(self, n: int) -> None:
        """Start a new page taking the last ``n`` body lines along, as typists do, so
        the signature never stands alone on its page."""
        page = self.page
        body = [i for i, (_, runs) in enumerate(page.lines) if runs and runs[0].body]
        take = body[-n:] if len(body) > n + 2 and body[-n:] == list(range(len(page.lines) - n, len(page.lines))) \
            else []
        moved = [page.lines.pop() for _ in take][::-1]
        self.new_page()
        if moved:
            shift = self.y + moved[0][1][0].pt * PT * 1.3 - moved[0][1][0].y
            for text, runs in moved:
                for r in runs:
                    r.y += shift
                self.add_line(text, runs)
            self.y = moved[-1][1][0].y + self.lh(moved[-1][1][0].pt) - moved[-1][1][0].pt * PT

    def need(self, height: float) -> None:
        if self.y + height > self.bottom:
            self.new_page()

    def wrap(self, text: str, width: float, face: str, pt: float, indent: float = 0.0) -> list[list[str]]:
        lines: list[list[str]] = []
        cur: list[str] = []
        space = self.w(" ", face, pt)
        used = indent
        for word in text.split():
            ww = self.w(word, face, pt)
            if cur and used + space + ww > width:
                lines.append(cur)
                cur, used = [], 0.0
            used += (space if cur else 0.0) + ww
            cur.append(word)
        if cur:
            lines.append(cur)
        return lines

    def centred(self, text: str, cx: float, y: float, face: str, pt: float) -> _Run:
        return _Run(cx - self.w(text, face, pt) / 2, y, text, face, pt)

    def centred_block(self, lines: Iterable[str], cx: float, width: float, y: float, face: str,
                      pt: float) -> tuple[list[tuple[str, list[_Run]]], float]:
        """Centred lines (wrapped to ``width``); returns them and the next baseline."""
        out = []
        for line in lines:
            for words in self.wrap(line, width, face, pt):
                text = " ".join(words)
                out.append((text, [self.centred(text, cx, y, face, pt)]))
                y += self.lh(pt)
        return out, y

    # blocks
    def header(self) -> None:
        d, st = self.doc, self.st
        lw = self.width * 0.46
        lcx, rcx = self.left + lw / 2, self.left + self.width * 0.71
        rw = self.width * 0.56
        y0 = self.top + st.party_pt * PT
        left, y = self.centred_block(d.superior, lcx, lw, y0, "r", st.header_pt)
        more, y = self.centred_block(d.issuer, lcx, lw, y, "b", st.header_pt)
        left += more
        left.append(("*", [self.centred("*", lcx, y, "r", st.header_pt)]))
        y += self.lh(st.header_pt) * 0.9
        number_y = y
        left.append((d.number_line, [self.centred(d.number_line, lcx, y, "r", st.header_pt)]))
        y += self.lh(st.header_pt)
        if d.is_cong_van:
            more, y = self.centred_block(d.subject, lcx, lw, y + 2 * PT, "i", st.small_pt)
            left += more
        marks = [m for m in (d.security_mark, d.urgency_mark) if m]
        for mark in marks:
            y += 5 * MM
            self.page.stamps.append((mark, lcx, y))
            y += 7 * MM
        party = "ĐẢNG CỘNG SẢN VIỆT NAM"
        right = [(party, [self.centred(party, rcx, y0, "b", st.party_pt)])]
        pw = self.w(party, "b", st.party_pt)
        self.page.rules.append((rcx - pw / 2, rcx + pw / 2, y0 + 2.2 * MM))
        date_y = max(number_y, y0 + self.lh(st.party_pt) * 2)
        for text, runs in self.centred_block([d.date_line], rcx, rw, date_y, "i", st.header_pt)[0]:
            right.append((text, runs))
        for line in left + right:
            self.add_line(*line)
        self.y = max(y, date_y + self.lh(st.header_pt)) + 4 * MM

    def title(self) -> None:
        d, st = self.doc, self.st
        if d.is_cong_van:
            self.y += 2 * MM
            return
        cx = self.left + self.width / 2
        self.y += st.title_pt * PT
        lines, y = self.centred_block([d.title], cx, self.width, self.y, "b", st.title_pt)
        more, y = self.centred_block(d.subject, cx, self.width * 0.86, y, "b", st.header_pt)
        for line in lines + more:
            self.add_line(*line)
        rule_y = y - self.lh(st.header_pt) + 3.5 * MM
        self.page.rules.append((cx - 12 * MM, cx + 12 * MM, rule_y))
        self.y = rule_y + 6 * MM

    def paragraph(self, para: str) -> None:
        st = self.st
        pt = st.body_pt
        face, indent, align = "r", 10 * MM, "justify" if st.justify else "left"
        kind, para = MARKUP.get(para[:2], ""), strip_markup(para)
        if kind == "centre":
            face, indent, align = "b", 0.0, "centre"
        elif kind == "heading":
            face, align = "b", "left"
        elif kind == "block":
            indent, align = self.width * 0.18, "block"
        box_left = self.left + (indent if align == "block" else 0.0)
        box_width = self.width - (indent if align == "block" else 0.0)
        lines = self.wrap(para, box_width, face, pt, 0.0 if align in ("centre", "block") else indent)
        space = self.w(" ", face, pt)
        self.y += pt * PT * 0.3
        for k, words in enumerate(lines):
            self.need(self.lh(pt))
            text = " ".join(words)
            widths = [self.w(wd, face, pt) for wd in words]
            x = box_left + (indent if k == 0 and align in ("justify", "left") else 0.0)
            avail = self.left + self.width - x
            gap = space
            if align == "centre":
                x = self.left + (self.width - sum(widths) - space * (len(words) - 1)) / 2
            elif align == "justify" and k < len(lines) - 1 and len(words) > 1:
                gap = (avail - sum(widths)) / (len(words) - 1)
                gap = min(gap, space * 3.0)
            runs = []
            for wd, ww in zip(words, widths):
                runs.append(_Run(x, self.y + pt * PT, wd, face, pt, body=True))
                x += ww + gap
            self.add_line(text, runs)
            self.y += self.lh(pt)

    def signature(self) -> None:
        d, st = self.doc, self.st
        sig = d.signature
        rcx, rw = self.left + self.width * 0.71, self.width * 0.56
        lw = self.width * 0.52
        spt, rpt = st.header_pt, st.small_pt
        right_h = (len(sig.authority) + 2) * self.lh(spt) + 26 * MM
        left_h = (len(d.recipients) + 1) * self.lh(rpt) * 1.15
        self.y += 4 * MM
        if self.y + max(right_h, left_h) + spt * PT > self.bottom:
            self.carry_last_body_lines(2)
            self.y += 2 * MM
        y0 = self.y + spt * PT
        # left: Nơi nhận
        label = "Nơi nhận:"
        left = [(label, [_Run(self.left, y0, label, "bi", rpt)])]
        self.page.rules.append((self.left, self.left + self.w(label, "bi", rpt), y0 + 1.2 * MM))
        y = y0 + self.lh(rpt)
        for item in d.recipients:
            for k, words in enumerate(self.wrap(item, lw - 3 * MM, "r", rpt)):
                text = " ".join(words)
                left.append((text, [_Run(self.left + (0 if k == 0 else 3 * MM), y, text, "r", rpt)]))
                y += self.lh(rpt)
        left_end = y
        # right: authority, title, space for the signature, name
        right, y = self.centred_block([*sig.authority, sig.title], rcx, rw, y0, "b", spt)
        title_y = y - self.lh(spt)
        gap_top = y
        y += 22 * MM
        name_y = y
        right.append((sig.name, [self.centred(sig.name, rcx, name_y, "b", spt)]))
        for line in left + right:
            self.add_line(*line)
        self.page.scribble = (rcx, (gap_top + name_y) / 2 - 3 * MM)
        if d.seal:  # over the left part of the signature, as a stamp is applied
            self.page.seal = (rcx - 20 * MM, title_y + 8 * MM)
        self.y = max(left_end, name_y + self.lh(spt))


@lru_cache(maxsize=64)
def _layout(doc: "SampleDocument") -> tuple[_Page, ...]:
    lay = _Layout(doc)
    lay.header()
    lay.title()
    for para in doc.body:
        lay.paragraph(para)
    lay.signature()
    return tuple(lay.pages)


def _rows(page: _Page) -> list[str]:
    """Lines side by side (within 3 mm of each other's baseline) as one row, left to right."""
    items = sorted(((runs[0].y, runs[0].x, text) for text, runs in page.lines if runs), key=lambda t: (t[0], t[1]))
    rows: list[tuple[float, list[tuple[float, str]]]] = []
    for y, x, text in items:
        if rows and y - rows[-1][0] < 3 * MM:
            rows[-1][1].append((x, text))
        else:
            rows.append((y, [(x, text)]))
    return [" ".join(text for _, text in sorted(row)) for _, row in rows]


def ground_truth(doc: "SampleDocument") -> list[str]:
    """The exact text of each rendered page (stamps, seal and signature excluded).

    Reading order is by rows, top to bottom, as OCR reads a page: lines printed
    side by side (the header's two columns, "Nơi nhận:" beside the signature
    block) join on one line, left to right.
    """
    return ["\n".join(_rows(page)) for page in _layout(doc)]


# --------------------------------------------------------------------------- drawing

@dataclass
class _Patch:
    """A small coloured mark (seal, stamp, signature) placed over the page."""

    mask: Image.Image        # L, 255 = full ink
    centre: tuple[float, float]  # output px
    angle: float             # own rotation, degrees
    colour: tuple[int, int, int]
    strength: float = 1.0


def _rng(seed: int, doc: "SampleDocument", page: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(doc.id.encode("utf-8")), page])


def _smooth_field(rng: np.random.Generator, size: tuple[int, int], cells: tuple[int, int],
                  mean: float, spread: float) -> np.ndarray:
    """A low-frequency random field (paper tone, ink fading), as float32 H×W."""
    small = rng.normal(mean, spread, (cells[1], cells[0])).astype(np.float32)
    img = Image.fromarray(small, mode="F").resize(size, Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.float32)


def _draw_text(ink: Image.Image, page: _Page, fonts: dict[str, Path], s: float, typewriter: bool,
               rng: np.random.Generator) -> None:
    draw = ImageDraw.Draw(ink)
    for _, runs in page.lines:
        for r in runs:
            font = _font(fonts[r.face], round(r.pt * PT * s))
            if not typewriter:
                draw.text((r.x * s, r.y * s), r.text, font=font, fill=255, anchor="ls")
                continue
            # typewriter: each key strikes with its own force and a little off the line
            x = r.x * s
            levels = rng.integers(150, 256, len(r.text))
            jitter = rng.normal(0.0, 0.45 * s, len(r.text))
            for ch, lvl, dy in zip(r.text, levels, jitter):
                draw.text((x, r.y * s + dy), ch, font=font, fill=int(lvl), anchor="ls")
                x += font.getlength(ch)
    width = max(1, round(0.3 * MM * s))
    for x0, x1, y in page.rules:
        draw.line([(x0 * s, y * s), (x1 * s, y * s)], fill=255, width=width)


def _paste_rotated(layer: Image.Image, small: Image.Image, centre: tuple[float, float], angle: float) -> None:
    rotated = small.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    x = round(centre[0] - rotated.width / 2)
    y = round(centre[1] - rotated.height / 2)
    region = layer.crop((x, y, x + rotated.width, y + rotated.height))
    layer.paste(ImageChops.lighter(region, rotated), (x, y))


def _seal_texts(doc: "SampleDocument") -> tuple[str, str]:
    issuer = " ".join(doc.issuer).upper()
    if "HUYỆN" in issuer:
        return f"ĐẢNG CỘNG SẢN VIỆT NAM • HUYỆN {doc.place.upper()} •", "HUYỆN ỦY"
    if "THÀNH" in issuer:
        return f"ĐẢNG CỘNG SẢN VIỆT NAM • THÀNH PHỐ {doc.place.upper()} •", "THÀNH ỦY"
    return "ĐẢNG CỘNG SẢN VIỆT NAM • TỈNH THÁI BÌNH •", "TỈNH ỦY"


def _seal(doc: "SampleDocument", centre: tuple[float, float], s: float, rng: np.random.Generator,
          font_path: Path) -> _Patch:
    """A round Party seal: ring text, star and the committee's name in the centre."""
    radius = 16.5 * MM * s
    size = int(radius * 2 + 8)
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    c = size / 2
    for r, w in ((radius, 0.7), (radius * 0.72, 0.45)):
        draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=max(1, round(w * MM * s)))
    ring, centre_text = _seal_texts(doc)
    font = _font(font_path, round(3.0 * MM * s))
    text_r = radius * 0.86
    step = 2 * math.pi / len(ring)
    box = max(4, round(6 * MM * s))
    for k, ch in enumerate(ring):
        if ch == " ":
            continue
        a = -math.pi / 2 + k * step
        glyph = Image.new("L", (box, box), 0)
        ImageDraw.Draw(glyph).text((box / 2, box / 2), ch, font=font, fill=255, anchor="mm")
        _paste_rotated(img, glyph, (c + text_r * math.cos(a), c + text_r * math.sin(a)), -math.degrees(a) - 90)
    star = next((p for p in (_find_font("DejaVuSans.ttf"), _find_font("FreeSerif.ttf"), font_path)
                 if p and not missing_glyphs(p, "★")), None)
    if star:  # no font with a star: leave it out rather than draw a box
        draw.text((c, c - 3 * MM * s), "★", font=_font(star, round(6 * MM * s)), fill=255, anchor="mm")
    draw.text((c, c + 4 * MM * s), centre_text, font=_font(font_path, round(4.2 * MM * s)), fill=255, anchor="mm")
    patchy = np.clip(_smooth_field(rng, img.size, (5, 5), 0.85, 0.22), 0.3, 1.0)
    mask = Image.fromarray((np.asarray(img, dtype=np.float32) * patchy).astype(np.uint8), "L")
    return _Patch(mask, (centre[0] * s, centre[1] * s), float(rng.uniform(-25, 25)), (205, 35, 45), 0.9)


def _stamp(text: str, centre: tuple[float, float], s: float, rng: np.random.Generator, font_path: Path) -> _Patch:
    """A red rectangular "MẬT" / "KHẨN" stamp."""
    font = _font(font_path, round(16 * PT * s))
    pad = 2.5 * MM * s
    w, h = int(font.getlength(text) + 2 * pad), int(16 * PT * s + 2 * pad)
    img = Image.new("L", (w + 4, h + 4), 0)
    draw = ImageDraw.Draw(img)
    draw.rectangle((2, 2, w, h), outline=255, width=max(1, round(0.6 * MM * s)))
    draw.text((2 + w / 2, 2 + h / 2), text, font=font, fill=255, anchor="mm")
    return _Patch(img, (centre[0] * s, centre[1] * s), float(rng.uniform(-3, 3)), (210, 30, 40), 0.9)


def _scribble(centre: tuple[float, float], s: float, rng: np.random.Generator) -> _Patch:
    """A hand signature: a looping pen stroke in blue ink."""
    span = rng.uniform(28, 40) * MM * s
    w, h = int(span + 12 * MM * s), int(20 * MM * s)
    img = Image.new("L", (w, h), 0)
    t = np.linspace(0, 1, 160)
    loops = rng.uniform(4, 7)
    xs = (w - span) / 2 + span * t + 3 * MM * s * np.sin(2 * math.pi * loops * t + rng.uniform(0, 6))
    ys = h / 2 + 5 * MM * s * np.sin(math.pi * loops * t) * (1 - t) - 4 * MM * s * (t - 0.5)
    ImageDraw.Draw(img).line(list(zip(xs.tolist(), ys.tolist())), fill=235,
                             width=max(1, round(0.35 * MM * s)), joint="curve")
    return _Patch(img, (centre[0] * s, centre[1] * s), 0.0, (40, 60, 150), 0.85)


def _apply_patch(arr: np.ndarray, patch: _Patch, page_angle: float, size: tuple[int, int]) -> None:
    """Multiply-blend a rotated patch into the H×W(×3) uint8 array, moved with the page rotation."""
    mask = patch.mask.rotate(patch.angle + page_angle, resample=Image.Resampling.BICUBIC, expand=True)
    a = math.radians(page_angle)
    cx, cy = size[0] / 2, size[1] / 2
    dx, dy = patch.centre[0] - cx, patch.centre[1] - cy
    px, py = cx + dx * math.cos(a) + dy * math.sin(a), cy - dx * math.sin(a) + dy * math.cos(a)
    x0, y0 = round(px - mask.width / 2), round(py - mask.height / 2)
    m = np.asarray(mask, dtype=np.float32) / 255.0 * patch.strength
    # clip to the page
    sx0, sy0 = max(0, -x0), max(0, -y0)
    ex, ey = min(mask.width, size[0] - x0), min(mask.height, size[1] - y0)
    if ex <= sx0 or ey <= sy0:
        return
    window = (slice(y0 + sy0, y0 + ey), slice(x0 + sx0, x0 + ex))
    region = arr[window].astype(np.float32)
    tint = 1.0 - np.asarray(patch.colour, dtype=np.float32) / 255.0
    if arr.ndim == 2:   # grey page: the mark's luminance
        region *= 1.0 - m[sy0:ey, sx0:ex] * float(tint.mean())
    else:
        region *= 1.0 - m[sy0:ey, sx0:ex, None] * tint
    arr[window] = np.clip(region, 0, 255).astype(arr.dtype)


def _is_colour(doc: "SampleDocument") -> bool:
    return bool(doc.seal or doc.security_mark or doc.urgency_mark or doc.era_style == "typewriter")


def render_pages(doc: "SampleDocument", *, dpi: int = 300, degrade: str = "mild", seed: int = 0) -> list[Image.Image]:
    """Draw every page of ``doc`` as a PIL image (RGB when it has colour or is aged, else L).

    Scan noise (``degrade``): "none" is a clean white page; "mild" is a paper
    tone, a rotation of at most 0.7°, light blur and sparse grain; "aged" more of
    each, faded ink and dust.
    """
    if not 72 <= dpi <= 600:
        raise RenderError(f"dpi {dpi} out of range (72–600) for sample {doc.id!r}")
    if degrade not in DEGRADES:
        raise RenderError(f"degrade {degrade!r} is not one of {', '.join(DEGRADES)}")
    pages = _layout(doc)
    st = _STYLES[doc.era_style]
    fonts = font_paths(doc.era_style, doc.printed_text() + "0123456789")
    seal_text = "".join(_seal_texts(doc)) + (doc.security_mark or "") + (doc.urgency_mark or "")
    stamp_font = font_paths("stamp", seal_text)["b"]
    s = dpi / REF_DPI
    size = (round(PAGE_W * s), round(PAGE_H * s))
    typewriter = doc.era_style == "typewriter"
    colour = _is_colour(doc) or degrade == "aged"
    max_angle, blur, grain, grain_share = {"none": (0.0, 0.0, 0.0, 0.0), "mild": (0.7, 0.55, 10.0, 0.03),
                                           "aged": (1.2, 0.9, 16.0, 0.08)}[degrade]
    paper_rgb = np.asarray({"none": (255, 255, 255), "mild": st.paper, "aged": _AGED_PAPER}[degrade], dtype=np.float32)
    paper_grey = float(paper_rgb.mean())
    out = []
    for page in pages:
        rng = _rng(seed, doc, page.number)
        angle = float(rng.uniform(-max_angle, max_angle)) if max_angle else 0.0
        ink = Image.new("L", size, 0)
        _draw_text(ink, page, fonts, s, typewriter, rng)
        if typewriter:  # carbon copy: a faint offset ghost and soft edges
            ghost = ImageChops.offset(ink, max(1, round(1.5 * s)), max(1, round(s))).point(lambda v: int(v * 0.3))
            ink = ImageChops.lighter(ink, ghost)
        soft = blur + (0.7 if typewriter else 0.0)
        if soft:
            ink = ink.filter(ImageFilter.GaussianBlur(soft * s))
        if angle:
            ink = ink.rotate(angle, resample=Image.Resampling.BILINEAR)
        patches = []
        if page.scribble:
            patches.append(_scribble(page.scribble, s, rng))
        if page.seal:
            patches.append(_seal(doc, page.seal, s, rng, stamp_font))
        patches += [_stamp(text, (cx, cy), s, rng, stamp_font) for text, cx, cy in page.stamps]

        grey = np.full((size[1], size[0]), paper_grey, dtype=np.float32)
        if degrade != "none":
            grey *= _smooth_field(rng, size, (9, 12), 1.0, 0.009 if degrade == "mild" else 0.035)
        ink_m = np.asarray(ink, dtype=np.float32)
        if typewriter or degrade == "aged":
            ink_m *= np.clip(_smooth_field(rng, size, (6, 8), 0.88, 0.1), 0.55, 1.0)
        grey *= 1.0 - ink_m * ((1.0 - float(np.mean(st.ink)) / 255.0) / 255.0)
        if grain:
            n = int(grain_share * size[0] * size[1])
            ys, xs = rng.integers(0, size[1], n), rng.integers(0, size[0], n)
            grey[ys, xs] += rng.normal(0.0, grain, n).astype(np.float32)
            if degrade == "aged":  # dust
                k = int(300 * s * s)
                grey[rng.integers(0, size[1], k), rng.integers(0, size[0], k)] *= 0.35
        img = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L")
        if colour:  # tint to the paper colour channel by channel (lookup tables are cheap)
            img = Image.merge("RGB", [img.point([min(255, round(v * c / paper_grey)) for v in range(256)])
                                      for c in paper_rgb.tolist()])
        if patches:
            arr = np.asarray(img).copy()
            for patch in patches:
                _apply_patch(arr, patch, angle, size)
            img = Image.fromarray(arr, img.mode)
        out.append(img)
    return out


def _save(img: Image.Image, path: Path, dpi: int) -> Path:
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "png":
        img.save(path, "PNG", dpi=(dpi, dpi), compress_level=1)
    elif fmt in ("jpg", "jpeg"):
        img.save(path, "JPEG", dpi=(dpi, dpi), quality=88)
    elif fmt in ("tif", "tiff"):
        img.save(path, "TIFF", dpi=(dpi, dpi), compression="tiff_lzw")
    else:
        raise RenderError(f"{path}: unsupported page format {fmt!r}")
    return path


def render_document(doc: "SampleDocument", out_dir: Path | str, *, dpi: int = 300, degrade: str = "mild",
                    seed: int = 0, fmt: str = "png") -> list[Path]:
    """Render ``doc`` to one image file a page (``<id>_p<n>.<fmt>``), DPI recorded in each."""
    if fmt not in ("png", "jpeg", "tiff"):
        raise RenderError(f"page format {fmt!r} is not png, jpeg or tiff")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ext = {"jpeg": "jpg", "tiff": "tif"}.get(fmt, fmt)
    return [_save(img, out / f"{doc.id}_p{n}.{ext}", dpi)
            for n, img in enumerate(render_pages(doc, dpi=dpi, degrade=degrade, seed=seed), start=1)]


def _batch_formats(docs: Sequence["SampleDocument"], formats: Sequence[str]) -> list[str]:
    """Choose a file format a document so every requested format occurs once at least.

    PDF and multi-page TIFF go to multi-page documents (one each), JPEG and
    single-page TIFF to a single-page one; the rest are PNG pages.
    """
    bad = set(formats) - set(FORMATS)
    if bad or not formats:
        raise RenderError(f"unknown batch format(s) {', '.join(sorted(bad)) or '(none)'}; use {', '.join(FORMATS)}")
    chosen = ["png" if "png" in formats else formats[0]] * len(docs)
    multi = [i for i, d in enumerate(docs) if d.pages > 1]
    single = [i for i, d in enumerate(docs) if d.pages == 1]
    for fmt, pool in (("pdf", multi), ("tiff", multi), ("jpeg", single), ("tiff", single)):
        if fmt in formats and pool:
            chosen[pool.pop(0)] = fmt
    return chosen


def write_sample_batch(out_dir: Path | str, docs: Sequence["SampleDocument"] | None = None, *, dpi: int = 300,
                       degrade: str = "mild", formats: Sequence[str] = FORMATS, seed: int = 0) -> Path:
    """Write a batch folder of scans for ``docs`` (default: all) with ``manifest.csv``.

    Files are named ``NN_<id>...`` so natural order is document order; the
    manifest (written last, so a complete manifest means a complete batch) gives
    ``file,page,document,register,file_number`` for every page.
    """
    from kholuu.samples import load_samples

    docs = list(docs) if docs is not None else load_samples()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for seq, (doc, fmt) in enumerate(zip(docs, _batch_formats(docs, formats)), start=1):
        pages = render_pages(doc, dpi=dpi, degrade=degrade, seed=seed)
        stem = f"{seq:02d}_{doc.id}"
        if fmt == "pdf":
            name = f"{stem}.pdf"
            rgb = [p.convert("RGB") for p in pages]
            rgb[0].save(folder / name, "PDF", resolution=float(dpi), save_all=True, append_images=rgb[1:])
            files = [(name, n) for n in range(1, len(pages) + 1)]
        elif fmt == "tiff" and len(pages) > 1:
            name = f"{stem}.tif"
            pages[0].save(folder / name, "TIFF", dpi=(dpi, dpi), compression="tiff_lzw", save_all=True,
                          append_images=pages[1:])
            files = [(name, n) for n in range(1, len(pages) + 1)]
        else:
            ext = {"jpeg": "jpg", "tiff": "tif"}.get(fmt, fmt)
            files = []
            for n, img in enumerate(pages, start=1):
                name = f"{stem}_p{n}.{ext}"
                _save(img, folder / name, dpi)
                files.append((name, 1))
        rows += [(name, page, seq, doc.register, doc.file_number) for name, page in files]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("file", "page", "document", "register", "file_number"))
    writer.writerows(rows)
    tmp = folder / "manifest.csv.tmp"
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(folder / "manifest.csv")
    return folder
