"""The project's own sample Party documents, written for kholuu.

``documents.yaml`` holds fictional-but-plausible documents of the Thái Bình
provincial Party Committee and its district committees, 1960s–2020s, in the
standard Party layout. Each entry carries what is printed (header lines,
subject lines, body paragraphs, signature, recipients) and the archival place
(fonds, register, file), so the renderer can draw it and tests and benchmarks
can compare what extraction finds with ``SampleDocument.expected()``.

The real documents in ``../shared/samples`` are reference material only; none
of their text is copied here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kholuu.errors import KholuuError
from kholuu.model import DocumentMetadata
from kholuu.textnorm import normalize

SAMPLES_FILE = Path(__file__).with_name("documents.yaml")

ERA_STYLES = ("typewriter", "print", "digital")
FORMATS = ("pre-1998", "1998", "2004", "2018")
SECURITY_MARKS = ("MẬT", "TỐI MẬT")
URGENCY_MARKS = ("KHẨN", "THƯỢNG KHẨN", "HỎA TỐC")
DOC_TYPE_CODES = {
    "Nghị quyết": "NQ", "Chỉ thị": "CT", "Kết luận": "KL", "Quyết định": "QĐ",
    "Quy định": "QĐi", "Quy chế": "QC", "Thông báo": "TB", "Hướng dẫn": "HD",
    "Báo cáo": "BC", "Kế hoạch": "KH", "Chương trình": "CTr", "Tờ trình": "TTr",
    "Biên bản": "BB", "Thông tri": "TT", "Công văn": "CV", "Đề án": "ĐA",
}


# Layout prefixes of body paragraphs (see documents.yaml); the rest is printed text.
MARKUP = {"^ ": "centre", "# ": "heading", "> ": "block"}


def strip_markup(paragraph: str) -> str:
    """A body paragraph as printed, without its layout prefix (``^ ``, ``# ``, ``> ``)."""
    return paragraph[2:] if paragraph[:2] in MARKUP else paragraph


class SampleError(KholuuError):
    """The sample document file is malformed (names the file, document and field)."""


@dataclass(frozen=True)
class Signature:
    """Signature block: authority lines (T/M, K/T, T/L ...), title, name."""

    authority: tuple[str, ...]   # e.g. ("T/M BAN THƯỜNG VỤ",); may be empty
    title: str                   # e.g. "BÍ THƯ"
    name: str


@dataclass(frozen=True)
class SampleDocument:
    """One sample document as printed, plus where it sits in the archive.

    Printed text keeps its spelling on purpose (a few documents use the other
    tone-mark placement, "uỷ", "hoà"); ``expected()`` gives the metadata an
    extractor should return, passed through ``textnorm.normalize``.
    """

    id: str
    fonds: str
    register: str
    file_number: str
    era_style: str               # typewriter | print | digital
    format: str                  # pre-1998 | 1998 | 2004 | 2018 (Party format guideline)
    pages: int                   # page count when rendered
    doc_type: str                # full name, "Chỉ thị"
    number_symbol: str           # canonical, "08-CT/TU"
    superior: tuple[str, ...]    # header lines above the issuer, e.g. ("ĐẢNG BỘ TỈNH THÁI BÌNH",)
    issuer: tuple[str, ...]      # issuing body as printed, one item per line
    place: str
    issued_date: date
    title: str                   # document type line in capitals; "" for a công văn
    subject: tuple[str, ...]     # printed subject lines (a công văn's "V/v ..." lines)
    body: tuple[str, ...]        # paragraphs; markup in render.py (^ centred, # heading, > indented)
    signature: Signature
    recipients: tuple[str, ...]  # printed lines after "Nơi nhận:"
    security_mark: str | None = None
    urgency_mark: str | None = None
    seal: bool = False
    number_text: str = ""        # printed number line when not "Số <number_symbol>"
    date_text: str = ""          # printed place-and-date line when not the standard one
    notes: str = ""

    @property
    def number_line(self) -> str:
        return self.number_text or f"Số {self.number_symbol}"

    @property
    def date_line(self) -> str:
        if self.date_text:
            return self.date_text
        d = self.issued_date
        # Party rule: days below 10 and months below 3 are written with a zero.
        day = f"{d.day:02d}"
        month = f"{d.month:02d}" if d.month < 3 else str(d.month)
        return f"{self.place}, ngày {day} tháng {month} năm {d.year}"

    @property
    def is_cong_van(self) -> bool:
        return self.doc_type == "Công văn"

    def printed_text(self) -> str:
        """Every string the renderer prints, for glyph checks and word counts."""
        parts = [*self.superior, *self.issuer, "*", self.number_line, "ĐẢNG CỘNG SẢN VIỆT NAM",
                 self.date_line, self.title, *self.subject, *map(strip_markup, self.body),
                 *self.signature.authority, self.signature.title, self.signature.name, "Nơi nhận:",
                 *self.recipients]
        return "\n".join(p for p in parts if p)

    def expected(self) -> DocumentMetadata:
        """The metadata an extractor should find, in normalized form."""
        return DocumentMetadata(
            doc_type=self.doc_type,
            number_symbol=self.number_symbol,
            issuer=normalize(" ".join(self.issuer)),
            place=normalize(self.place),
            issued_date=self.issued_date,
            subject=normalize(" ".join(self.subject)),
            signer_name=normalize(self.signature.name),
            signer_title=normalize(self.signature.title),
            security_mark=self.security_mark,
            urgency_mark=self.urgency_mark,
            recipients=[normalize(_recipient(r)) for r in self.recipients],
        )


def _recipient(line: str) -> str:
    """A printed recipient line without its leading dash and trailing punctuation."""
    return line.strip().lstrip("-–+ ").rstrip(",;.").strip()


def _fail(source: Path, doc: str, reason: str) -> SampleError:
    return SampleError(f"{source}: document {doc!r}: {reason}")


def _strings(value: Any, source: Path, doc: str, name: str, *, required: bool = True) -> tuple[str, ...]:
    if value is None:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _fail(source, doc, f"field {name!r} must be a list of strings")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise _fail(source, doc, f"field {name!r}: {item!r} is not a non-empty string "
                                     "(quote items that contain ': ' or start with '#', '>', '-')")
    if required and not value:
        raise _fail(source, doc, f"field {name!r} is empty")
    return tuple(v.strip() for v in value)


def _parse(entry: dict[str, Any], source: Path) -> SampleDocument:
    doc = str(entry.get("id", "?"))
    required = ("id", "fonds", "register", "file_number", "era_style", "format", "pages", "doc_type",
                "number_symbol", "issuer", "place", "issued_date", "subject", "body", "signature",
                "recipients")
    for name in required:
        if entry.get(name) in (None, "", []):
            raise _fail(source, doc, f"missing field {name!r}")
    unknown = set(entry) - set(required) - {"superior", "title", "security_mark", "urgency_mark", "seal",
                                            "number_text", "date_text", "notes"}
    if unknown:
        raise _fail(source, doc, f"unknown field(s) {', '.join(sorted(unknown))}")
    if entry["era_style"] not in ERA_STYLES:
        raise _fail(source, doc, f"era_style must be one of {ERA_STYLES}")
    if entry["format"] not in FORMATS:
        raise _fail(source, doc, f"format must be one of {FORMATS}")
    if entry["doc_type"] not in DOC_TYPE_CODES:
        raise _fail(source, doc, f"unknown doc_type {entry['doc_type']!r}")
    if not isinstance(entry["issued_date"], date):
        raise _fail(source, doc, "issued_date must be an ISO date (YYYY-MM-DD)")
    if entry.get("security_mark") not in (None, *SECURITY_MARKS):
        raise _fail(source, doc, f"security_mark must be one of {SECURITY_MARKS}")
    if entry.get("urgency_mark") not in (None, *URGENCY_MARKS):
        raise _fail(source, doc, f"urgency_mark must be one of {URGENCY_MARKS}")
    sig = entry["signature"]
    if not isinstance(sig, dict) or not sig.get("title") or not sig.get("name"):
        raise _fail(source, doc, "signature needs 'title' and 'name'")
    title = str(entry.get("title") or "")
    if entry["doc_type"] != "Công văn" and not title:
        raise _fail(source, doc, "only a Công văn may have no title line")
    return SampleDocument(
        id=doc,
        fonds=str(entry["fonds"]),
        register=str(entry["register"]),
        file_number=str(entry["file_number"]),
        era_style=entry["era_style"],
        format=str(entry["format"]),
        pages=int(entry["pages"]),
        doc_type=entry["doc_type"],
        number_symbol=str(entry["number_symbol"]),
        superior=_strings(entry.get("superior"), source, doc, "superior", required=False),
        issuer=_strings(entry["issuer"], source, doc, "issuer"),
        place=str(entry["place"]),
        issued_date=entry["issued_date"],
        title=title,
        subject=_strings(entry["subject"], source, doc, "subject"),
        body=_strings(entry["body"], source, doc, "body"),
        signature=Signature(authority=_strings(sig.get("authority"), source, doc, "signature.authority",
                                               required=False),
                            title=str(sig["title"]), name=str(sig["name"])),
        recipients=_strings(entry["recipients"], source, doc, "recipients"),
        security_mark=entry.get("security_mark"),
        urgency_mark=entry.get("urgency_mark"),
        seal=bool(entry.get("seal", False)),
        number_text=str(entry.get("number_text") or ""),
        date_text=str(entry.get("date_text") or ""),
        notes=str(entry.get("notes") or ""),
    )


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> tuple[SampleDocument, ...]:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SampleError(f"{path}: cannot read sample documents ({exc.strerror})") from None
    if not unicodedata.is_normalized("NFC", raw):
        raise SampleError(f"{path}: text must be Unicode NFC")
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise SampleError(f"{path}: not valid YAML ({exc})") from None
    entries = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SampleError(f"{path}: expected a top-level 'documents' list")
    docs = tuple(_parse(e if isinstance(e, dict) else {}, path) for e in entries)
    seen: dict[str, str] = {}
    for d in docs:
        for key in (d.id, f"{d.issuer}|{d.number_symbol}|{d.issued_date.year}"):
            if key in seen:
                raise _fail(path, d.id, f"duplicate of {seen[key]!r}")
            seen[key] = d.id
    return docs


def load_samples(path: Path | None = None) -> list[SampleDocument]:
    """The sample documents, validated (``SampleError`` names what is wrong)."""
    path = Path(path) if path else SAMPLES_FILE
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise SampleError(f"{path}: sample document file not found") from None
    return list(_load(path.resolve(), mtime))


def sample_by_id(doc_id: str, path: Path | None = None) -> SampleDocument:
    for d in load_samples(path):
        if d.id == doc_id:
            return d
    raise SampleError(f"no sample document with id {doc_id!r}")


from kholuu.samples.render import (  # noqa: E402  (re-exported API)
    ground_truth,
    missing_glyphs,
    render_document,
    write_sample_batch,
)

__all__ = [
    "SampleDocument", "Signature", "SampleError", "load_samples", "sample_by_id", "strip_markup",
    "render_document", "write_sample_batch", "ground_truth", "missing_glyphs",
]
