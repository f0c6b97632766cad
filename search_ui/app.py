"""The web interface: FastAPI, server-rendered Jinja2 pages, a JSON API.

``create_app`` builds everything heavy once (catalog engine, search backend,
templates) and keeps it on ``app.state``; requests only read. Pages work
without JavaScript; ``static/app.js`` adds instant search, the zoomable viewer,
hit navigation and copying a citation. No inline script anywhere, so the
Content-Security-Policy forbids it outright.

Access: every search gets the caller's filter from ``access.access_for`` and
every catalog read goes through ``access.Repository``; a document the caller
may not see answers 404 exactly like a missing one. Who the caller is comes
from the session cookie (``auth``); searches, openings, downloads and logins
are written to the append-only audit log.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urlencode, urlsplit

from datetime import date

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse,
                               Response)
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexing.base import SearchBackend
from kholuu import __version__
from kholuu.access import ANONYMOUS, MODE_LABELS, ROLE_LABELS, User, can_read_audit, verify_password
from kholuu.catalog import Catalog
from kholuu.settings import Settings
from search_ui import auth, images
from search_ui.access import Repository, access_for, caller, utcnow
from search_ui.params import ENTITY_LABELS, FACET_TITLES, SORTS, parse_params
from search_ui.present import format_date
from search_ui.service import SearchOutcome, document_to_dict, document_view, hit_to_dict, run_search

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
    limiter: auth.LoginLimiter
    last_sweep: float = 0.0


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"], default_for_string=True, default=True),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.globals.update(version=__version__, sorts=SORTS, facet_titles=FACET_TITLES,
                       entity_labels=ENTITY_LABELS, format_date=format_date)
    return env


class CsrfRefused(Exception):
    """A form without the right CSRF token: answered 403 with a calm page."""


class NotFound(StarletteHTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=404, detail="Không tìm thấy")


def service_status(response: Response, outcome: SearchOutcome) -> None:
    """A search the service could not answer is a 503 with ``Retry-After`` (page and API alike)."""
    if outcome.unavailable:
        response.status_code = 503
        response.headers["Retry-After"] = "60"


def create_app(settings: Settings, *, catalog: Catalog | None = None,
               backend: SearchBackend | None = None) -> FastAPI:
    """The web app over ``catalog`` and ``backend``. When not given, the backend is opened
    from settings with its searches in a worker pool (``indexing.pool``), closed on shutdown."""
    owns_catalog = catalog is None
    catalog = catalog or Catalog.from_settings(settings)
    owns_backend = backend is None
    if backend is None:
        # searches in KHOLUU_SEARCH_WORKERS processes: concurrent researchers use every core
        from indexing.pool import open_search_backend

        backend = open_search_backend(settings)
    state = AppState(settings=settings, catalog=catalog, backend=backend, repo=Repository(catalog),
                     templates=_templates(), owns_backend=owns_backend, owns_catalog=owns_catalog,
                     limiter=auth.LoginLimiter())
    derivatives_dir = settings.cache_dir / "derivatives"

    def sweep() -> None:
        """Declassify documents whose date has come (at start, then hourly)."""
        state.last_sweep = time.monotonic()
        try:
            changed = state.repo.declassify_due(state.backend, date.today())
        except Exception:  # noqa: BLE001 - never keep the site from starting; retried in an hour
            log.exception("declassification sweep failed")
            return
        if changed:
            log.info("declassified %d document(s): %s", len(changed), changed[:20])

    def audit(request: Request, action: str, target: str = "", detail: str = "") -> None:
        user = caller(request)
        state.repo.accounts.audit(user.username or "anonymous", action, target, detail,
                                  request.client.host if request.client else "")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sweep()
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
        is_static = request.url.path.startswith("/static/")
        request.state.user = ANONYMOUS
        token = request.cookies.get(auth.SESSION_COOKIE)
        if not is_static and auth.well_formed(token):
            request.state.user = state.repo.accounts.session_user(auth.token_hash(str(token)), utcnow()) \
                or ANONYMOUS
        csrf = request.cookies.get(auth.CSRF_COOKIE)
        fresh_csrf = None if auth.well_formed(csrf) else auth.new_token()
        request.state.csrf = fresh_csrf or csrf
        if request.method not in ("GET", "HEAD", "OPTIONS") and not auth.same_origin(
                request.headers.get("origin") or request.headers.get("referer"),
                request.url.scheme, request.headers.get("host", "")):
            response: Response = render(request, "error.html", 403, title="Yêu cầu bị từ chối",
                                        message="Biểu mẫu này không được gửi từ trang của kho lưu trữ.")
        else:
            if not is_static and time.monotonic() - state.last_sweep > 3600:
                sweep()
            response = await call_next(request)
        if fresh_csrf and not is_static:
            response.set_cookie(auth.CSRF_COOKIE, fresh_csrf,
                                **{**auth.cookie_options(request.url.scheme), "samesite": "strict"})
        if not request.state.user.is_anonymous and not is_static:
            # pages a logged-in user sees are never kept (shared office computers);
            # images say themselves (no-store for restricted ones)
            response.headers.setdefault("Cache-Control", "private, no-store")
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "public, max-age=86400")   # URLs carry ?v=version
        else:
            response.headers.setdefault("Cache-Control", "private, no-cache")      # pages depend on who asks
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        user: User = getattr(request.state, "user", None) or ANONYMOUS
        html = state.templates.get_template(name).render(
            request=request, path=request.url.path, user=user, role_label=ROLE_LABELS.get(user.role, ""),
            csrf=getattr(request.state, "csrf", ""), can_audit=can_read_audit(user), **ctx)
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
        overview = state.repo.overview(access_for(request))
        return render(request, "index.html", overview=overview, params=parse_params({}))

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request) -> HTMLResponse:
        params = parse_params(request.query_params)
        outcome = run_search(state.backend, state.repo, params, access_for(request))
        if not params.is_empty:
            audit(request, "search", params.q[:200], f"{urlencode(params.items())[:1000]} → {outcome.total}")
        partial = request.headers.get("x-kholuu-partial") == "1"
        response = render(request, "results.html" if partial else "search.html", params=params, outcome=outcome)
        response.headers["Vary"] = "X-Kholuu-Partial, Accept-Encoding"
        service_status(response, outcome)
        return response

    @app.get("/documents/{document_id:int}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(request: Request, document_id: int, q: str = "") -> HTMLResponse:
        view = state.repo.document(access_for(request), document_id)
        if view is None:
            raise NotFound()
        audit(request, "open", f"document {document_id}", view.doc.access_mode)
        page = document_view(view, parse_params({"q": q}).q)
        back = parse_params(request.query_params)
        return render(request, "document.html", doc=page, params=back)

    @app.get("/documents/{document_id:int}/text", include_in_schema=False)
    def document_text(request: Request, document_id: int) -> Response:
        view = state.repo.document(access_for(request), document_id)
        if view is None:
            raise NotFound()
        audit(request, "download", f"document {document_id}", f"text, {view.doc.access_mode}")
        text = view.doc.text or "\n\n".join(p.text or "" for p in view.pages)
        name = f"kholuu-van-ban-{document_id}.txt"
        return PlainTextResponse(text, media_type="text/plain; charset=utf-8",
                                 headers={"Content-Disposition": f"attachment; filename=\"{name}\""})

    @app.get("/documents/{document_id:int}/pdf", include_in_schema=False)
    def document_pdf(request: Request, document_id: int) -> Response:
        view = state.repo.document(access_for(request), document_id)
        if view is None or not view.doc.pdf_path or not Path(view.doc.pdf_path).is_file():
            raise NotFound()
        audit(request, "download", f"document {document_id}", f"pdf, {view.doc.access_mode}")
        return FileResponse(view.doc.pdf_path, media_type="application/pdf",
                            filename=f"kholuu-van-ban-{document_id}.pdf")

    @app.get("/pages/{page_id:int}/image", include_in_schema=False)
    def page_image(request: Request, page_id: int, w: int | None = None, full: bool = False,
                   format: str = "jpeg") -> Response:
        found = state.repo.page_mode(access_for(request), page_id)
        if found is None or not found[0].image_path:
            raise NotFound()
        page, mode = found
        master = Path(page.image_path)
        if not master.is_file():
            raise NotFound()
        # restricted pages are never kept in a browser cache (shared office computers)
        cache = {"Cache-Control": "private, max-age=86400" if mode == "public" else "private, no-store"}
        if full:
            audit(request, "download", f"page {page_id}", f"full image, {mode}")
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
        fonds = state.repo.fonds(access_for(request))
        return render(request, "browse.html", fonds=fonds, params=parse_params({}))

    @app.get("/browse/{code}", response_class=HTMLResponse, include_in_schema=False)
    def browse_fonds(request: Request, code: str) -> HTMLResponse:
        access = access_for(request)
        found = state.repo.fonds_detail(access, code)
        if found is None:
            raise NotFound()
        fonds, files, unfiled = found
        loose = state.repo.fonds_documents(access, code) if unfiled else []
        return render(request, "browse_fonds.html", fonds=fonds, files=files, loose=loose,
                      params=parse_params({"fonds": code}))

    @app.get("/browse/files/{file_id:int}", response_class=HTMLResponse, include_in_schema=False)
    def browse_file(request: Request, file_id: int) -> HTMLResponse:
        found = state.repo.file_documents(access_for(request), file_id)
        if found is None:
            raise NotFound()
        f, fonds, docs = found
        return render(request, "browse_file.html", file=f, fonds=fonds, docs=docs,
                      params=parse_params({"fonds": fonds.code}))

    # -- JSON API --------------------------------------------------------------
    @app.get("/api/search", tags=["tìm kiếm"], summary="Tìm kiếm văn bản")
    def api_search(request: Request, response: Response,
                   q: str = Query("", description="từ khóa: từ, \"cụm từ\", -loại trừ, OR; có dấu hoặc không dấu"),
                   fonds: str = Query("", description="mã phông, ví dụ F01"),
                   type: str = Query("", description="loại văn bản: Chỉ thị hoặc CT"),
                   issuer: str = Query("", description="cơ quan ban hành (giá trị của bộ lọc)"),
                   entity: str = Query("", description="LABEL:tên, ví dụ PER:Nguyễn Văn A"),
                   sort: str = Query("relevance", description="relevance | date_desc | date_asc"),
                   page: str = Query("1", description="trang kết quả, 10 văn bản một trang"), from_: str = Query("", alias="from", description="từ năm (YYYY)"),
                   to: str = Query("", description="đến năm (YYYY)")) -> dict[str, Any]:
        """Cùng tham số với trang tìm kiếm. Tham số hoặc câu tìm kiếm sai được giải
        thích trong `messages`, không bao giờ thành lỗi. Khi dịch vụ tìm kiếm tạm thời
        không hoạt động: mã 503 (thử lại sau, `Retry-After`), lời giải thích trong `messages`."""
        params = parse_params(request.query_params)
        outcome = run_search(state.backend, state.repo, params, access_for(request))
        service_status(response, outcome)
        if not params.is_empty:
            audit(request, "search", params.q[:200], f"api {urlencode(params.items())[:1000]} → {outcome.total}")
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
        view = state.repo.document(access_for(request), document_id)
        if view is None:
            raise NotFound()
        audit(request, "open", f"document {document_id}", f"api, {view.doc.access_mode}")
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

    # -- logging in and out ----------------------------------------------------
    def login_form(request: Request, status: int = 200, message: str = "", username: str = "",
                   next_url: str = "/") -> HTMLResponse:
        return render(request, "login.html", status, message=message, username=username,
                      next_url=auth.safe_next(next_url), params=parse_params({}))

    async def checked_form(request: Request) -> dict[str, str]:
        """The posted form, after the CSRF check every form goes through."""
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if not auth.csrf_matches(request.cookies.get(auth.CSRF_COOKIE), values.get("csrf")):
            raise CsrfRefused()
        return values

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return render(request, "error.html", 403, title="Phiên làm việc đã hết hạn",
                      message="Biểu mẫu đã cũ hoặc không được gửi từ trang này. Hãy tải lại trang và thử lại.")

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "") -> HTMLResponse:
        """The "Đăng nhập" link is the same on every page (so a 404 page never
        differs by URL); the page to return to comes from the Referer."""
        if not next:
            ref = request.headers.get("referer") or ""
            if ref and auth.same_origin(ref, request.url.scheme, request.headers.get("host", "")):
                parts = urlsplit(ref)
                next = parts.path + (f"?{parts.query}" if parts.query else "")
        return login_form(request, next_url=next or "/")

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await checked_form(request)
        username = (form.get("username") or "").strip().lower()[:64]
        password = (form.get("password") or "")[:1024]
        next_url = auth.safe_next(form.get("next"))
        ip = request.client.host if request.client else ""
        wait = state.limiter.wait_s(username, ip)
        if wait:
            state.repo.accounts.audit(username or "?", "login_blocked", username, "rate limit", ip)
            return login_form(request, 429, f"Đăng nhập sai quá nhiều lần. Hãy thử lại sau {-(-wait // 60)} phút.",
                              username, next_url)
        record = state.repo.accounts.login_record(username) if username else None
        ok = verify_password(record[1] if record else None, password)
        if not ok or record is None:
            state.limiter.failed(username, ip)
            state.repo.accounts.audit(username or "?", "login_failed", username, "", ip)
            return login_form(request, 401, "Tên đăng nhập hoặc mật khẩu không đúng.", username, next_url)
        user = record[0]
        state.limiter.succeeded(username)
        token = auth.new_token()
        state.repo.accounts.create_session(int(user.id or 0), auth.token_hash(token), auth.session_expiry(utcnow()))
        state.repo.accounts.audit(user.username, "login", user.username, user.role, ip)
        response = RedirectResponse(next_url, status_code=303)
        response.set_cookie(auth.SESSION_COOKIE, token, max_age=auth.SESSION_HOURS * 3600,
                            **auth.cookie_options(request.url.scheme))
        # a new CSRF token with the new session
        response.set_cookie(auth.CSRF_COOKIE, auth.new_token(),
                            **{**auth.cookie_options(request.url.scheme), "samesite": "strict"})
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        await checked_form(request)
        token = request.cookies.get(auth.SESSION_COOKIE)
        if auth.well_formed(token):
            state.repo.accounts.end_session(auth.token_hash(str(token)))
        if not caller(request).is_anonymous:
            audit(request, "logout", caller(request).username)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE, path="/")
        return response

    # -- administration ----------------------------------------------------------
    @app.get("/admin/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request, page: str = "1", action: str = "") -> HTMLResponse:
        """The audit log, newest first; for administrators only (others: the same 404)."""
        if not can_read_audit(caller(request)):
            raise NotFound()
        n = int(page) if page.isdigit() and 0 < int(page) <= 10_000 else 1
        per_page = 100
        entries = state.repo.accounts.audit_entries(limit=per_page, offset=(n - 1) * per_page,
                                                    action=action.strip()[:32] or None)
        return render(request, "audit.html", entries=entries, page=n, per_page=per_page, action=action[:32],
                      users=state.repo.accounts.users(), role_labels=ROLE_LABELS, mode_labels=MODE_LABELS,
                      params=parse_params({}))

    # -- editors' collections and exports (search_ui/collections.py) -------------
    from search_ui import collections as collections_web

    collections_web.install(app, state, render=render, checked_form=checked_form, audit=audit, not_found=NotFound)

    @app.get("/robots.txt", include_in_schema=False)
    def robots() -> PlainTextResponse:
        return PlainTextResponse("User-agent: *\nDisallow: /\n")   # an archive, not a public website

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app

