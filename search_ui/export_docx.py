"""Export a collection as a Word document (DOCX) that an editor keeps working on.

Same content as the PDF volume (``search_ui.export``): title page, table of
contents, each document with its metadata header, the editor's note and its
text. The table of contents is a Word TOC field over the "Heading 1" titles:
Word fills in the page numbers when the file is opened (the file asks it to
update fields), because only the program that lays the pages out knows them.
Text is NFC-normalized (precomposed Vietnamese letters) and set in Liberation
Serif (metric-compatible with Times New Roman, the font of Vietnamese
publishing), embedded in the file the way Word embeds fonts (obfuscated
``word/fonts/*.odttf``, ECMA-376 §17.8.1), so the accents print the same on a
machine without it; without that font installed here it falls back to Times
New Roman, not embedded.
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

from search_ui.export import ARCHIVE_NAME, ExportVolume, _clean, _date, metadata_rows

FALLBACK_FONT = "Times New Roman"
EMBED_FAMILY = "Liberation Serif"
EMBED_FILES = {   # fontTable element → TrueType file
    "w:embedRegular": "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "w:embedBold": "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    "w:embedItalic": "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf",
    "w:embedBoldItalic": "/usr/share/fonts/truetype/liberation2/LiberationSerif-BoldItalic.ttf",
}
FONT_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"
ODTTF = "application/vnd.openxmlformats-officedocument.obfuscatedFont"


def obfuscate(data: bytes, key: str) -> bytes:
    """Word's font obfuscation: the first 32 bytes XOR the GUID's bytes in reverse order
    (its own inverse, so the same call reads an embedded font back)."""
    hexkey = key.strip("{}").replace("-", "")
    k = bytes(int(hexkey[i:i + 2], 16) for i in range(0, 32, 2))[::-1]
    head = bytes(b ^ k[i % 16] for i, b in enumerate(data[:32]))
    return head + data[32:]


def _embed_fonts(doc) -> bool:
    """Embed the Liberation Serif files into ``doc``; False when they are not installed."""
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml.ns import qn
    from lxml import etree

    if not all(Path(p).is_file() for p in EMBED_FILES.values()):
        return False
    table_part = next(r.target_part for r in doc.part.rels.values()
                      if not r.is_external and r.reltype.endswith("/fontTable"))
    root = etree.fromstring(table_part.blob)
    font = root.makeelement(qn("w:font"), {qn("w:name"): EMBED_FAMILY})
    root.append(font)
    for k, v in (("w:altName", FALLBACK_FONT), ("w:charset", "00"), ("w:family", "roman"), ("w:pitch", "variable")):
        font.append(font.makeelement(qn(k), {qn("w:val"): v}))
    for n, (tag, path) in enumerate(EMBED_FILES.items(), 1):
        key = "{" + str(uuid.uuid4()).upper() + "}"
        part = Part(PackURI(f"/word/fonts/font{n}.odttf"), ODTTF, obfuscate(Path(path).read_bytes(), key),
                    doc.part.package)
        rid = table_part.relate_to(part, FONT_REL)
        font.append(font.makeelement(qn(tag), {qn("r:id"): rid, qn("w:fontKey"): key}))
    table_part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    settings = doc.settings.element
    zoom = settings.find(qn("w:zoom"))
    embed = settings.makeelement(qn("w:embedTrueTypeFonts"), {})
    if zoom is not None:
        zoom.addnext(embed)          # the schema's order: right after w:zoom
    else:
        settings.insert(0, embed)
    return True


def _field(paragraph, instruction: str, placeholder: str = "") -> None:
    """A Word field (TOC, PAGE) in ``paragraph``: begin, instruction, separate, result, end."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str):
        run = paragraph.add_run()
        fld = OxmlElement("w:fldChar")
        fld.set(qn("w:fldCharType"), kind)
        run._r.append(fld)

    char("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = instruction
    run._r.append(instr)
    char("separate")
    paragraph.add_run(placeholder)
    char("end")


def _fonts(doc, font: str) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = doc.styles[name]
        style.font.name = font
        rpr = style.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(rfonts)
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            rfonts.set(qn(attr), font)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            rfonts.attrib.pop(qn(attr), None)
    doc.styles["Normal"].font.size = Pt(13)


def volume_docx(volume: ExportVolume) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    _fonts(doc, EMBED_FAMILY if _embed_fonts(doc) else FALLBACK_FONT)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    section.different_first_page_header_footer = True          # no number on the title page
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(foot, "PAGE", "1")
    doc.core_properties.title = _clean(volume.title)
    doc.core_properties.author = _clean(volume.editor)
    doc.core_properties.subject = "Tập văn kiện"
    doc.core_properties.language = "vi-VN"
    # ask Word to fill in the table of contents when the file is opened
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    compat = doc.settings.element.find(qn("w:compat"))
    if compat is not None:
        compat.addprevious(update)   # the schema's order: before w:compat
    else:
        doc.settings.element.append(update)

    def centered(text: str, size: int, bold: bool = False, space_before: int = 0):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_before = Pt(space_before)
        r = p.add_run(text)
        r.font.size, r.bold = Pt(size), bold
        return p

    n = len(volume.documents)
    centered(ARCHIVE_NAME.upper(), 14, space_before=120)
    centered("TẬP VĂN KIỆN", 14)
    centered(_clean(volume.title), 24, bold=True, space_before=18)
    centered(f"Gồm {n} văn bản", 13, space_before=12)
    if volume.editor:
        centered(f"Biên tập: {_clean(volume.editor)}", 13, space_before=160)
    centered(f"Xuất ngày {volume.exported_at.strftime('%d/%m/%Y')}", 13)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    centered("MỤC LỤC", 16, bold=True)
    _field(doc.add_paragraph(), 'TOC \\o "1-1" \\h \\z \\u',
           "Mục lục được cập nhật khi mở tệp (bấm F9 nếu chưa thấy số trang).")
    if not volume.documents:
        doc.add_paragraph("Tập văn kiện chưa có văn bản nào.")

    for i, d in enumerate(volume.documents, 1):
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        title = f"{i}. {_clean(d.title)}" + (f" ({_date(d.issued_date)})" if d.issued_date else "")
        h = doc.add_heading(title, level=1)
        for r in h.runs:
            r.font.color.rgb = RGBColor(0, 0, 0)
        rows = metadata_rows(d)
        table = doc.add_table(rows=len(rows), cols=2)
        table.style = "Table Grid"
        for row, (k, v) in zip(table.rows, rows):
            row.cells[0].width, row.cells[1].width = Cm(4.2), Cm(11.8)
            label = row.cells[0].paragraphs[0].add_run(k)
            label.bold, label.font.size = True, Pt(11)
            row.cells[1].paragraphs[0].add_run(_clean(v)).font.size = Pt(11)
        if d.note:
            p = doc.add_paragraph()
            p.paragraph_format.space_before = Pt(8)
            r = p.add_run("Ghi chú của biên tập viên: ")
            r.bold, r.italic = True, True
            p.add_run(_clean(d.note)).italic = True
        for block in re.split(r"\n\s*\n", _clean(d.text).strip()):
            lines = [line.strip() for line in block.splitlines() if line.strip()]
            if not lines:
                continue
            p = doc.add_paragraph()
            for k, line in enumerate(lines):
                run = p.add_run(line)
                if k < len(lines) - 1:
                    run.add_break()
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


__all__ = ["volume_docx"]
