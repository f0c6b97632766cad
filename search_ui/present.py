"""How documents are named, dated and cited on the pages (Vietnamese conventions)."""

from __future__ import annotations

import re
from datetime import date
from typing import Iterable

from markupsafe import Markup

ACCESS_LABELS = {"public": "Công khai", "conditional": "Sử dụng có điều kiện", "secret": "Mật"}
_MARK_SPLIT = re.compile(r"(<mark>|</mark>)")


def doc_title(doc_type: str | None, number_symbol: str | None, doc_id: int | None = None) -> str:
    """"Chỉ thị 08-CT/TU"; what is known when parts are missing."""
    parts = [p for p in (doc_type, number_symbol) if p]
    if parts:
        return " ".join(parts)
    return f"Văn bản số hiệu chưa rõ (#{doc_id})" if doc_id else "Văn bản"


def format_date(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def long_date(d: date | None) -> str:
    return f"ngày {d.day} tháng {d.month} năm {d.year}" if d else ""


def citation(fonds: str, register: str | None, file_number: str | None,
             pages: Iterable[int] | None = None) -> str:
    """Archival citation: "Phông F01, Mục lục 01, Hồ sơ 12, tờ 3" (or "tờ 1–4")."""
    parts = [f"Phông {fonds}"]
    if register:
        parts.append(f"Mục lục {register}")
    if file_number:
        parts.append(f"Hồ sơ {file_number}")
    nums = sorted(set(pages or []))
    if nums:
        parts.append(f"tờ {nums[0]}" if len(nums) == 1 else f"tờ {nums[0]}–{nums[-1]}")
    return ", ".join(parts)


def full_citation(title: str, issued: date | None, issuer: str | None, subject: str | None,
                  archival: str) -> str:
    """A reference a researcher pastes into a footnote."""
    text = title
    if issued:
        text += f" {long_date(issued)}"
    if issuer:
        text += f" của {issuer}"
    if subject:
        if subject.lower().startswith("về "):
            text += " v" + subject[1:]
        else:
            text += f", {subject}"
    return f"{text}. {archival}."


def safe_snippet(snippet: str | None) -> Markup:
    """Mark the backend's snippet safe, keeping only ``<mark>`` as markup.

    The indexing layer returns escaped text with ``<mark>`` around hits; any
    other ``<`` or ``>`` (a backend bug, OCR text that slipped through) is
    escaped here, so a snippet can never carry markup of its own.
    """
    if not snippet:
        return Markup("")
    out: list[str] = []
    depth = 0
    for part in _MARK_SPLIT.split(snippet):
        if part == "<mark>":
            if depth == 0:
                out.append(part)
            depth += 1
        elif part == "</mark>":
            if depth == 1:
                out.append(part)
            depth = max(depth - 1, 0)
        else:
            out.append(part.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))
    if depth:
        out.append("</mark>")
    return Markup("".join(out))

