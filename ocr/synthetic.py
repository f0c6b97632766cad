"""Synthetic Vietnamese pages with exact ground truth, for tests and benchmarks.

A page is drawn with PIL in a font that has Vietnamese glyphs; every word's box
is recorded as it is drawn, so a test can check that OCR finds the word where it
was put. Degradations (aged paper, faded ink, red seal, skew, rotation, low dpi)
are applied to the rendered image with known parameters.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_CANDIDATES = {
    "serif": ["/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
              "/usr/share/fonts/truetype/freefont/FreeSerif.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"],
    "serif-bold": ["/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
                   "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf",
                   "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"],
    "mono": ["/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf",
             "/usr/share/fonts/truetype/freefont/FreeMono.ttf",
             "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"],
}
A4_IN = (8.27, 11.69)


def font_path(kind: str = "serif") -> Path:
    for candidate in FONT_CANDIDATES[kind]:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(f"no font with Vietnamese glyphs found for {kind!r} (install fonts-liberation2)")


@dataclass
class Line:
    text: str
    x: float            # inches from the left edge (or the centre when centered)
    y: float            # inches from the top
    size: float = 13    # points
    kind: str = "serif"
    centered: bool = False


@dataclass
class RenderedPage:
    image: Image.Image
    dpi: int
    words: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w for w, _ in self.words)

    def box_of(self, word: str) -> tuple[int, int, int, int]:
        for w, box in self.words:
            if w == word:
                return box
        raise KeyError(word)


PARTY_HEADER = [
    Line("TỈNH ỦY THÁI BÌNH", 1.9, 0.8, 13, "serif-bold", centered=True),
    Line("ĐẢNG CỘNG SẢN VIỆT NAM", 5.9, 0.8, 13, "serif-bold", centered=True),
    Line("*", 1.9, 1.05, 13, centered=True),
    Line("Số 08-CT/TU", 1.9, 1.3, 13, centered=True),
    Line("Thái Bình, ngày 15 tháng 3 năm 2021", 5.9, 1.3, 13, centered=True),
    Line("CHỈ THỊ", 4.13, 1.9, 15, "serif-bold", centered=True),
    Line("về đẩy mạnh xây dựng nông thôn mới", 4.13, 2.2, 14, "serif-bold", centered=True),
]
PARTY_BODY = [
    "Thực hiện Nghị quyết của Ban Chấp hành Trung ương Đảng về nông nghiệp,",
    "nông dân, nông thôn, Ban Thường vụ Tỉnh ủy yêu cầu các cấp ủy đảng, chính",
    "quyền, Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội tập trung lãnh",
    "đạo thực hiện tốt các nhiệm vụ sau đây trong năm 2021.",
    "Một là, tiếp tục đẩy mạnh công tác tuyên truyền, nâng cao nhận thức của cán",
    "bộ, đảng viên và nhân dân về xây dựng nông thôn mới bền vững.",
]


def party_lines(body: list[str] | None = None, top: float = 2.8) -> list[Line]:
    lines = list(PARTY_HEADER)
    for i, text in enumerate(body if body is not None else PARTY_BODY):
        lines.append(Line(text, 1.2, top + i * 0.3, 13))
    return lines


def render(lines: list[Line], dpi: int = 300, size_in: tuple[float, float] = A4_IN,
           ink: tuple[int, int, int] = (20, 20, 20), paper: tuple[int, int, int] = (255, 255, 255)) -> RenderedPage:
    """Draw ``lines`` on an RGB page at ``dpi``; record each word's pixel box."""
    width, height = int(size_in[0] * dpi), int(size_in[1] * dpi)
    img = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(img)
    page = RenderedPage(img, dpi)
    for line in lines:
        font = ImageFont.truetype(str(font_path(line.kind)), int(round(line.size / 72 * dpi)))
        space = draw.textlength(" ", font=font)
        total = draw.textlength(line.text, font=font)
        x = line.x * dpi - (total / 2 if line.centered else 0)
        y = line.y * dpi
        for word in line.text.split(" "):
            draw.text((x, y), word, font=font, fill=ink)
            box = draw.textbbox((x, y), word, font=font)
            page.words.append((word, tuple(int(round(v)) for v in box)))
            x += draw.textlength(word, font=font) + space
    return page


def party_page(dpi: int = 300, body: list[str] | None = None) -> RenderedPage:
    return render(party_lines(body), dpi=dpi)


# Degradations -------------------------------------------------------------

def aged(img: Image.Image, seed: int = 1) -> Image.Image:
    """Yellowed, unevenly lit paper with fibre noise and slightly blurred ink."""
    rng = np.random.default_rng(seed)
    arr = np.asarray(img.convert("RGB"), dtype=np.float32)
    h, w = arr.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 0.80 + 0.15 * (xx / w) + 0.05 * np.sin(yy / h * math.pi)
    tint = np.array([1.0, 0.94, 0.80], dtype=np.float32)
    ink = arr / 255.0
    paper = light[..., None] * tint * 255.0
    out = paper * ink + rng.normal(0, 6, size=(h, w, 1)).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    return Image.fromarray(out).filter(ImageFilter.GaussianBlur(0.6))


def faded(img: Image.Image, strength: float = 0.55) -> Image.Image:
    """Faded typewriter ink: low contrast."""
    arr = np.asarray(img.convert("L"), dtype=np.float32)
    out = 255 - (255 - arr) * (1 - strength)
    return Image.fromarray(out.astype(np.uint8)).convert("RGB")


RED_INK = (205, 30, 40)
BLUE_INK = (35, 70, 190)   # the violet-blue of stamp pads used for some seals and "received" stamps


def red_seal(img: Image.Image, centre: tuple[int, int], radius: int, text: str = "TỈNH ỦY THÁI BÌNH",
             colour: tuple[int, int, int] = RED_INK) -> Image.Image:
    """A round seal (rings, star, text; red unless ``colour`` says otherwise) drawn over
    the page with multiply blending."""
    layer = Image.new("RGB", img.size, (255, 255, 255))
    d = ImageDraw.Draw(layer)
    cx, cy = centre
    red = colour
    for r, wdt in ((radius, max(3, radius // 25)), (int(radius * 0.78), max(2, radius // 40))):
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=wdt)
    font = ImageFont.truetype(str(font_path("serif-bold")), max(10, radius // 6))
    d.text((cx, cy), "★", font=ImageFont.truetype(str(font_path("serif")), radius // 2), fill=red, anchor="mm")
    n = len(text)
    for i, ch in enumerate(text):
        ang = math.pi * (1.1 + 0.8 * i / max(1, n - 1))
        r = radius * 0.89
        d.text((cx + r * math.cos(ang), cy + r * math.sin(ang)), ch, font=font, fill=red, anchor="mm")
    a = np.asarray(img.convert("RGB"), dtype=np.float32)
    b = np.asarray(layer, dtype=np.float32)
    return Image.fromarray((a * b / 255.0).astype(np.uint8))


def red_stamp(img: Image.Image, text: str, at: tuple[int, int], height_px: int,
              colour: tuple[int, int, int] = (210, 25, 35)) -> Image.Image:
    """A rectangular MẬT / KHẨN stamp, red unless ``colour`` says otherwise."""
    layer = Image.new("RGB", img.size, (255, 255, 255))
    d = ImageDraw.Draw(layer)
    font = ImageFont.truetype(str(font_path("serif-bold")), height_px)
    box = d.textbbox(at, text, font=font)
    pad = height_px // 4
    d.rectangle((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad), outline=colour, width=max(3, pad // 2))
    d.text(at, text, font=font, fill=colour)
    a = np.asarray(img.convert("RGB"), dtype=np.float32)
    b = np.asarray(layer, dtype=np.float32)
    return Image.fromarray((a * b / 255.0).astype(np.uint8))


def skew(img: Image.Image, degrees: float) -> Image.Image:
    """Rotate by a small angle (counter-clockwise positive), keeping the page size."""
    return img.rotate(degrees, resample=Image.BICUBIC, expand=False, fillcolor=(255, 255, 255))


def speckle(img: Image.Image, amount: float = 0.002, seed: int = 2) -> Image.Image:
    rng = random.Random(seed)
    arr = np.array(img.convert("RGB"))
    h, w = arr.shape[:2]
    for _ in range(int(h * w * amount)):
        y, x = rng.randrange(h), rng.randrange(w)
        arr[y, x] = 0
    return Image.fromarray(arr)
