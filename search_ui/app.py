"""The web interface: FastAPI, server-rendered Jinja2 pages, a JSON API.

``create_app`` builds everything heavy once (catalog engine, search backend,
templates) and keeps it on ``app.state``; requests only read. Pages work
without JavaScript; ``static/app.js`` adds instant search, the zoomable viewer,
hit navigation and copying a citation. No inline script anywhere, so the
Content-Security-Policy forbids it outright.

Access: every search gets its modes from ``access.allowed_access_modes`` and
every catalog read goes through ``access.Repository``; a document the caller
may not see answers 404 exactly like a missing one.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexing.base import SearchBackend
from kholuu import __version__
from kholuu.catalog import Catalog
from kholuu.settings import Settings
from search_ui import images
from search_ui.access import Repository, allowed_access_modes
from search_ui.params import ENTITY_LABELS, FACET_TITLES, SORTS, parse_params
from search_ui.present import format_date
from search_ui.service import document_to_dict, document_view, hit_to_dict, run_search

log = logging.getLogger("kholuu.web")
HERE = Path(__file__).resolve().parent
CSP = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@dataclass
class AppState:
    settings: Settings
    catalog: Catalog
    backend: SearchBackend
    repo: Repository
    templates: Environment
    owns_backend: bool
    owns_catalog: bool


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"], default_for_string=True, default=True),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.globals.update(version=__version__, sorts=SORTS, facet_titles=FACET_TITLES,
                       entity_labels=ENTITY_LABELS, format_date=format_date)
    return env


class NotFound(StarletteHTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=404, detail="Không tìm thấy")


def create_app(settings: Settings, *, catalog: Catalog | None = None,
               backend: SearchBackend | None = None) -> FastAPI:
    """The web app over ``catalog`` and ``backend`` (opened from settings when not given)."""
    owns_catalog = catalog is None
    catalog = catalog or Catalog.from_settings(settings)
    owns_backend = backend is None
    if backend is None:
        import indexing

        backend = indexing.open_backend(settings)
    state = AppState(settings=settings, catalog=catalog, backend=backend, repo=Repository(catalog),
                     templates=_templates(), owns_backend=owns_backend, owns_catalog=owns_catalog)
    derivatives_dir = settings.cache_dir / "derivatives"

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if state.owns_backend:
            state.backend.close()
        if state.owns_catalog:
            state.catalog.dispose()

    app = FastAPI(title="kholuu — tra cứu tài liệu lưu trữ", version=__version__, lifespan=lifespan,
                  description="Tìm kiếm toàn văn tài liệu lưu trữ. JSON API cho các trang web.",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.kholuu = state
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # pages and JSON shrink 5-10x for a slow office line; images are compressed already
    app.add_middleware(GZipMiddleware, minimum_size=1024,
                       exclude_content_types=("text/event-stream", "image/jpeg", "image/webp", "image/png",
                                              "application/pdf"))

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "public, max-age=86400")   # URLs carry ?v=version
        else:
            response.headers.setdefault("Cache-Control", "private, no-cache")      # pages depend on who asks
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = state.templates.get_template(name).render(request=request, path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "Không tìm thấy" if exc.status_code == 404 else exc.detail},
                                status_code=exc.status_code)
        if exc.status_code == 404:
            return render(request, "error.html", 404, title="Không tìm thấy",
                          message="Trang hoặc văn bản này không có trong kho, hoặc bạn không có quyền xem.")
        return render(request, "error.html", exc.status_code, title="Lỗi", message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "Tham số không hợp lệ"}, status_code=400)
        return render(request, "error.html", 400, title="Yêu cầu không hợp lệ",
                      message="Đường dẫn có tham số không hợp lệ.")

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        """A bug or a broken disk: logged in full, shown as one calm sentence."""
        log.exception("%s %s failed", request.method, request.url.path)
        if request.url.path.startswith("/api/"):
            response: Response = JSONResponse({"detail": "Lỗi máy chủ"}, status_code=500)
        else:
            response = render(request, "error.html", 500, title="Lỗi máy chủ",
                              message="Hệ thống gặp lỗi khi xử lý yêu cầu này. Hãy thử lại sau ít phút.")
        for k, v in SECURITY_HEADERS.items():
            response.headers[k] = v
        return response

    # -- pages ---------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        overview = state.repo.overview(allowed_access_modes(request))
        return render(request, "index.html", overview=overview, params=parse_params({}))

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request) -> HTMLResponse:
        params = parse_params(request.query_params)
        outcome = run_search(state.backend, state.repo, params, allowed_access_modes(request))
        partial = request.headers.get("x-kholuu-partial") == "1"
        response = render(request, "results.html" if partial else "search.html", params=params, outcome=outcome)
        response.headers["Vary"] = "X-Kholuu-Partial, Accept-Encoding"
        return response

    @app.get("/documents/{document_id:int}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(request: Request, document_id: int, q: str = "") -> HTMLResponse:
        view = state.repo.document(allowed_access_modes(request), document_id)
        if view is None:
            raise NotFound()
        page = document_view(view, parse_params({"q": q}).q)
        back = parse_params(request.query_params)
        return render(request, "document.html", doc=page, params=back)

    @app.get("/documents/{document_id:int}/text", include_in_schema=False)
    def document_text(request: Request, document_id: int) -> Response:
        view = state.repo.document(allowed_access_modes(request), document_id)
        if view is None:
            raise NotFound()
        text = view.doc.text or "\n\n".join(p.text or "" for p in view.pages)
        name = f"kholuu-van-ban-{document_id}.txt"
        return PlainTextResponse(text, media_type="text/plain; charset=utf-8",
                                 headers={"Content-Disposition": f"attachment; filename=\"{name}\""})

    @app.get("/documents/{document_id:int}/pdf", include_in_schema=False)
    def document_pdf(request: Request, document_id: int) -> Response:
        view = state.repo.document(allowed_access_modes(request), document_id)
        if view is None or not view.doc.pdf_path or not Path(view.doc.pdf_path).is_file():
            raise NotFound()
        return FileResponse(view.doc.pdf_path, media_type="application/pdf",
                            filename=f"kholuu-van-ban-{document_id}.pdf")

    @app.get("/pages/{page_id:int}/image", include_in_schema=False)
    def page_image(request: Request, page_id: int, w: int | None = None, full: bool = False,
                   format: str = "jpeg") -> Response:
        page = state.repo.page(allowed_access_modes(request), page_id)
        if page is None or not page.image_path:
            raise NotFound()
        master = Path(page.image_path)
        if not master.is_file():
            raise NotFound()
        cache = {"Cache-Control": "private, max-age=86400"}
        if full:
            return FileResponse(master, headers=cache)
        fmt = format if format in images.FORMATS else "jpeg"
        try:
            out = images.derivative(master, derivatives_dir, images.clamp_width(w), fmt)
        except OSError as exc:
            log.warning("page %s: cannot make a derivative of %s: %s", page_id, master, exc)
            raise NotFound() from None
        return FileResponse(out, media_type=images.media_type(fmt), headers=cache)

    @app.get("/browse", response_class=HTMLResponse, include_in_schema=False)
    def browse(request: Request) -> HTMLResponse:
        fonds = state.repo.fonds(allowed_access_modes(request))
        return render(request, "browse.html", fonds=fonds, params=parse_params({}))

    @app.get("/browse/{code}", response_class=HTMLResponse, include_in_schema=False)
    def browse_fonds(request: Request, code: str) -> HTMLResponse:
        modes = allowed_access_modes(request)
        found = state.repo.fonds_detail(modes, code)
        if found is None:
            raise NotFound()
        fonds, files, unfiled = found
        loose = state.repo.fonds_documents(modes, code) if unfiled else []
        return render(request, "browse_fonds.html", fonds=fonds, files=files, loose=loose,
                      params=parse_params({"fonds": code}))

    @app.get("/browse/files/{file_id:int}", response_class=HTMLResponse, include_in_schema=False)
    def browse_file(request: Request, file_id: int) -> HTMLResponse:
        found = state.repo.file_documents(allowed_access_modes(request), file_id)
        if found is None:
            raise NotFound()
        f, fonds, docs = found
        return render(request, "browse_file.html", file=f, fonds=fonds, docs=docs,
                      params=parse_params({"fonds": fonds.code}))

    # -- JSON API --------------------------------------------------------------
    @app.get("/api/search", tags=["tìm kiếm"], summary="Tìm kiếm văn bản")
    def api_search(request: Request,
                   q: str = Query("", description="từ khóa: từ, \"cụm từ\", -loại trừ, OR; có dấu hoặc không dấu"),
                   fonds: str = Query("", description="mã phông, ví dụ F01"),
                   type: str = Query("", description="loại văn bản: Chỉ thị hoặc CT"),
                   issuer: str = Query("", description="cơ quan ban hành (giá trị của bộ lọc)"),
                   entity: str = Query("", description="LABEL:tên, ví dụ PER:Nguyễn Văn A"),
                   sort: str = Query("relevance", description="relevance | date_desc | date_asc"),
                   page: str = Query("1", description="trang kết quả, 10 văn bản một trang"), from_: str = Query("", alias="from", description="từ năm (YYYY)"),
                   to: str = Query("", description="đến năm (YYYY)")) -> dict[str, Any]:
        """Cùng tham số với trang tìm kiếm. Tham số hoặc câu tìm kiếm sai được giải
        thích trong `messages`, không bao giờ thành lỗi."""
        params = parse_params(request.query_params)
        outcome = run_search(state.backend, state.repo, params, allowed_access_modes(request))
        return {
            "query": dict(params.items()), "total": outcome.total, "page": params.page,
            "pages": outcome.last_page, "messages": params.problems + ([outcome.message] if outcome.message else []),
            "hits": [hit_to_dict(i) for i in outcome.items],
            "facets": {f.key: [{"value": v.value, "label": v.label, "count": v.count, "url": v.url}
                               for v in f.values] for f in outcome.facets},
            "took_ms": round(outcome.took_ms, 1),
        }

    @app.get("/api/documents/{document_id:int}", tags=["văn bản"], summary="Một văn bản với các trang")
    def api_document(request: Request, document_id: int,
                     q: str = Query("", description="từ khóa để vẽ khung kết quả")) -> dict[str, Any]:
        """Thông tin văn bản, thực thể, các trang (văn bản, ảnh) và, khi có `q`, khung kết quả trên từng trang."""
        view = state.repo.document(allowed_access_modes(request), document_id)
        if view is None:
            raise NotFound()
        return document_to_dict(document_view(view, parse_params({"q": q}).q))

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_help(request: Request) -> HTMLResponse:
        """The API described from its OpenAPI document, served here: the archive's
        network reaches no CDN, so Swagger UI's page would stay blank."""
        spec = app.openapi()
        endpoints = []
        for path, methods in spec.get("paths", {}).items():
            for method, op in methods.items():
                endpoints.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                                  "description": op.get("description", ""),
                                  "params": [(p["name"], p.get("in", ""), p.get("description", ""),
                                              p.get("schema", {}).get("type", ""))
                                             for p in op.get("parameters", [])]})
        return render(request, "api.html", endpoints=endpoints, params=parse_params({}))

    @app.get("/robots.txt", include_in_schema=False)
    def robots() -> PlainTextResponse:
        return PlainTextResponse("User-agent: *\nDisallow: /\n")   # an archive, not a public website

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app

