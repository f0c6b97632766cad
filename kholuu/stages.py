"""Batch-level stages: the catalog-aware steps the pipeline runs, in order.

Each stage is a plain function ``(batch_id, context) -> summary`` over the
catalog: it reads what the previous stage wrote and writes its own output back,
idempotently. The Dagster assets in ``pipelines/`` are a thin shell over these
functions, and ``bench/pipeline.py`` calls them directly to measure the cost
of orchestration. Page-level work is done by ``ocr/``, text-level work by
``extraction/``, and the index by ``indexing/``; nothing here knows Dagster.

Failure isolation: a bad input file is copied to the quarantine folder with a
``.reason.txt`` beside it and recorded as a page in state ``error`` with the
reason; the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from kholuu.catalog import Catalog
from kholuu.errors import KholuuError
from kholuu.manifest import BatchLayout, ManifestEntry, scan_folder
from kholuu.model import DocumentMetadata, DocumentPlan, PageImage
from kholuu.settings import Settings

log = logging.getLogger("kholuu.progress")

PAGE_SEPARATOR = "\n\n"


@dataclass
class StageContext:
    settings: Settings
    catalog: Catalog
    progress: Callable[[str], None] = field(default=lambda message: log.info(message))

    @classmethod
    def from_settings(cls, settings: Settings, progress: Callable[[str], None] | None = None) -> "StageContext":
        settings.ensure_dirs()
        catalog = Catalog(settings.database_url)
        return cls(settings=settings, catalog=catalog, progress=progress or (lambda m: log.info(m)))


@dataclass
class PagesSummary:
    files: int = 0
    pages: int = 0
    new_pages: int = 0
    errors: list[str] = field(default_factory=list)
    expected_pages: int | None = None   # from the manifest, when it lists pages


@dataclass
class OcrSummary:
    pages: int = 0
    processed: int = 0
    reused: int = 0
    blank: int = 0
    errors: list[str] = field(default_factory=list)
    mean_confidence: float = 0.0
    low_confidence_pages: list[int] = field(default_factory=list)


@dataclass
class DocumentsSummary:
    documents: int = 0
    document_ids: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    from_manifest: bool = False
    unchanged: int = 0


@dataclass
class IndexSummary:
    indexed: int = 0
    removed: int = 0
    backend: str = ""


def ocr_options(settings: Settings) -> Any:
    from ocr import OcrOptions

    return OcrOptions.from_settings(settings)


def _quarantine(ctx: StageContext, batch_key: str, source: Path, reason: str) -> None:
    target_dir = ctx.settings.quarantine_dir / batch_key
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / source.name
    try:
        if source.is_file():
            shutil.copy2(source, target)
        (target_dir / (source.name + ".reason.txt")).write_text(reason + "\n", encoding="utf-8")
    except OSError as exc:  # quarantine is best effort; the error is recorded anyway
        log.warning("could not quarantine %s: %s", source, exc)


def register_pages(batch_id: int, ctx: StageContext) -> PagesSummary:
    """Rasterize every file of the batch folder into page images; record pages.

    Page order follows the manifest (or natural file-name order). A page whose
    image hash has not changed keeps its OCR; a changed one goes back to "new".
    """
    from ocr import quiet_pillow, rasterize

    quiet_pillow()   # before the rasterizing threads start
    batch = ctx.catalog.get_batch(batch_id)
    folder = Path(batch.source_path)
    layout: BatchLayout = scan_folder(folder)
    options = ocr_options(ctx.settings)
    summary = PagesSummary(files=len({e.file for e in layout.entries}))
    if layout.has_manifest and all(e.page is not None for e in layout.entries):
        summary.expected_pages = len(layout.entries)
    existing = {(p.source_path, p.source_page): p for p in ctx.catalog.batch_pages(batch_id)}
    files = list(dict.fromkeys(e.file for e in layout.entries))
    signatures = {f: _source_signature(folder / f) for f in files}
    rasterized: dict[str, list[Any] | KholuuError] = {}
    for f in files:
        reused = _unchanged_pages(existing, f, signatures[f])
        if reused is not None:
            rasterized[f] = reused
    todo = [f for f in files if f not in rasterized]

    def read(file: str) -> list[Any] | KholuuError:
        try:
            return rasterize(folder / file, ctx.settings.pages_dir, options)
        except KholuuError as exc:
            return exc

    # files in a thread pool: Pillow decodes and compresses without the GIL (pdftoppm is a
    # process); the catalog, quarantine and progress stay in this thread
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.settings.ocr_workers, len(todo)))) as pool:
        for i, (file, result) in enumerate(zip(todo, pool.map(read, todo)), 1):
            ctx.progress(f"[{batch.key}] đã đọc tệp {i}/{len(todo)}: {file}")
            rasterized[file] = result
            if isinstance(result, KholuuError):
                _quarantine(ctx, batch.key, folder / file, str(result))
    seq = 0
    for entry in layout.entries:
        source = folder / entry.file
        result = rasterized[entry.file]
        if isinstance(result, KholuuError):
            if entry.page in (None, 1):
                seq += 1
                ctx.catalog.upsert_page(batch_id, seq, entry.file, entry.page or 1,
                                        status="error", error=str(result), document_id=None)
                summary.errors.append(str(result))
            continue
        pages = result if entry.page is None else [p for p in result if p.page == entry.page]
        if entry.page is not None and not pages:
            seq += 1
            message = f"{source}: page {entry.page} listed in the manifest, but the file has {len(result)} page(s)"
            ctx.catalog.upsert_page(batch_id, seq, entry.file, entry.page, status="error", error=message)
            summary.errors.append(message)
            continue
        for page in pages:
            seq += 1
            summary.pages += 1
            old = existing.get((entry.file, page.page))
            fields: dict[str, Any] = dict(sha256=page.sha256, image_path=page.image_path,
                                          width=page.width, height=page.height, dpi=page.dpi,
                                          source_sig=signatures[entry.file])
            if old is None or old.sha256 != page.sha256 or old.status == "error":
                fields.update(status="new", error=None)
                summary.new_pages += 1
            ctx.catalog.upsert_page(batch_id, seq, entry.file, page.page, **fields)
    ctx.progress(f"[{batch.key}] {summary.pages} trang từ {summary.files} tệp, {len(summary.errors)} lỗi")
    return summary


def make_page_derivatives(batch_id: int, ctx: StageContext) -> int:
    """Resized page images for the reader, made once here so no reader waits.

    Decoding a 300 dpi master costs about half a second; the web viewer would
    otherwise pay it on the first look at every page.
    """
    from kholuu.derivatives import make_derivatives
    from ocr import quiet_pillow

    quiet_pillow()   # before the decoding threads start
    cache = ctx.settings.cache_dir / "derivatives"
    masters = [Path(p.image_path) for p in ctx.catalog.batch_pages(batch_id) if p.image_path and p.status != "error"]
    # Pillow decodes, resizes and encodes without holding the GIL, so threads use every core
    with ThreadPoolExecutor(max_workers=max(1, min(ctx.settings.ocr_workers, len(masters)))) as pool:
        for _ in pool.map(lambda master: make_derivatives(master, cache), masters):
            pass
    return len(masters)


def _source_signature(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def _unchanged_pages(existing: dict[tuple[str, int], Any], file: str, signature: str) -> list[PageImage] | None:
    """The file's pages as recorded last time, if the file has not changed since.

    Decoding and re-encoding a 300 dpi scan costs about a second a page; a
    re-run of an unchanged batch should cost nothing.
    """
    rows = sorted((r for (f, _), r in existing.items() if f == file), key=lambda r: r.source_page)
    if not signature or not rows:
        return None
    if any(r.source_sig != signature or r.status == "error" or not r.image_path
           or not Path(r.image_path).is_file() for r in rows):
        return None
    return [PageImage(source=file, page=r.source_page, image_path=r.image_path, sha256=r.sha256 or "",
                      width=r.width, height=r.height, dpi=r.dpi) for r in rows]


def pages_needing_ocr(pages: list[Any], current_hash: str, *, force: bool = False,
                      only_below: float | None = None) -> list[Any]:
    """Which pages to (re-)read.

    New pages always. Pages read before: all of them with ``force``; with
    ``only_below``, those whose confidence is under it (an archivist re-reads
    the weak pages of a batch with a better model, keeping the good ones);
    otherwise those read with other settings or another model.
    """
    todo = []
    for p in pages:
        if p.status == "new" or force:
            todo.append(p)
        elif p.status in ("ocr", "blank"):
            if only_below is not None:
                if p.status == "ocr" and p.confidence < only_below and p.ocr_settings_hash != current_hash:
                    todo.append(p)
            elif p.ocr_settings_hash != current_hash:
                todo.append(p)
    return todo


def ocr_pages(batch_id: int, ctx: StageContext, *, force: bool = False,
              only_below: float | None = None) -> OcrSummary:
    """OCR the batch's pages that need it, on all cores; record text and words.

    A page needs OCR when it is new or was read with other settings or another
    model (the settings hash is recorded per page), or — with ``only_below`` —
    when it scored under that confidence and the settings changed since. The
    OCR cache makes a re-run with the same inputs cost nothing.
    """
    from ocr import OcrJob, ocr_many

    batch = ctx.catalog.get_batch(batch_id)
    options = ocr_options(ctx.settings)
    current_hash = options.settings_hash()
    pages = [p for p in ctx.catalog.batch_pages(batch_id) if p.image_path]
    todo = pages_needing_ocr(pages, current_hash, force=force, only_below=only_below)
    summary = OcrSummary(pages=len(pages), reused=len(pages) - len(todo))
    jobs = [OcrJob(image_path=Path(p.image_path), source=p.source_path, page=p.source_page) for p in todo]
    for done, (index, result) in enumerate(ocr_many(jobs, options), 1):
        page = todo[index]
        if isinstance(result, KholuuError):
            ctx.catalog.record_page_error(page.id, str(result))
            summary.errors.append(str(result))
        else:
            ctx.catalog.record_ocr(page.id, result)
            summary.blank += int(result.blank)
        summary.processed += 1
        if done % 5 == 0 or done == len(jobs):
            ctx.progress(f"[{batch.key}] OCR {done}/{len(jobs)} trang")
    final = [p for p in ctx.catalog.batch_pages(batch_id) if p.status == "ocr"]
    if final:
        summary.mean_confidence = sum(p.confidence for p in final) / len(final)
        summary.low_confidence_pages = [p.seq for p in final if p.confidence < ctx.settings.ocr_low_confidence]
    return summary


def _plans_from_manifest(layout: BatchLayout, pages: list[Any]) -> list[DocumentPlan]:
    by_source: dict[tuple[str, int | None], ManifestEntry] = {(e.file, e.page): e for e in layout.entries}
    plans: dict[int, DocumentPlan] = {}
    for p in pages:
        entry = by_source.get((p.source_path, p.source_page)) or by_source.get((p.source_path, None))
        if entry is None or entry.document is None:
            continue
        plan = plans.setdefault(entry.document, DocumentPlan(
            seq=entry.document, page_seqs=[], register=entry.register, file_number=entry.file_number))
        plan.page_seqs.append(p.seq)
    ordered = sorted(plans.values(), key=lambda d: min(d.page_seqs))
    for i, plan in enumerate(ordered, 1):
        plan.seq = i
    return ordered


def build_documents(batch_id: int, ctx: StageContext) -> DocumentsSummary:
    """Group pages into documents; extract metadata and entities; store them.

    Boundaries come from the manifest's ``document`` column when it has one,
    otherwise from header evidence in the page texts. Pages that failed are
    left out of documents (they are listed in the batch report).
    """
    from extraction import extract_entities, extract_metadata, split_documents
    from kholuu.segment import segmented_form

    batch = ctx.catalog.get_batch(batch_id)
    layout = scan_folder(Path(batch.source_path))
    pages = [p for p in ctx.catalog.batch_pages(batch_id) if p.status in ("ocr", "blank")]
    summary = DocumentsSummary()
    if layout.documents_given:
        plans = _plans_from_manifest(layout, pages)
        summary.from_manifest = True
    else:
        found = split_documents([p.text for p in pages])
        plans = [DocumentPlan(seq=d.seq, page_seqs=[pages[i].seq for i in _indexes(d, len(pages))],
                              confidence=d.confidence) for d in found]
    by_seq = {p.seq: p for p in pages}
    for plan in plans:
        doc_pages = [by_seq[s] for s in plan.page_seqs if s in by_seq]
        if not doc_pages:
            continue
        text = PAGE_SEPARATOR.join(p.text for p in doc_pages)
        previous = ctx.catalog.find_document(batch_id, plan.seq)
        if previous is not None and _unchanged(previous, text, doc_pages, plan, ctx.catalog):
            summary.document_ids.append(previous.id)
            summary.unchanged += 1
            continue
        metadata = apply_stamp_marks(extract_metadata(text), [m for p in doc_pages for m in (p.marks or [])])
        if refused(metadata):
            summary.removed_ids.extend(ctx.catalog.refuse_document(
                batch_id, plan.seq, [p.id for p in doc_pages], REFUSED_REASON))
            ctx.progress(f"[{batch.key}] văn bản {plan.seq}/{len(plans)}: TUYỆT MẬT, không lưu")
            continue
        entities = extract_entities(text)
        file_id = None
        if plan.file_number:
            file_id = ctx.catalog.ensure_file(batch.fonds_id, plan.register or "01", plan.file_number)
        doc_id = ctx.catalog.upsert_document(
            batch_id, plan.seq, [p.id for p in doc_pages], text, metadata, entities,
            file_id=file_id, boundary_confidence=plan.confidence, segmented=segmented_form(text),
            access_mode=access_for(metadata), extraction_sig=extraction_signature())
        summary.document_ids.append(doc_id)
        declassify_if_due(ctx.catalog, doc_id)
        ctx.progress(f"[{batch.key}] văn bản {plan.seq}/{len(plans)}: "
                     f"{metadata.doc_type or '?'} {metadata.number_symbol or ''}".rstrip())
    summary.documents = len(summary.document_ids)
    summary.removed_ids.extend(ctx.catalog.remove_documents_after(batch_id, len(plans)))
    if summary.removed_ids:
        unindex(summary.removed_ids, ctx)
    return summary


def unindex(document_ids: list[int], ctx: StageContext) -> None:
    """Documents gone from the catalog leave the index at once (never a stale hit)."""
    with _search_backend(ctx) as backend:
        backend.delete(document_ids)


@contextmanager
def _search_backend(ctx: StageContext, backend: Any | None = None) -> Iterator[Any]:
    """The given backend, or the configured one opened here and closed after."""
    import indexing

    if backend is not None:
        yield backend
        return
    own = indexing.open_backend(ctx.settings)
    try:
        yield own
    finally:
        own.close()


@lru_cache(maxsize=1)
def extraction_signature() -> str:
    """A hash of the extraction code and its data files.

    Stored with each document: when neither the pages nor the extraction
    changed, a re-run keeps the document as it is; after an upgrade of the
    extractor, a re-run re-extracts.
    """
    import extraction
    from kholuu.abbreviations import DATA_FILE as ABBREVIATIONS

    root = Path(extraction.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".txt", ".json")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(ABBREVIATIONS.read_bytes())   # shared with search, read by the extractor too
    return digest.hexdigest()[:32]


def _unchanged(previous: Any, text: str, doc_pages: list[Any], plan: DocumentPlan, catalog: Catalog) -> bool:
    if previous.text != text or previous.extraction_sig != extraction_signature():
        return False
    if (previous.boundary_confidence or 0) != plan.confidence:
        return False
    current = [p.id for p in catalog.document_pages(previous.id)]
    return current == [p.id for p in doc_pages]


SECURITY_MARKS = ("TUYỆT MẬT", "TỐI MẬT", "MẬT")
URGENCY_MARKS = ("HỎA TỐC", "THƯỢNG KHẨN", "KHẨN")


def apply_stamp_marks(metadata: DocumentMetadata, marks: list[str]) -> DocumentMetadata:
    """Fill secrecy and urgency from red stamps OCR found on the pages.

    Those marks are usually stamped in red, which the text OCR suppresses; the
    OCR stage reads them separately. A mark printed in the text wins.
    """
    found = {m.strip().upper() for m in marks}
    if metadata.security_mark is None:
        metadata.security_mark = next((m for m in SECURITY_MARKS if m in found), None)
        if metadata.security_mark:
            metadata.confidence["security_mark"] = 0.8
    if metadata.urgency_mark is None:
        metadata.urgency_mark = next((m for m in URGENCY_MARKS if m in found), None)
        if metadata.urgency_mark:
            metadata.confidence["urgency_mark"] = 0.8
    return metadata


def access_for(metadata: DocumentMetadata) -> str | None:
    """A document stamped secret is never public by default (None: keep the current mode)."""
    return "secret" if metadata.security_mark else None


REFUSED_REASON = ("TUYỆT MẬT: tài liệu tuyệt mật không được số hóa (top-secret material is refused "
                  "at ingest; its text and metadata are not kept)")


def refused(metadata: DocumentMetadata) -> bool:
    """TUYỆT MẬT material is never digitized (DESIGN.md, Access)."""
    return (metadata.security_mark or "").strip().upper() == "TUYỆT MẬT"


def declassify_if_due(catalog: Any, document_id: int) -> None:
    """A re-run stamps the document secret again; if its declassification date
    has passed, it stays public (kholuu.catalog.users holds the dates)."""
    from datetime import date

    from kholuu.access import declassify_due
    from kholuu.catalog.users import AccessStore

    store = AccessStore(catalog)
    due = declassify_due(store.declassifications([document_id]), date.today())
    if due:
        store.make_public(due)


def _indexes(plan: DocumentPlan, n_pages: int) -> list[int]:
    """``split_documents`` numbers pages by their position in the given list (0-based)."""
    return [i for i in plan.page_seqs if 0 <= i < n_pages]


def write_pdfs(batch_id: int, ctx: StageContext) -> int:
    """A searchable two-layer PDF (image + invisible text) per document."""
    from ocr import write_searchable_pdf
    from kholuu.model import PageOCR, Word

    options = ocr_options(ctx.settings)
    batch = ctx.catalog.get_batch(batch_id)
    written = 0
    for doc in ctx.catalog.documents(batch_id):
        pages = ctx.catalog.document_pages(doc.id)
        items = []
        for p in pages:
            ocr_result = PageOCR(source=p.source_path, page=p.source_page, text=p.text, confidence=p.confidence,
                                 words=[Word.from_dict(w) for w in (p.words or [])], width=p.width,
                                 height=p.height, blank=p.status == "blank")
            items.append((Path(p.image_path), ocr_result))
        if not items:
            continue
        out = ctx.settings.pdf_dir / batch.key / f"{batch.key}-{doc.seq:03d}.pdf"
        if doc.pdf_path == str(out) and _newer_than_pages(out, pages):
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        write_searchable_pdf(items, out, options)
        ctx.catalog.set_document_pdf(doc.id, str(out))
        written += 1
    ctx.progress(f"[{batch.key}] {written} tệp PDF tìm kiếm được")
    return written


def _newer_than_pages(pdf: Path, pages: list[Any]) -> bool:
    """The PDF was written after its pages last changed (their OCR, their document)."""
    try:
        written = pdf.stat().st_mtime
    except OSError:
        return False
    changed = max(p.updated_at.replace(tzinfo=timezone.utc).timestamp() for p in pages)
    return written > changed


def index_batch(batch_id: int, ctx: StageContext, backend: Any | None = None) -> IndexSummary:
    """Put the batch's documents into the search index (replacing older versions)."""
    import indexing

    with _search_backend(ctx, backend) as b:
        ids = [d.id for d in ctx.catalog.documents(batch_id)]
        summary = IndexSummary(backend=getattr(b, "name", type(b).__name__))
        summary.indexed = indexing.index_documents(ctx.catalog, b, ids)
        ctx.progress(f"[{ctx.catalog.get_batch(batch_id).key}] đã lập chỉ mục {summary.indexed} văn bản")
        return summary


@dataclass
class IndexCoverage:
    catalog: int = 0                                      # the batch's documents in the catalog
    indexed: int = 0                                      # ... of which the index holds
    missing: list[int] = field(default_factory=list)      # catalog ids the index lacks


def index_coverage(batch_id: int, ctx: StageContext, backend: Any | None = None) -> IndexCoverage:
    """Which of the batch's catalog documents the search index holds, asked of the index.

    The count the indexing call returns cannot show a document lost after it
    (a manual delete, an index restored from an older snapshot, a rebuild from
    another catalog); only the backend itself can.
    """
    ids = [d.id for d in ctx.catalog.documents(batch_id)]
    with _search_backend(ctx, backend) as b:
        present = b.present(ids)
    missing = [i for i in ids if i not in present]
    return IndexCoverage(catalog=len(ids), indexed=len(ids) - len(missing), missing=missing)


def finish_batch(batch_id: int, ctx: StageContext) -> str:
    """Set the batch state from its pages: done, partial (some failed) or failed."""
    pages = ctx.catalog.batch_pages(batch_id)
    failed = sum(1 for p in pages if p.status == "error")
    ok = sum(1 for p in pages if p.status in ("ocr", "blank"))
    if ok == 0:
        state, message = "failed", f"{failed} trang lỗi, không có trang nào đọc được"
    elif failed:
        state, message = "partial", f"{ok} trang xong, {failed} trang lỗi (xem thư mục cách ly)"
    else:
        state, message = "done", f"{ok} trang xong"
    ctx.catalog.set_batch_state(batch_id, state, message)
    return state
