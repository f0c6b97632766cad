"""What the pages and the JSON API show, computed once for both.

``run_search`` turns URL parameters into a backend query (with the caller's
access modes), catches what a user typed wrong, and prepares the result list:
titles, citations, safe snippets, thumbnails and facet links.
``document_view`` prepares one document with its pages and hit boxes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from indexing.base import Hit, SearchBackend, SearchResult
from kholuu.access import AccessFilter
from kholuu.errors import QuerySyntaxError, SearchError, SearchUnavailable
from search_ui.access import DocumentView, Repository
from search_ui.highlight import HitBox, find_hits, mark_text
from search_ui.params import ENTITY_LABELS, FACET_TITLES, PAGE_SIZE, SearchParams
from search_ui.present import (
    ACCESS_LABELS,
    citation,
    doc_title,
    format_date,
    full_citation,
    safe_snippet,
)

log = logging.getLogger("kholuu.web")
FACET_SHOWN = 8


@dataclass
class ResultItem:
    hit: Hit
    title: str
    date: str
    citation: str
    snippet: Markup
    thumb_page_id: int | None
    url: str
    hit_pages: list[int] = field(default_factory=list)


@dataclass
class FacetLink:
    value: str
    label: str
    count: int
    url: str
    active: bool


@dataclass
class Facet:
    key: str
    title: str
    values: list[FacetLink]


@dataclass
class SearchOutcome:
    params: SearchParams
    result: SearchResult | None = None
    items: list[ResultItem] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    message: str = ""            # a friendly explanation when nothing could be searched
    took_ms: float = 0.0
    unavailable: bool = False    # the search service could not answer (HTTP 503): try again later

    @property
    def total(self) -> int:
        return self.result.total if self.result else 0

    @property
    def last_page(self) -> int:
        return max(1, min(100, -(-self.total // PAGE_SIZE)))

    def page_links(self) -> list[tuple[int, str]]:
        """Page numbers around the current one, with their URLs."""
        cur, last = self.params.page, self.last_page
        nums = sorted({1, last, *range(max(1, cur - 2), min(last, cur + 2) + 1)})
        return [(n, self.params.url(page=n)) for n in nums]


def run_search(backend: SearchBackend, repo: Repository, params: SearchParams,
               access: AccessFilter) -> SearchOutcome:
    out = SearchOutcome(params=params)
    if params.is_empty:
        return out
    if not params.q:
        out.message = "Hãy nhập từ khóa để tìm trong phạm vi đã chọn (hoặc dùng mục Duyệt phông)."
        return out
    query = params.to_query(access)
    started = time.perf_counter()
    try:
        result = backend.search(query)
    except QuerySyntaxError as exc:
        reason = str(exc).strip().rstrip(".")
        out.message = (f"{reason[:1].upper()}{reason[1:]}. Gợi ý: gõ từ khóa bằng chữ hoặc số, "
                       "đặt cụm từ trong ngoặc kép, dùng -từ để loại trừ.")
        return out
    except SearchUnavailable as exc:
        log.error("search service unavailable for %r: %s", params.q, exc)
        out.unavailable = True
        out.message = ("Dịch vụ tìm kiếm tạm thời không hoạt động; từ khóa của bạn không có lỗi. "
                       "Hãy thử lại sau ít phút. Nếu vẫn không được, xin báo người quản trị.")
        return out
    except (SearchError, ValueError) as exc:
        log.warning("search failed for %r: %s", params.q, exc)
        out.message = "Không thực hiện được tìm kiếm này. Hãy thử lại với từ khóa khác."
        return out
    out.took_ms = (time.perf_counter() - started) * 1000
    out.result = result
    wanted = []
    for h in result.hits:
        page_no = h.best_page or (h.pages[0].page_no if h.pages else 1)
        if not any(p.page_no == page_no for p in h.pages):
            wanted.append((h.id, page_no))
    page_ids = repo.page_ids(access, wanted)
    for h in result.hits:
        page_no = h.best_page or (h.pages[0].page_no if h.pages else 1)
        thumb = next((p.page_id for p in h.pages if p.page_no == page_no), None) or page_ids.get((h.id, page_no))
        url = f"/documents/{h.id}"
        if params.q:
            url += "?" + urlencode({"q": params.q})
        if h.best_page:
            url += f"#page-{h.best_page}"
        out.items.append(ResultItem(
            hit=h, title=doc_title(h.doc_type, h.number_symbol, h.id), date=format_date(h.issued_date),
            citation=h.citation, snippet=safe_snippet(h.snippet), thumb_page_id=thumb, url=url,
            hit_pages=sorted(p.page_no for p in h.pages),
        ))
    for key, title in FACET_TITLES.items():
        values = result.facets.get(key) or []
        if not values:
            continue
        names = repo.fonds_names() if key == "fonds" else {}
        links = [FacetLink(value=v.value, label=v.label or names.get(v.value) or v.value, count=v.count,
                           url=params.facet_url(key, v.value), active=params.facet_active(key, v.value))
                 for v in values if v.count > 0]
        if key == "year":
            links.sort(key=lambda f: f.value, reverse=True)
        if links:
            out.facets.append(Facet(key=key, title=title, values=links))
    return out


def hit_to_dict(item: ResultItem) -> dict[str, Any]:
    h = item.hit
    return {
        "id": h.id, "title": item.title, "doc_type": h.doc_type, "number_symbol": h.number_symbol,
        "issued_date": h.issued_date.isoformat() if h.issued_date else None, "subject": h.subject,
        "issuer": h.issuer, "fonds": h.fonds, "fonds_name": h.fonds_name, "register": h.register,
        "file_number": h.file_number, "citation": item.citation, "score": round(h.score, 4),
        "snippet": str(item.snippet), "best_page": h.best_page,
        "thumbnail": f"/pages/{item.thumb_page_id}/image?w=160" if item.thumb_page_id else None,
        "url": item.url,
        "pages": [{"page_no": p.page_no, "page_id": p.page_id, "terms": list(p.terms)} for p in h.pages],
    }


# -- the document page -----------------------------------------------------
@dataclass
class PageView:
    id: int
    number: int
    width: int
    height: int
    text: str
    confidence: float
    hits: list[tuple[int, HitBox]]     # (global hit number, boxes)
    has_image: bool
    marked_text: Markup = Markup("")


@dataclass
class DocumentPage:
    view: DocumentView
    title: str
    metadata: list[tuple[str, str]]
    entities: list[tuple[str, list[tuple[str, str]]]]   # (label title, [(text, search url)])
    pages: list[PageView]
    hit_count: int
    citation: str
    full_citation: str
    query: str


def document_view(view: DocumentView, query: str) -> DocumentPage:
    d = view.doc
    title = doc_title(d.doc_type, d.number_symbol, d.id)
    signer = " ".join(p for p in (d.signer_title, d.signer_name) if p)
    rows = [
        ("Loại văn bản", d.doc_type or ""), ("Số, ký hiệu", d.number_symbol or ""),
        ("Ngày ban hành", format_date(d.issued_date)), ("Nơi ban hành", d.place or ""),
        ("Cơ quan ban hành", d.issuer or ""), ("Trích yếu", d.subject or ""),
        ("Người ký", signer), ("Độ mật", d.security_mark or ""), ("Độ khẩn", d.urgency_mark or ""),
        ("Nơi nhận", "; ".join(d.recipients or [])),
        ("Phông", f"{d.fonds.code} — {d.fonds.name}" if d.fonds else ""),
        ("Mục lục", view.register or ""), ("Hồ sơ", " — ".join(p for p in (view.file_number, view.file_title) if p)),
        ("Số trang", str(d.page_count or len(view.pages))),
        ("Chế độ sử dụng", ACCESS_LABELS.get(d.access_mode, d.access_mode)),
    ]
    metadata = [(k, v) for k, v in rows if v]
    grouped: dict[str, list[tuple[str, str]]] = {}
    seen: set[tuple[str, str]] = set()
    for e in d.entities:
        name = e.canonical or e.text
        if (e.label, name) in seen or e.label not in ENTITY_LABELS:
            continue
        seen.add((e.label, name))
        grouped.setdefault(e.label, []).append((name, "/search?" + urlencode({"q": f'"{name}"'})))
    entities = [(ENTITY_LABELS[k], grouped[k]) for k in ENTITY_LABELS if k in grouped]
    pages: list[PageView] = []
    n = 0
    for p in view.pages:
        hits = []
        for hb in find_hits(p.words, query) if query else []:
            n += 1
            hits.append((n, hb))
        pages.append(PageView(id=p.id, number=p.page_in_document or len(pages) + 1, width=p.width or 0,
                              height=p.height or 0, text=p.text or "", confidence=p.confidence or 0.0,
                              hits=hits, has_image=bool(p.image_path and p.width and p.height),
                              marked_text=mark_text(p.text or "", query)))
    fonds = d.fonds.code if d.fonds else "?"
    archival = citation(fonds, view.register, view.file_number, [pv.number for pv in pages])
    return DocumentPage(view=view, title=title, metadata=metadata, entities=entities, pages=pages,
                        hit_count=n, citation=archival,
                        full_citation=full_citation(title, d.issued_date, d.issuer, d.subject, archival),
                        query=query)


def document_to_dict(page: DocumentPage) -> dict[str, Any]:
    d = page.view.doc
    return {
        "id": d.id, "title": page.title, "doc_type": d.doc_type, "number_symbol": d.number_symbol,
        "issued_date": d.issued_date.isoformat() if d.issued_date else None, "place": d.place,
        "issuer": d.issuer, "subject": d.subject, "signer_name": d.signer_name,
        "signer_title": d.signer_title, "security_mark": d.security_mark, "urgency_mark": d.urgency_mark,
        "recipients": list(d.recipients or []), "fonds": d.fonds.code if d.fonds else None,
        "fonds_name": d.fonds.name if d.fonds else None, "register": page.view.register,
        "file_number": page.view.file_number, "access_mode": d.access_mode, "citation": page.citation,
        "full_citation": page.full_citation,
        "entities": [{"text": e.text, "label": e.label, "canonical": e.canonical, "start": e.start, "end": e.end}
                     for e in d.entities],
        "text_url": f"/documents/{d.id}/text", "pdf_url": f"/documents/{d.id}/pdf" if d.pdf_path else None,
        "pages": [{
            "id": p.id, "page_no": p.number, "width": p.width, "height": p.height, "text": p.text,
            "confidence": round(p.confidence, 2),
            "image": f"/pages/{p.id}/image?w=1000" if p.has_image else None,
            "hits": [{"n": i, "text": hb.text, "boxes": [list(b) for b in hb.boxes]} for i, hb in p.hits],
        } for p in page.pages],
    }
