"""The domain model passed between stages: plain dataclasses, no behaviour.

The archival hierarchy is fonds → register (mục lục) → file (hồ sơ) → document
→ page. Stages exchange these objects; the catalog stores them; the index is
derived from them. Everything here is JSON-friendly through ``to_dict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

BBox = tuple[int, int, int, int]  # x0, y0, x1, y1 in original page-image pixels

ACCESS_MODES = ("public", "conditional", "secret")


@dataclass(frozen=True)
class Fonds:
    code: str
    name: str
    creator: str = ""
    start_year: int | None = None
    end_year: int | None = None
    description: str = ""


@dataclass(frozen=True)
class Word:
    """One OCR word: its text, Tesseract confidence (0–100) and box.

    ``bbox`` is in the coordinates of the original page image as stored (after
    rasterization, before any preprocessing), so a viewer can draw it directly.
    ``line`` numbers lines in reading order across the page.
    """

    text: str
    conf: float
    bbox: BBox
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "conf": round(self.conf, 2), "bbox": list(self.bbox), "line": self.line}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "Word":
        return Word(text=d["text"], conf=float(d["conf"]), bbox=tuple(d["bbox"]), line=int(d.get("line", 0)))


@dataclass
class PageImage:
    """A page rasterized from an input file, stored as a PNG under the data dir."""

    source: str          # the input file path as given
    page: int            # 1-based page number within the source file
    image_path: str      # stored PNG (lossless copy of the page as scanned)
    sha256: str          # hash of the decoded pixels + mode (identifies the page)
    width: int
    height: int
    dpi: int | None


@dataclass
class PageOCR:
    """OCR output for one page."""

    source: str
    page: int
    text: str
    confidence: float          # mean word confidence, 0–100 (0 for a blank page)
    words: list[Word] = field(default_factory=list)
    width: int = 0
    height: int = 0
    blank: bool = False
    engine: str = ""           # e.g. "tesseract 5.3.0 vie (fast)"; recorded per page
    settings_hash: str = ""    # hash of OCR settings, for cache and re-run decisions
    steps: list[str] = field(default_factory=list)  # preprocessing steps applied
    marks: list[str] = field(default_factory=list)  # detected stamps, e.g. "MẬT"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["words"] = [w.to_dict() for w in self.words]
        d["confidence"] = round(self.confidence, 2)
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "PageOCR":
        d = dict(d)
        d["words"] = [Word.from_dict(w) for w in d.get("words", [])]
        return PageOCR(**d)


@dataclass
class Entity:
    text: str
    label: str            # PER, ORG, LOC, DATE
    start: int            # character offsets into the document text
    end: int
    canonical: str = ""   # linked name, the facet value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Signature:
    """One signature block: the signer's name and own title (either may be unreadable)."""

    name: str | None = None
    title: str | None = None


@dataclass
class DocumentMetadata:
    """Header fields of a Party or state document; ``None`` when not printed.

    A joint document (liên tịch) has several issuers and signature blocks:
    ``issuers`` and ``signers`` list them all in printed order, the first being
    the primary one that ``issuer`` / ``signer_name`` / ``signer_title`` hold
    (for a single-issuer document the lists have at most one item).
    """

    doc_type: str | None = None        # full Vietnamese name, e.g. "Chỉ thị"
    number_symbol: str | None = None   # canonical, "08-CT/TU" or "12/QĐ-UBND"
    issuer: str | None = None
    place: str | None = None
    issued_date: date | None = None
    subject: str | None = None
    signer_name: str | None = None
    signer_title: str | None = None
    security_mark: str | None = None   # MẬT, TỐI MẬT, TUYỆT MẬT
    urgency_mark: str | None = None    # KHẨN, THƯỢNG KHẨN, HỎA TỐC
    recipients: list[str] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)
    issuers: list[str] = field(default_factory=list)
    signers: list[Signature] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["issued_date"] = self.issued_date.isoformat() if self.issued_date else None
        return d


@dataclass
class DocumentPlan:
    """A document found in a batch: which pages (by sequence) belong to it."""

    seq: int                       # 1-based order of the document in the batch
    page_seqs: list[int]           # batch page sequence numbers, in order
    register: str | None = None    # mục lục
    file_number: str | None = None  # hồ sơ
    confidence: float = 1.0        # how sure the boundary is (1.0 from a manifest)
