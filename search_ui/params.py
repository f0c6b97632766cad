"""Search parameters: from the URL to a ``SearchQuery`` and back to URLs.

The query lives in the URL (bookmarkable, shareable), so every link on the
results page — a facet, a removed filter, the next page, another sort — is the
current URL with one change. Bad values (a year "abc", page "-1") never reach
the backend: they are dropped with a message the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping
from urllib.parse import urlencode

from indexing.base import SearchQuery
from kholuu.access import AccessFilter
from kholuu.textnorm import normalize_query

PAGE_SIZE = 10
MAX_PAGE = 100
MAX_QUERY_CHARS = 500
SORTS = {"relevance": "Liên quan nhất", "date_desc": "Mới nhất", "date_asc": "Cũ nhất"}
ENTITY_LABELS = {"PER": "Người", "ORG": "Tổ chức", "LOC": "Địa danh", "DATE": "Thời gian"}
# facet key in SearchResult.facets → how clicking a value narrows the search
FACET_TITLES = {
    "fonds": "Phông",
    "doc_type": "Loại văn bản",
    "issuer": "Cơ quan ban hành",
    "year": "Năm",
    "person": "Người",
    "organization": "Tổ chức",
    "place": "Địa danh",
}
_FACET_ENTITY = {"person": "PER", "organization": "ORG", "place": "LOC"}


@dataclass
class SearchParams:
    q: str = ""
    fonds: str = ""
    doc_type: str = ""
    issuer: str = ""
    entity: str = ""          # "PER:Nguyễn Văn A"
    year_from: int | None = None
    year_to: int | None = None
    sort: str = "relevance"
    page: int = 1
    problems: list[str] = field(default_factory=list)

    @property
    def has_filters(self) -> bool:
        return bool(self.fonds or self.doc_type or self.issuer or self.entity
                    or self.year_from or self.year_to)

    @property
    def is_empty(self) -> bool:
        return not self.q and not self.has_filters

    def entity_pair(self) -> tuple[str, str] | None:
        label, sep, value = self.entity.partition(":")
        if sep and label in ENTITY_LABELS and value.strip():
            return label, value.strip()
        return None

    def to_query(self, access: AccessFilter | tuple[str, ...], *, limit: int = PAGE_SIZE) -> SearchQuery:
        """The backend query. ``access`` comes from the access function only."""
        if isinstance(access, AccessFilter):
            access_modes, granted, scope = access.modes, access.granted_ids, access.fonds
        else:
            access_modes, granted, scope = tuple(access), (), ()
        return SearchQuery(
            text=self.q, fonds=self.fonds or None, doc_type=self.doc_type or None,
            issuer=self.issuer or None, year_from=self.year_from, year_to=self.year_to,
            entity=self.entity_pair(), sort=self.sort, offset=(self.page - 1) * limit,
            limit=limit, access_modes=tuple(access_modes), granted_ids=tuple(granted), fonds_scope=tuple(scope),
        )

    def items(self) -> list[tuple[str, str]]:
        out = [("q", self.q), ("fonds", self.fonds), ("type", self.doc_type), ("issuer", self.issuer),
               ("entity", self.entity), ("from", str(self.year_from or "")), ("to", str(self.year_to or ""))]
        if self.sort != "relevance":
            out.append(("sort", self.sort))
        if self.page > 1:
            out.append(("page", str(self.page)))
        return [(k, v) for k, v in out if v]

    def url(self, path: str = "/search", **changes: object) -> str:
        """This search with some fields changed; any change but ``page`` starts at page 1."""
        if "page" not in changes:
            changes["page"] = 1
        new = replace(self, problems=[], **changes)  # type: ignore[arg-type]
        qs = urlencode(new.items())
        return f"{path}?{qs}" if qs else path

    def facet_url(self, key: str, value: str) -> str:
        if key == "fonds":
            return self.url(fonds=value)
        if key == "doc_type":
            return self.url(doc_type=value)
        if key == "issuer":
            return self.url(issuer=value)
        if key == "year" and value.isdigit():
            return self.url(year_from=int(value), year_to=int(value))
        if key in _FACET_ENTITY:
            return self.url(entity=f"{_FACET_ENTITY[key]}:{value}")
        return self.url()

    def facet_active(self, key: str, value: str) -> bool:
        if key == "fonds":
            return self.fonds == value
        if key == "doc_type":
            return self.doc_type == value
        if key == "issuer":
            return self.issuer == value
        if key == "year":
            return value.isdigit() and self.year_from == self.year_to == int(value)
        if key in _FACET_ENTITY:
            return self.entity == f"{_FACET_ENTITY[key]}:{value}"
        return False

    def active_filters(self) -> list[tuple[str, str, str]]:
        """(label, value, URL without this filter) for each filter in use."""
        out: list[tuple[str, str, str]] = []
        if self.fonds:
            out.append(("Phông", self.fonds, self.url(fonds="")))
        if self.doc_type:
            out.append(("Loại văn bản", self.doc_type, self.url(doc_type="")))
        if self.issuer:
            out.append(("Cơ quan ban hành", self.issuer, self.url(issuer="")))
        pair = self.entity_pair()
        if pair:
            out.append((ENTITY_LABELS[pair[0]], pair[1], self.url(entity="")))
        if self.year_from or self.year_to:
            if self.year_from == self.year_to:
                text = str(self.year_from)
            else:
                text = f"{self.year_from or '…'}–{self.year_to or '…'}"
            out.append(("Năm", text, self.url(year_from=None, year_to=None)))
        return out


def _year(raw: str, name: str, problems: list[str]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if raw.isdigit() and 1800 <= int(raw) <= 2200:
        return int(raw)
    problems.append(f"Năm “{raw[:20]}” ({name}) không hợp lệ, cần dạng YYYY — đã bỏ qua.")
    return None


def _clean(raw: str | None, limit: int = 200) -> str:
    return normalize_query(raw or "")[:limit]


def parse_params(params: Mapping[str, str]) -> SearchParams:
    """Read search parameters from a query string; never raises."""
    problems: list[str] = []
    q = normalize_query(params.get("q") or "")
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
        problems.append(f"Câu tìm kiếm dài quá {MAX_QUERY_CHARS} ký tự — đã cắt bớt.")
    year_from = _year(params.get("from") or "", "từ năm", problems)
    year_to = _year(params.get("to") or "", "đến năm", problems)
    if year_from and year_to and year_from > year_to:
        year_from, year_to = year_to, year_from
    sort = params.get("sort") or "relevance"
    if sort not in SORTS:
        problems.append("Cách sắp xếp không hợp lệ — dùng mức độ liên quan.")
        sort = "relevance"
    raw_page = (params.get("page") or "1").strip()
    page = int(raw_page) if raw_page.isdigit() else 1
    page = min(max(page, 1), MAX_PAGE)
    return SearchParams(
        q=q, fonds=_clean(params.get("fonds"), 32), doc_type=_clean(params.get("type"), 100),
        issuer=_clean(params.get("issuer")), entity=_clean(params.get("entity"), 300),
        year_from=year_from, year_to=year_to, sort=sort, page=page, problems=problems,
    )
