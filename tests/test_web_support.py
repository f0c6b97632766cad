"""Test data for the web tests: a small catalog of documents written for these tests.

Pages are rendered with a real Vietnamese font and the word boxes recorded as
they are drawn, so the boxes are exact and no OCR run is needed to seed the
catalog (OCR itself is tested in the ocr tests). The catalog is a real SQLite
database; the index is the real embedded backend. Imported by test_web_api.py
and test_ui_browser.py; it holds no tests itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kholuu.catalog import Catalog
from kholuu.model import DocumentMetadata, Entity
from kholuu.settings import Settings
from kholuu.textnorm import normalize

FONT_PATHS = [
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
]
PAGE_W, PAGE_H = 1240, 1754   # A4 at 150 dpi


def _font(size: int) -> ImageFont.FreeTypeFont:
    for p in FONT_PATHS:
        if Path(p).exists():
            return ImageFont.truetype(p, size)
    raise RuntimeError("no font with Vietnamese glyphs installed (fonts-liberation2)")


def render_page(lines: list[str], out: Path) -> tuple[list[dict], str]:
    """Draw ``lines`` on an A4 page image; return the word boxes and the page text."""
    font = _font(30)
    im = Image.new("L", (PAGE_W, PAGE_H), 250)
    draw = ImageDraw.Draw(im)
    words: list[dict] = []
    y = 140
    space = draw.textlength(" ", font=font)
    for line_no, line in enumerate(lines):
        x = 130.0
        for w in line.split():
            draw.text((x, y), w, font=font, fill=20)
            x0, y0, x1, y1 = draw.textbbox((x, y), w, font=font)
            words.append({"text": w, "conf": 91.0, "bbox": [int(x0), int(y0), int(x1), int(y1)], "line": line_no})
            x += draw.textlength(w, font=font) + space
        y += 52
    out.parent.mkdir(parents=True, exist_ok=True)
    im.save(out)
    return words, normalize("\n".join(lines))


@dataclass
class SampleDoc:
    key: str
    fonds: str
    metadata: DocumentMetadata
    pages: list[list[str]]
    entities: list[tuple[str, str]]     # (label, text)
    access_mode: str = "public"
    register: str | None = "01"
    file_number: str | None = None


SAMPLES = [
    SampleDoc(
        key="ct08", fonds="F01",
        metadata=DocumentMetadata(
            doc_type="Chỉ thị", number_symbol="08-CT/TU", issuer="Tỉnh ủy Thái Bình", place="Thái Bình",
            issued_date=date(2021, 3, 15),
            subject="Về đẩy mạnh xây dựng nông thôn mới giai đoạn 2021 - 2025",
            signer_name="Trần Văn Khải", signer_title="Bí thư"),
        pages=[[
            "ĐẢNG CỘNG SẢN VIỆT NAM",
            "TỈNH ỦY THÁI BÌNH",
            "Số 08-CT/TU",
            "Thái Bình, ngày 15 tháng 3 năm 2021",
            "CHỈ THỊ",
            "về đẩy mạnh xây dựng nông thôn mới",
            "Ban Thường vụ Tỉnh ủy yêu cầu các huyện ủy, thành ủy",
            "tiếp tục lãnh đạo phong trào xây dựng nông thôn mới",
            "gắn với phát triển kinh tế hợp tác xã ở huyện Kiến Xương.",
        ], [
            "Các cấp ủy đảng tổng kết mô hình nông thôn mới kiểu mẫu,",
            "báo cáo kết quả về Văn phòng Tỉnh ủy trước tháng 12.",
            "T/M BAN THƯỜNG VỤ",
            "BÍ THƯ",
            "Trần Văn Khải",
        ]],
        entities=[("LOC", "Kiến Xương"), ("PER", "Trần Văn Khải"), ("ORG", "Văn phòng Tỉnh ủy")],
        file_number="12",
    ),
    SampleDoc(
        key="nq05", fonds="F01",
        metadata=DocumentMetadata(
            doc_type="Nghị quyết", number_symbol="05-NQ/TU", issuer="Tỉnh ủy Thái Bình", place="Thái Bình",
            issued_date=date(2019, 6, 2), subject="Về phát triển nông nghiệp hàng hóa và nông thôn mới",
            signer_name="Trần Văn Khải", signer_title="Bí thư"),
        pages=[[
            "ĐẢNG CỘNG SẢN VIỆT NAM",
            "TỈNH ỦY THÁI BÌNH",
            "Số 05-NQ/TU",
            "NGHỊ QUYẾT",
            "về phát triển nông nghiệp hàng hóa",
            "Xây dựng nông thôn mới là nhiệm vụ trọng tâm của toàn Đảng bộ.",
            "Huyện Tiền Hải chỉ đạo điểm về cánh đồng mẫu lớn.",
        ]],
        entities=[("LOC", "Tiền Hải"), ("PER", "Trần Văn Khải")],
        file_number="12",
    ),
    SampleDoc(
        key="bc112", fonds="F02",
        metadata=DocumentMetadata(
            doc_type="Báo cáo", number_symbol="112-BC/VPTU", issuer="Văn phòng Tỉnh ủy", place="Thái Bình",
            issued_date=date(1998, 11, 20), subject="Tình hình lưu trữ tài liệu năm 1998"),
        pages=[[
            "ĐẢNG CỘNG SẢN VIỆT NAM",
            "VĂN PHÒNG TỈNH ỦY",
            "Số 112-BC/VPTU",
            "BÁO CÁO",
            "tình hình lưu trữ tài liệu năm 1998",
            "Kho lưu trữ đã chỉnh lý 240 hồ sơ của các ban đảng.",
        ]],
        entities=[("ORG", "Văn phòng Tỉnh ủy")],
        file_number="3",
    ),
    SampleDoc(
        key="xss", fonds="F02",
        metadata=DocumentMetadata(
            doc_type="Thông báo", number_symbol="27-TB/VPTU", issuer="Văn phòng Tỉnh ủy",
            issued_date=date(2005, 4, 8), subject='Kiểm tra hệ thống <b onmouseover="x()">mạng</b>'),
        pages=[[
            "THÔNG BÁO",
            "kiểm tra hệ thống <script>alert('xss')</script> máy chủ",
            "Đoàn kiểm tra làm việc tại kho lưu trữ.",
        ]],
        entities=[],
        register=None,
    ),
    SampleDoc(
        key="secret", fonds="F01",
        metadata=DocumentMetadata(
            doc_type="Chỉ thị", number_symbol="09-CT/TU", issuer="Tỉnh ủy Thái Bình",
            issued_date=date(2021, 5, 1), subject="Về nông thôn mới (tài liệu mật)",
            security_mark="MẬT"),
        pages=[[
            "MẬT",
            "CHỈ THỊ",
            "về nông thôn mới trong vùng biển Thái Thụy",
        ]],
        entities=[("LOC", "Thái Thụy")],
        access_mode="secret",
        file_number="12",
    ),
]


@dataclass
class Seeded:
    doc_ids: dict[str, int]
    page_ids: dict[str, list[int]]


def seed_catalog(settings: Settings, catalog: Catalog, samples: list[SampleDoc] = SAMPLES) -> Seeded:
    """Write the sample documents, their rendered pages and entities into ``catalog``."""
    catalog.ensure_fonds_loaded()
    doc_ids: dict[str, int] = {}
    page_ids: dict[str, list[int]] = {}
    batches: dict[str, int] = {}
    seq_in_batch: dict[str, int] = {}
    for sample in samples:
        if sample.fonds not in batches:
            batches[sample.fonds] = catalog.create_batch(sample.fonds, f"/test/{sample.fonds}").id
            seq_in_batch[sample.fonds] = 0
        batch_id = batches[sample.fonds]
        pids = []
        texts = []
        for i, lines in enumerate(sample.pages, 1):
            img = settings.pages_dir / f"{sample.key}-{i}.png"
            words, text = render_page(lines, img)
            seq_in_batch[sample.fonds] += 1
            pid = catalog.upsert_page(batch_id, seq_in_batch[sample.fonds], f"{sample.key}-{i}.png", 1,
                                      image_path=str(img), width=PAGE_W, height=PAGE_H, words=words,
                                      text=text, status="ocr", confidence=91.0)
            pids.append(pid)
            texts.append(text)
        full = "\n\n".join(texts)
        entities = []
        for label, name in sample.entities:
            start = full.find(name)
            entities.append(Entity(text=name, label=label, start=max(start, 0),
                                   end=max(start, 0) + len(name), canonical=name))
        file_id = None
        if sample.file_number:
            fonds_id = catalog.get_fonds(sample.fonds).id
            file_id = catalog.ensure_file(fonds_id, sample.register or "01", sample.file_number,
                                          "Hồ sơ thử nghiệm")
        doc_ids[sample.key] = catalog.upsert_document(
            batch_id, len(doc_ids) + 1, pids, full, sample.metadata, entities, file_id=file_id,
            access_mode=sample.access_mode)
        page_ids[sample.key] = pids
    return Seeded(doc_ids=doc_ids, page_ids=page_ids)


# -- a tiny in-memory backend, for pure UI-logic tests only -----------------
class FakeBackend:
    """Answers a fixed SearchResult: lets a test control exactly what the UI gets."""

    name = "fake"

    def __init__(self, result=None, error: Exception | None = None):
        self.result = result
        self.error = error
        self.queries = []

    def search(self, query):
        self.queries.append(query)
        if self.error is not None:
            raise self.error
        return self.result

    def index(self, documents):
        return 0

    def delete(self, ids):
        pass

    def count(self):
        return 0

    def clear(self):
        pass

    def close(self):
        pass


def make_backend(settings: Settings, catalog: Catalog):
    """The real embedded search backend over ``catalog``, freshly indexed."""
    import indexing

    backend = indexing.open_backend(settings)
    indexing.index_documents(catalog, backend)
    return backend
