"""Export an editor's collection: a publication PDF volume, CSV and JSON metadata.

Pure functions over an ``ExportVolume`` (already filtered by the caller's
access: the web layer builds it from the documents the caller may see, so an
export can never hold more than the collection page shows).

The PDF embeds a TrueType serif with Vietnamese glyphs (Liberation Serif 2,
else FreeSerif, DejaVu or Noto): reportlab subsets and embeds TTF fonts, and
every string is NFC-normalized first, so the precomposed letters (ế, ộ, ữ, Đ)
come out as single glyphs that ``pdftotext`` reads back intact. The table of
contents is built in two passes (``multiBuild``) so its page numbers are the
numbers printed at the foot of each page.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from kholuu.errors import KholuuError
from kholuu.textnorm import normalize

FONT_CANDIDATES = [
    ("LiberationSerif", "/usr/share/fonts/truetype/liberation2/LiberationSerif-{}.ttf",
     {"normal": "Regular", "bold": "Bold", "italic": "Italic", "boldItalic": "BoldItalic"}),
    ("FreeSerif", "/usr/share/fonts/truetype/freefont/FreeSerif{}.ttf",
     {"normal": "", "bold": "Bold", "italic": "Italic", "boldItalic": "BoldItalic"}),
    ("DejaVuSerif", "/usr/share/fonts/truetype/dejavu/DejaVuSerif{}.ttf",
     {"normal": "", "bold": "-Bold", "italic": "-Italic", "boldItalic": "-BoldItalic"}),
]
ARCHIVE_NAME = "Kho lưu trữ Tỉnh ủy"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FONT: list[str] = []


class ExportError(KholuuError):
    """An export cannot be produced (no usable font installed, ...)."""


@dataclass
class ExportDoc:
    """One document of a volume, as the reader of the volume sees it."""

    id: int
    title: str                      # "Chỉ thị 08-CT/TU"
    doc_type: str | None
    number_symbol: str | None
    issued_date: date | None
    issuer: str | None
    place: str | None
    subject: str | None
    signer: str
    fonds: str
    register: str | None
    file_number: str | None
    citation: str                   # "Phông F01, Mục lục 01, Hồ sơ 12, tờ 1–2"
    full_citation: str
    access_mode: str
    page_count: int
    note: str = ""
    text: str = ""
    page_images: list[Path] = field(default_factory=list)


@dataclass
class ExportVolume:
    title: str
    editor: str
    exported_at: datetime
    documents: list[ExportDoc]


def _clean(text: str | None) -> str:
    return _CONTROL.sub("", normalize(text or ""))


def _p(text: str | None) -> str:
    """Text made safe for reportlab's paragraph mini-markup."""
    return escape(_clean(text))


def _date(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def pdf_font() -> str:
    """Register (once per process) and return the family name of the embedded serif."""
    if _FONT:
        return _FONT[0]
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for family, pattern, styles in FONT_CANDIDATES:
        paths = {k: Path(pattern.format(v)) for k, v in styles.items()}
        if not all(p.is_file() for p in paths.values()):
            continue
        for k, p in paths.items():
            pdfmetrics.registerFont(TTFont(f"{family}-{k}", str(p)))
        for (bold, italic), k in {(0, 0): "normal", (1, 0): "bold", (0, 1): "italic", (1, 1): "boldItalic"}.items():
            addMapping(family, bold, italic, f"{family}-{k}")
        _FONT.append(family)
        return family
    raise ExportError("no TrueType serif with Vietnamese letters found (install fonts-liberation2 "
                      "or fonts-freefont-ttf): " + ", ".join(p.format("Regular") for _, p, _ in FONT_CANDIDATES))


def metadata_rows(d: ExportDoc) -> list[tuple[str, str]]:
    """The header printed above each document (the archival standard's names)."""
    rows = [("Loại văn bản", d.doc_type or ""), ("Số, ký hiệu", d.number_symbol or ""),
            ("Ngày ban hành", _date(d.issued_date)), ("Cơ quan ban hành", d.issuer or ""),
            ("Trích yếu", d.subject or ""), ("Người ký", d.signer), ("Trích dẫn", d.citation)]
    return [(k, v) for k, v in rows if v]


def volume_pdf(volume: ExportVolume, *, with_images: bool = False) -> bytes:
    """The volume as a PDF: title page, table of contents, then each document on
    a new page with its metadata header, the editor's note, its text and,
    when asked, its page images."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (BaseDocTemplate, Frame, Image, KeepTogether, PageBreak, PageTemplate,
                                    Paragraph, Spacer, Table, TableStyle)
    from reportlab.platypus.tableofcontents import TableOfContents

    font = pdf_font()
    base = ParagraphStyle("base", fontName=f"{font}-normal", fontSize=11.5, leading=15.5)
    st = {
        "body": ParagraphStyle("body", parent=base, spaceAfter=6),
        "line": ParagraphStyle("line", parent=base),
        "line_last": ParagraphStyle("line_last", parent=base, spaceAfter=6),
        "small": ParagraphStyle("small", parent=base, fontSize=9.5, leading=12),
        "label": ParagraphStyle("label", parent=base, fontSize=9.5, leading=12, fontName=f"{font}-bold"),
        "h1": ParagraphStyle("h1", parent=base, fontName=f"{font}-bold", fontSize=15, leading=19,
                             spaceAfter=4),
        "subject": ParagraphStyle("subject", parent=base, fontName=f"{font}-italic", spaceAfter=8),
        "note": ParagraphStyle("note", parent=base, fontName=f"{font}-italic", fontSize=10.5, leading=14,
                               backColor=colors.HexColor("#f3efe4"), borderPadding=6, spaceBefore=6,
                               spaceAfter=10),
        "cover_kicker": ParagraphStyle("ck", parent=base, alignment=TA_CENTER, fontSize=13, leading=18),
        "cover_title": ParagraphStyle("ct", parent=base, alignment=TA_CENTER, fontName=f"{font}-bold",
                                      fontSize=24, leading=31, spaceBefore=12, spaceAfter=12),
        "cover_meta": ParagraphStyle("cm", parent=base, alignment=TA_CENTER, fontSize=12, leading=17),
        "toc_title": ParagraphStyle("tt", parent=base, fontName=f"{font}-bold", fontSize=16, leading=20,
                                    alignment=TA_CENTER, spaceAfter=14),
    }

    class Doc(BaseDocTemplate):
        def afterFlowable(self, flowable: Any) -> None:
            entry = getattr(flowable, "toc_entry", None)
            if entry:
                text, key = entry
                self.canv.bookmarkPage(key)
                self.canv.addOutlineEntry(text, key, level=0, closed=True)
                self.notify("TOCEntry", (0, escape(text), self.page, key))

    buf = io.BytesIO()
    doc = Doc(buf, pagesize=A4, leftMargin=25 * mm, rightMargin=20 * mm, topMargin=22 * mm, bottomMargin=20 * mm,
              title=_clean(volume.title), author=_clean(volume.editor), subject="Tập văn kiện",
              creator="kholuu", lang="vi", initialFontName=f"{font}-normal")
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    running = _clean(volume.title)

    def cover(canv: Any, _doc: Any) -> None:
        pass

    def page(canv: Any, d: Any) -> None:
        canv.saveState()
        canv.setFont(f"{font}-normal", 9)
        canv.setFillColor(colors.HexColor("#555555"))
        canv.drawString(d.leftMargin, A4[1] - 14 * mm, running[:110])
        canv.drawCentredString(A4[0] / 2, 11 * mm, str(canv.getPageNumber()))
        canv.restoreState()

    doc.addPageTemplates([PageTemplate(id="cover", frames=[frame], onPage=cover),
                          PageTemplate(id="body", frames=[frame], onPage=page)])
    from reportlab.platypus import NextPageTemplate

    n = len(volume.documents)
    story: list[Any] = [
        NextPageTemplate("body"), Spacer(1, 45 * mm),
        Paragraph(escape(ARCHIVE_NAME.upper()), st["cover_kicker"]),
        Paragraph("TẬP VĂN KIỆN", st["cover_kicker"]),
        Paragraph(_p(volume.title), st["cover_title"]),
        Paragraph(f"Gồm {n} văn bản", st["cover_meta"]), Spacer(1, 60 * mm),
    ]
    if volume.editor:
        story.append(Paragraph(f"Biên tập: {_p(volume.editor)}", st["cover_meta"]))
    story += [Paragraph(f"Xuất ngày {volume.exported_at.strftime('%d/%m/%Y')}", st["cover_meta"]), PageBreak()]

    # tables set their cell font even around paragraphs: name ours, or Helvetica
    # (not embedded) would be pulled into the file
    toc = TableOfContents(dotsMinLevel=0, tableStyle=TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("FONTNAME", (0, 0), (-1, -1), f"{font}-normal")]))
    toc.levelStyles = [ParagraphStyle("toc0", parent=base, fontSize=11, leading=14, leftIndent=18,
                                      firstLineIndent=-18, spaceBefore=3)]
    story += [Paragraph("MỤC LỤC", st["toc_title"]), toc]
    if not volume.documents:
        story.append(Paragraph("Tập văn kiện chưa có văn bản nào.", st["body"]))

    for i, d in enumerate(volume.documents, 1):
        story.append(PageBreak())
        heading_text = f"{i}. {_clean(d.title)}"
        if d.issued_date:
            heading_text += f" ({_date(d.issued_date)})"
        heading = Paragraph(escape(heading_text), st["h1"])
        heading.toc_entry = (heading_text + (f" — {_clean(d.subject)}" if d.subject else ""), f"doc{i}")
        rows = [[Paragraph(escape(k), st["label"]), Paragraph(_p(v), st["small"])] for k, v in metadata_rows(d)]
        table = Table(rows, colWidths=[38 * mm, doc.width - 38 * mm], hAlign="LEFT")
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), f"{font}-normal"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]))
        story.append(KeepTogether([heading, table, Spacer(1, 4 * mm)]))
        if d.note:
            story.append(Paragraph("<b>Ghi chú của biên tập viên:</b> " + _p(d.note).replace("\n", "<br/>"),
                                   st["note"]))
        # one paragraph a line: typed and OCR lines are kept as lines, and small
        # paragraphs split across pages cheaply (a long one is re-split every page)
        for block in re.split(r"\n\s*\n", _clean(d.text).strip()):
            lines = [escape(line.strip()) for line in block.splitlines() if line.strip()]
            for k, line in enumerate(lines):
                story.append(Paragraph(line, st["line_last"] if k == len(lines) - 1 else st["line"]))
        if with_images and d.page_images:
            for k, img in enumerate(d.page_images, 1):
                im = Image(str(img))
                scale = min(doc.width / im.imageWidth, (doc.height - 14 * mm) / im.imageHeight)
                im.drawWidth, im.drawHeight = im.imageWidth * scale, im.imageHeight * scale
                story += [PageBreak(), im, Paragraph(f"Ảnh trang {k} — {_p(d.citation)}", st["small"])]
    doc.multiBuild(story)
    return buf.getvalue()


CSV_FIELDS = [
    ("stt", "STT"), ("id", "Mã văn bản"), ("doc_type", "Loại văn bản"), ("number_symbol", "Số, ký hiệu"),
    ("issued_date", "Ngày ban hành"), ("issuer", "Cơ quan ban hành"), ("place", "Nơi ban hành"),
    ("subject", "Trích yếu"), ("signer", "Người ký"), ("fonds", "Phông"), ("register", "Mục lục"),
    ("file_number", "Hồ sơ"), ("page_count", "Số trang"), ("citation", "Trích dẫn"),
    ("note", "Ghi chú của biên tập viên"),
]


def _record(i: int, d: ExportDoc) -> dict[str, Any]:
    return {"stt": i, "id": d.id, "title": _clean(d.title), "doc_type": d.doc_type, "number_symbol": d.number_symbol,
            "issued_date": d.issued_date.isoformat() if d.issued_date else None, "issuer": d.issuer,
            "place": d.place, "subject": _clean(d.subject) or None, "signer": d.signer or None, "fonds": d.fonds,
            "register": d.register, "file_number": d.file_number, "page_count": d.page_count,
            "access_mode": d.access_mode, "citation": d.citation, "full_citation": d.full_citation,
            "note": _clean(d.note)}


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OCR text can hold anything)."""
    s = "" if value is None else _clean(str(value))
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def volume_csv(volume: ExportVolume) -> str:
    """Metadata, one document a row, UTF-8 with a BOM so spreadsheet programs read the accents."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([label for _, label in CSV_FIELDS])
    for i, d in enumerate(volume.documents, 1):
        rec = _record(i, d)
        w.writerow([_cell(rec[key]) for key, _ in CSV_FIELDS])
    return "\ufeff" + out.getvalue()


def volume_json(volume: ExportVolume) -> dict[str, Any]:
    return {"title": _clean(volume.title), "editor": _clean(volume.editor),
            "exported_at": volume.exported_at.isoformat(timespec="seconds") + "Z",
            "count": len(volume.documents),
            "documents": [_record(i, d) for i, d in enumerate(volume.documents, 1)]}


__all__ = ["ExportDoc", "ExportVolume", "ExportError", "volume_pdf", "volume_csv", "volume_json",
           "metadata_rows", "pdf_font", "CSV_FIELDS"]
