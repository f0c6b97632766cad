"""The catalog: the source of truth for fonds, batches, pages, documents.

``Catalog`` wraps an SQLAlchemy engine and offers the few operations the stages
need, each idempotent (upserts on natural keys). The search index is derived
from it and can always be rebuilt from it.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload, sessionmaker

from kholuu.catalog.schema import (
    ArchiveFileRow,
    Base,
    BatchRow,
    DocumentRow,
    EntityRow,
    FondsRow,
    PageRow,
)
from kholuu.catalog import users as _access_tables  # noqa: F401 - registers the access tables (issue 8)
from kholuu.catalog import collections as _collection_tables  # noqa: F401 - editors' collections (issue 7)
from kholuu.errors import CatalogError, InputFileError
from kholuu.model import DocumentMetadata, Entity, Fonds, PageOCR

__all__ = [
    "Catalog", "FondsRow", "BatchRow", "PageRow", "DocumentRow", "EntityRow", "ArchiveFileRow",
    "read_fonds_file", "DEFAULT_FONDS_FILE",
]

DEFAULT_FONDS_FILE = Path(__file__).resolve().parent.parent / "data" / "fonds.yaml"
_FONDS_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def read_fonds_file(path: Path | str) -> list[Fonds]:
    """Read a fonds list (YAML: a list of {code, name, creator, start_year, end_year})."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a folder, expected a YAML file") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror or exc.__class__.__name__})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"not a valid YAML fonds list ({exc.__class__.__name__})") from None
    items = raw.get("fonds") if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise InputFileError(path, "expected a list of fonds under the key 'fonds'")
    result: list[Fonds] = []
    seen: set[str] = set()
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or "code" not in item or not str(item.get("name") or "").strip():
            raise InputFileError(path, f"entry {i}: each fonds needs a code and a name")
        code = str(item["code"]).strip()
        if not _FONDS_CODE_RE.match(code):
            raise InputFileError(path, f"entry {i}: fonds code {code!r} must be letters, digits, '.', '_' or '-'")
        if code in seen:
            raise InputFileError(path, f"entry {i}: fonds code {code!r} appears twice")
        seen.add(code)
        name, creator = str(item["name"]).strip(), str(item.get("creator") or "").strip()
        for key, value in (("name", name), ("creator", creator)):
            if len(value) > 500:
                raise InputFileError(path, f"entry {i} ({code}): {key} is longer than 500 characters")
        start_year = _fonds_year(path, i, code, item, "start_year")
        end_year = _fonds_year(path, i, code, item, "end_year")
        if start_year and end_year and end_year < start_year:
            raise InputFileError(path, f"entry {i} ({code}): end_year {end_year} is before start_year {start_year}")
        result.append(Fonds(
            code=code,
            name=name,
            creator=creator,
            start_year=start_year,
            end_year=end_year,
            description=str(item.get("description") or "").strip(),
        ))
    return result


def _fonds_year(path: Path, i: int, code: str, item: dict, key: str) -> int | None:
    """A year field of a fonds entry; a bad value names the file, entry and field."""
    value = item.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit() or not 1000 <= int(str(value)) <= 2200:
        raise InputFileError(path, f"entry {i} ({code}): {key} {value!r} is not a year (YYYY)")
    return int(str(value))


def _clip(value: str | None, column: Any) -> str | None:
    """Cut a string to its column's declared length.

    OCR noise can make a header field (issuer, signer, an entity) absurdly long;
    SQLite ignores VARCHAR lengths but PostgreSQL rejects the whole document, so
    clip here and keep both backends alike. The full text stays in ``text``.
    """
    length = getattr(column.type, "length", None)
    if value is None or length is None or len(value) <= length:
        return value
    return value[:length]


@dataclass
class BatchSummary:
    id: int
    key: str
    fonds: str
    state: str
    source_path: str
    pages: int
    pages_done: int
    pages_failed: int
    documents: int
    message: str


def _row(s: Session, table: type, row_id: int, what: str) -> Any:
    """The row with this id, or a CatalogError naming what was asked for."""
    row = s.get(table, row_id)
    if row is None:
        raise CatalogError(f"unknown {what} id {row_id}")
    return row


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def add_missing_columns(engine: Engine) -> list[str]:
    """Bring an older catalog up to date with columns added since it was made.

    Only additive changes are automatic: a nullable column (or one with a
    default) that the code knows and the database lacks is added. Returns the
    ``table.column`` names it added.
    """
    from sqlalchemy import inspect, text

    inspector = inspect(engine)
    added: list[str] = []
    existing_tables = set(inspector.get_table_names())
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name not in existing_tables:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                if not column.nullable and column.server_default is None:
                    raise CatalogError(
                        f"the catalog's table {table.name} lacks the required column {column.name}; "
                        "it was made by another version of kholuu")
                ddl = column.type.compile(dialect=engine.dialect)
                conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {ddl}'))
                added.append(f"{table.name}.{column.name}")
    return added


class Catalog:
    """Access to the catalog database. Create once per process and share."""

    def __init__(self, database_url: str, *, create: bool = True):
        self.url = database_url
        if database_url.startswith("sqlite:"):
            path = database_url.split("sqlite:///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(database_url, connect_args={"timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(database_url, pool_pre_ping=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if create:
            Base.metadata.create_all(self.engine)
            add_missing_columns(self.engine)

    @classmethod
    def from_settings(cls, settings: Any) -> "Catalog":
        return cls(settings.database_url)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # -- fonds --------------------------------------------------------------
    def load_fonds(self, fonds: Iterable[Fonds]) -> int:
        """Insert or update fonds by code. Returns how many were written."""
        n = 0
        with self.session() as s:
            existing = {f.code: f for f in s.scalars(select(FondsRow))}
            for f in fonds:
                row = existing.get(f.code) or FondsRow(code=f.code)
                row.name, row.creator, row.description = f.name, f.creator, f.description
                row.start_year, row.end_year = f.start_year, f.end_year
                s.add(row)
                n += 1
        return n

    def list_fonds(self) -> list[FondsRow]:
        with self.session() as s:
            return list(s.scalars(select(FondsRow).order_by(FondsRow.code)))

    def get_fonds(self, code: str) -> FondsRow:
        with self.session() as s:
            row = s.scalar(select(FondsRow).where(FondsRow.code == code))
            if row is None:
                raise CatalogError(f"unknown fonds {code!r} (see `kholuu fonds list`)")
            return row

    def ensure_fonds_loaded(self) -> None:
        """Load the shipped example fonds list when the catalog has none."""
        with self.session() as s:
            count = s.scalar(select(func.count()).select_from(FondsRow))
        if not count:
            self.load_fonds(read_fonds_file(DEFAULT_FONDS_FILE))

    # -- batches ------------------------------------------------------------
    def create_batch(self, fonds_code: str, source_path: str, manifest: dict | None = None,
                     key: str | None = None) -> BatchRow:
        """Register a batch. Registering the same folder twice returns the first batch."""
        fonds = self.get_fonds(fonds_code)
        with self.session() as s:
            existing = s.scalar(select(BatchRow).where(
                BatchRow.source_path == source_path, BatchRow.fonds_id == fonds.id))
            if existing is not None:
                return existing
            if key is None:
                year = date.today().year
                prefix = f"{fonds.code}-{year}-"
                last = s.scalars(select(BatchRow.key).where(
                    BatchRow.key.startswith(prefix, autoescape=True))).all()
                nums = [int(k[len(prefix):]) for k in last if k[len(prefix):].isdigit()]
                key = f"{prefix}{(max(nums) + 1) if nums else 1:04d}"
            row = BatchRow(key=key, fonds_id=fonds.id, source_path=source_path, manifest=manifest)
            s.add(row)
            s.flush()
            return row

    def get_batch(self, ref: str | int) -> BatchRow:
        """A batch by numeric id or key."""
        with self.session() as s:
            q = select(BatchRow).options(selectinload(BatchRow.fonds))
            if isinstance(ref, int) or str(ref).isdigit():
                row = s.scalar(q.where(BatchRow.id == int(ref)))
            else:
                row = s.scalar(q.where(BatchRow.key == str(ref)))
            if row is None:
                raise CatalogError(f"unknown batch {ref!r} (see `kholuu batch list`)")
            return row

    def set_batch_state(self, batch_id: int, state: str, message: str = "") -> None:
        with self.session() as s:
            row = _row(s, BatchRow, batch_id, "batch")
            row.state, row.message = state, message

    def list_batches(self) -> list[BatchSummary]:
        with self.session() as s:
            rows = s.scalars(select(BatchRow).options(selectinload(BatchRow.fonds)).order_by(BatchRow.id)).all()
            out = []
            for b in rows:
                counts = dict(s.execute(
                    select(PageRow.status, func.count()).where(PageRow.batch_id == b.id).group_by(PageRow.status)
                ).all())
                docs = s.scalar(select(func.count()).select_from(DocumentRow).where(DocumentRow.batch_id == b.id))
                out.append(BatchSummary(
                    id=b.id, key=b.key, fonds=b.fonds.code, state=b.state, source_path=b.source_path,
                    pages=sum(counts.values()), pages_done=counts.get("ocr", 0) + counts.get("blank", 0),
                    pages_failed=counts.get("error", 0), documents=docs or 0, message=b.message,
                ))
            return out

    # -- pages --------------------------------------------------------------
    def upsert_page(self, batch_id: int, seq: int, source_path: str, source_page: int,
                    **fields: Any) -> int:
        """Insert or update a page by (batch, source, page). Returns its id."""
        with self.session() as s:
            row = s.scalar(select(PageRow).where(
                PageRow.batch_id == batch_id, PageRow.source_path == source_path,
                PageRow.source_page == source_page))
            if row is None:
                row = PageRow(batch_id=batch_id, source_path=source_path, source_page=source_page, seq=seq)
                s.add(row)
            row.seq = seq
            for k, v in fields.items():
                setattr(row, k, v)
            s.flush()
            return row.id

    def record_ocr(self, page_id: int, ocr: PageOCR) -> None:
        with self.session() as s:
            row = _row(s, PageRow, page_id, "page")
            row.text = ocr.text
            row.confidence = ocr.confidence
            row.words = [w.to_dict() for w in ocr.words]
            row.status = "blank" if ocr.blank else "ocr"
            row.error = None
            row.ocr_engine = ocr.engine
            row.ocr_settings_hash = ocr.settings_hash
            row.marks = list(ocr.marks)
            if ocr.width:
                row.width, row.height = ocr.width, ocr.height

    def record_page_error(self, page_id: int, error: str) -> None:
        with self.session() as s:
            row = _row(s, PageRow, page_id, "page")
            row.status, row.error = "error", error

    def batch_pages(self, batch_id: int) -> list[PageRow]:
        with self.session() as s:
            return list(s.scalars(select(PageRow).where(PageRow.batch_id == batch_id).order_by(PageRow.seq)))

    def get_page(self, page_id: int) -> PageRow | None:
        with self.session() as s:
            return s.get(PageRow, page_id)

    def document_pages(self, document_id: int) -> list[PageRow]:
        with self.session() as s:
            return list(s.scalars(select(PageRow).where(PageRow.document_id == document_id)
                                  .order_by(PageRow.page_in_document)))

    # -- files (hồ sơ) --------------------------------------------------------
    def ensure_file(self, fonds_id: int, register: str, number: str, title: str = "") -> int:
        with self.session() as s:
            row = s.scalar(select(ArchiveFileRow).where(
                ArchiveFileRow.fonds_id == fonds_id, ArchiveFileRow.register == register,
                ArchiveFileRow.number == number))
            if row is None:
                row = ArchiveFileRow(fonds_id=fonds_id, register=register, number=number, title=title)
                s.add(row)
                s.flush()
            elif title and not row.title:
                row.title = title
            return row.id

    # -- documents ----------------------------------------------------------
    def upsert_document(self, batch_id: int, seq: int, page_ids: list[int], text: str,
                        metadata: DocumentMetadata, entities: list[Entity], *,
                        file_id: int | None = None, boundary_confidence: float = 1.0,
                        access_mode: str | None = None, segmented: str | None = None,
                        extraction_sig: str | None = None) -> int:
        """Write one document with its pages, metadata and entities, by (batch, seq).

        Re-running replaces the previous version of the same document (same id),
        so nothing is duplicated and links to it stay valid.
        """
        with self.session() as s:
            batch = _row(s, BatchRow, batch_id, "batch")
            row = s.scalar(select(DocumentRow).where(DocumentRow.batch_id == batch_id, DocumentRow.seq == seq))
            if row is None:
                fonds = s.get(FondsRow, batch.fonds_id)
                row = DocumentRow(batch_id=batch_id, seq=seq, fonds_id=batch.fonds_id,
                                  access_mode=(fonds.default_access if fonds else "public"))
                # a file (hồ sơ) can set its own default, stronger than its fonds'
                file_default = s.get(_access_tables.FileAccessRow, file_id) if file_id is not None else None
                if file_default is not None:
                    row.access_mode = file_default.default_access
                s.add(row)
            row.file_id = file_id
            row.boundary_confidence = boundary_confidence
            row.doc_type = _clip(metadata.doc_type, DocumentRow.doc_type)
            row.number_symbol = _clip(metadata.number_symbol, DocumentRow.number_symbol)
            row.issuer = _clip(metadata.issuer, DocumentRow.issuer)
            row.place = _clip(metadata.place, DocumentRow.place)
            row.issued_date = metadata.issued_date
            row.subject = metadata.subject
            row.signer_name = _clip(metadata.signer_name, DocumentRow.signer_name)
            row.signer_title = _clip(metadata.signer_title, DocumentRow.signer_title)
            row.security_mark = _clip(metadata.security_mark, DocumentRow.security_mark)
            row.urgency_mark = _clip(metadata.urgency_mark, DocumentRow.urgency_mark)
            row.recipients = list(metadata.recipients)
            row.issuers = list(metadata.issuers) or None
            row.signers = [{"name": g.name, "title": g.title} for g in metadata.signers] or None
            row.field_confidence = dict(metadata.confidence)
            if access_mode:
                row.access_mode = access_mode
            row.text = text
            row.segmented = segmented
            row.extraction_sig = extraction_sig
            row.page_count = len(page_ids)
            row.indexed_at = None
            row.entities = [EntityRow(text=_clip(e.text, EntityRow.text), label=_clip(e.label, EntityRow.label),
                                      start=e.start, end=e.end,
                                      canonical=_clip(e.canonical or e.text, EntityRow.canonical))
                            for e in entities]
            s.flush()
            # detach pages no longer in this document, attach the current ones in order
            for p in s.scalars(select(PageRow).where(PageRow.document_id == row.id)):
                if p.id not in page_ids:
                    p.document_id, p.page_in_document = None, None
            for i, pid in enumerate(page_ids, 1):
                p = _row(s, PageRow, pid, "page")
                p.document_id, p.page_in_document = row.id, i
            return row.id

    def remove_documents_after(self, batch_id: int, last_seq: int) -> list[int]:
        """Delete a batch's documents numbered above ``last_seq`` (a re-run found fewer)."""
        with self.session() as s:
            rows = s.scalars(select(DocumentRow).where(DocumentRow.batch_id == batch_id,
                                                       DocumentRow.seq > last_seq)).all()
            ids = [r.id for r in rows]
            for r in rows:
                for p in s.scalars(select(PageRow).where(PageRow.document_id == r.id)):
                    p.document_id, p.page_in_document = None, None
                s.delete(r)
            return ids

    def refuse_document(self, batch_id: int, seq: int, page_ids: list[int], reason: str) -> list[int]:
        """Keep nothing of a refused document (TUYỆT MẬT): its pages become errors
        with ``reason`` and lose their text and words; a version stored by an
        earlier run is deleted. Returns the deleted document ids (to unindex)."""
        with self.session() as s:
            removed = []
            row = s.scalar(select(DocumentRow).where(DocumentRow.batch_id == batch_id, DocumentRow.seq == seq))
            if row is not None:
                removed.append(row.id)
                for p in s.scalars(select(PageRow).where(PageRow.document_id == row.id)):
                    p.document_id, p.page_in_document = None, None
                s.delete(row)
            for pid in page_ids:
                p = s.get(PageRow, pid)
                if p is not None:
                    p.status, p.error, p.text, p.words, p.marks = "error", reason, "", None, None
                    p.document_id, p.page_in_document = None, None
            return removed

    def get_document(self, document_id: int) -> DocumentRow | None:
        with self.session() as s:
            return s.scalar(select(DocumentRow).options(
                selectinload(DocumentRow.entities), selectinload(DocumentRow.fonds),
                selectinload(DocumentRow.archive_file), selectinload(DocumentRow.batch),
            ).where(DocumentRow.id == document_id))

    def documents(self, batch_id: int | None = None) -> list[DocumentRow]:
        with self.session() as s:
            q = select(DocumentRow).options(
                selectinload(DocumentRow.entities), selectinload(DocumentRow.fonds),
                selectinload(DocumentRow.archive_file)).order_by(DocumentRow.id)
            if batch_id is not None:
                q = q.where(DocumentRow.batch_id == batch_id)
            return list(s.scalars(q))

    def find_document(self, batch_id: int, seq: int) -> DocumentRow | None:
        with self.session() as s:
            return s.scalar(select(DocumentRow).where(DocumentRow.batch_id == batch_id, DocumentRow.seq == seq))

    def set_document_pdf(self, document_id: int, pdf_path: str) -> None:
        with self.session() as s:
            row = _row(s, DocumentRow, document_id, "document")
            row.pdf_path = pdf_path

    def mark_indexed(self, document_ids: Iterable[int]) -> None:
        from kholuu.catalog.schema import utcnow
        ids = list(document_ids)
        with self.session() as s:
            for row in s.scalars(select(DocumentRow).where(DocumentRow.id.in_(ids))):
                row.indexed_at = utcnow()

    def fonds_statistics(self, code: str) -> dict[str, Any]:
        """Counts for one fonds: batches, pages by state, documents, indexing, confidence."""
        fonds = self.get_fonds(code)
        with self.session() as s:
            batch_ids = select(BatchRow.id).where(BatchRow.fonds_id == fonds.id)
            batches = dict(s.execute(select(BatchRow.state, func.count()).where(BatchRow.fonds_id == fonds.id)
                                     .group_by(BatchRow.state)).all())
            pages = dict(s.execute(select(PageRow.status, func.count()).where(PageRow.batch_id.in_(batch_ids))
                                   .group_by(PageRow.status)).all())
            mean_conf = s.scalar(select(func.avg(PageRow.confidence)).where(
                PageRow.batch_id.in_(batch_ids), PageRow.status == "ocr"))
            docs = s.scalar(select(func.count()).select_from(DocumentRow).where(DocumentRow.fonds_id == fonds.id))
            unindexed = s.scalar(select(func.count()).select_from(DocumentRow).where(
                DocumentRow.fonds_id == fonds.id, DocumentRow.indexed_at.is_(None)))
            by_access = dict(s.execute(select(DocumentRow.access_mode, func.count())
                                       .where(DocumentRow.fonds_id == fonds.id)
                                       .group_by(DocumentRow.access_mode)).all())
        return {"batches": sum(batches.values()), "batches_by_state": batches,
                "pages": sum(pages.values()), "pages_by_status": pages,
                "mean_confidence": round(float(mean_conf), 2) if mean_conf is not None else None,
                "documents": docs or 0, "documents_not_indexed": unindexed or 0,
                "documents_by_access": by_access}

    def count_documents(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(DocumentRow)) or 0
