"""Catalog tables (SQLAlchemy 2). The catalog is the source of truth.

Works on SQLite (default, one machine) and PostgreSQL. Text columns hold NFC
normalized text; JSON columns hold OCR words and metadata confidences. Natural
keys carry unique constraints so that re-running anything upserts instead of
duplicating: a page is (batch, source, page), a document is (batch, seq).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class FondsRow(Base):
    __tablename__ = "fonds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    creator: Mapped[str] = mapped_column(String(500), default="")
    start_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    default_access: Mapped[str] = mapped_column(String(16), default="public")


class BatchRow(Base):
    __tablename__ = "batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # F07-2026-0012
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"))
    source_path: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="registered")
    # registered → running → done | partial (some pages failed) | failed
    manifest: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    fonds: Mapped[FondsRow] = relationship()


class ArchiveFileRow(Base):
    """A file (hồ sơ), the storage unit: fonds + register (mục lục) + number."""

    __tablename__ = "archive_file"
    __table_args__ = (UniqueConstraint("fonds_id", "register", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"))
    register: Mapped[str] = mapped_column(String(32), default="01")
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text, default="")


class PageRow(Base):
    __tablename__ = "page"
    __table_args__ = (
        UniqueConstraint("batch_id", "source_path", "source_page"),
        Index("ix_page_batch_seq", "batch_id", "seq"),
        Index("ix_page_document", "document_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    seq: Mapped[int] = mapped_column(Integer)            # order within the batch, 1-based
    source_path: Mapped[str] = mapped_column(Text)       # relative to the batch folder
    source_page: Mapped[int] = mapped_column(Integer, default=1)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # size and mtime of the source file when it was rasterized: unchanged → reuse
    source_sig: Mapped[str | None] = mapped_column(String(64), nullable=True)
    image_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    dpi: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new, ocr, blank, error
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    words: Mapped[list | None] = mapped_column(JSON, nullable=True)
    ocr_engine: Mapped[str] = mapped_column(String(200), default="")
    ocr_settings_hash: Mapped[str] = mapped_column(String(64), default="")
    marks: Mapped[list | None] = mapped_column(JSON, nullable=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="SET NULL"), nullable=True)
    page_in_document: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class DocumentRow(Base):
    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("batch_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("archive_file.id"), nullable=True)
    seq: Mapped[int] = mapped_column(Integer)
    boundary_confidence: Mapped[float] = mapped_column(Float, default=1.0)
    doc_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    number_symbol: Mapped[str | None] = mapped_column(String(100), nullable=True)
    issuer: Mapped[str | None] = mapped_column(String(500), nullable=True)
    place: Mapped[str | None] = mapped_column(String(200), nullable=True)
    issued_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    signer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signer_title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    security_mark: Mapped[str | None] = mapped_column(String(32), nullable=True)
    urgency_mark: Mapped[str | None] = mapped_column(String(32), nullable=True)
    recipients: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # joint documents: every issuer and every signature block ({"name", "title"}), the
    # first being the primary one held by issuer / signer_name / signer_title
    issuers: Mapped[list | None] = mapped_column(JSON, nullable=True)
    signers: Mapped[list | None] = mapped_column(JSON, nullable=True)
    field_confidence: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    access_mode: Mapped[str] = mapped_column(String(16), default="public")
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    # stored once so index rebuilds need not re-segment a million pages
    segmented: Mapped[str | None] = mapped_column(Text, nullable=True)
    # hash of the extraction code and data that produced the fields: a re-run
    # with unchanged pages and unchanged extraction skips the work
    extraction_sig: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pdf_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    batch: Mapped[BatchRow] = relationship()
    fonds: Mapped[FondsRow] = relationship()
    archive_file: Mapped[ArchiveFileRow | None] = relationship()
    entities: Mapped[list["EntityRow"]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="EntityRow.start"
    )


class EntityRow(Base):
    __tablename__ = "entity"
    __table_args__ = (Index("ix_entity_document", "document_id"), Index("ix_entity_canonical", "label", "canonical"))
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    label: Mapped[str] = mapped_column(String(16))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    canonical: Mapped[str] = mapped_column(String(500), default="")

    document: Mapped[DocumentRow] = relationship(back_populates="entities")
