"""Editors' collections (tập văn kiện) in the catalog: new tables only.

A collection belongs to the user who created it and holds documents in an
order with an editor's note each. This module only stores and reads; it knows
nothing of access: the web layer (``search_ui.collections``) reads items
through the caller's access filter, so a document that became secret after it
was added simply stops showing. Hidden items keep their place, so they come
back where they were if the document is opened again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column

from kholuu.catalog.schema import Base, DocumentRow, utcnow
from kholuu.errors import CatalogError

TITLE_MAX = 300
NOTE_MAX = 5000


class CollectionRow(Base):
    __tablename__ = "collection"
    __table_args__ = (Index("ix_collection_owner", "owner_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class CollectionItemRow(Base):
    __tablename__ = "collection_item"
    __table_args__ = (UniqueConstraint("collection_id", "document_id"),
                      Index("ix_collection_item_order", "collection_id", "position"))
    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass
class CollectionInfo:
    id: int
    owner_id: int
    title: str
    created_at: datetime
    updated_at: datetime


def _info(row: CollectionRow) -> CollectionInfo:
    return CollectionInfo(id=row.id, owner_id=row.owner_id, title=row.title, created_at=row.created_at,
                          updated_at=row.updated_at)


def clean_title(title: str) -> str:
    """A collection title on one line, not empty, not too long."""
    from kholuu.textnorm import normalize

    t = " ".join(normalize(title or "").split())[:TITLE_MAX]
    if not t:
        raise CatalogError("a collection needs a title")
    return t


class CollectionStore:
    """Writes and raw reads of collections. Every method checks the owner:
    another user's collection answers like a missing one (None / False)."""

    def __init__(self, catalog: Any):
        self.catalog = catalog

    def create(self, owner_id: int, title: str) -> int:
        with self.catalog.session() as s:
            row = CollectionRow(owner_id=owner_id, title=clean_title(title))
            s.add(row)
            s.flush()
            return row.id

    def owned(self, owner_id: int) -> list[CollectionInfo]:
        with self.catalog.session() as s:
            rows = s.scalars(select(CollectionRow).where(CollectionRow.owner_id == owner_id)
                             .order_by(CollectionRow.updated_at.desc(), CollectionRow.id.desc()))
            return [_info(r) for r in rows]

    def get(self, owner_id: int, collection_id: int) -> CollectionInfo | None:
        with self.catalog.session() as s:
            row = self._own(s, owner_id, collection_id)
            return _info(row) if row else None

    @staticmethod
    def _own(s: Any, owner_id: int, collection_id: int) -> CollectionRow | None:
        row = s.get(CollectionRow, collection_id)
        return row if row is not None and row.owner_id == owner_id else None

    def rename(self, owner_id: int, collection_id: int, title: str) -> bool:
        with self.catalog.session() as s:
            row = self._own(s, owner_id, collection_id)
            if row is None:
                return False
            row.title = clean_title(title)
            return True

    def delete(self, owner_id: int, collection_id: int) -> bool:
        with self.catalog.session() as s:
            row = self._own(s, owner_id, collection_id)
            if row is None:
                return False
            for item in s.scalars(select(CollectionItemRow).where(CollectionItemRow.collection_id == row.id)):
                s.delete(item)
            s.delete(row)
            return True

    def add(self, owner_id: int, collection_id: int, document_id: int, note: str = "") -> bool:
        """Append a document (kept where it is when already there). False: not your collection."""
        with self.catalog.session() as s:
            row = self._own(s, owner_id, collection_id)
            if row is None or s.get(DocumentRow, document_id) is None:
                return False
            exists = s.scalar(select(CollectionItemRow).where(CollectionItemRow.collection_id == row.id,
                                                              CollectionItemRow.document_id == document_id))
            if exists is None:
                last = s.scalar(select(func.max(CollectionItemRow.position))
                                .where(CollectionItemRow.collection_id == row.id)) or 0
                s.add(CollectionItemRow(collection_id=row.id, document_id=document_id, position=last + 1,
                                        note=note[:NOTE_MAX]))
                row.updated_at = utcnow()
            return True

    def remove(self, owner_id: int, collection_id: int, document_id: int) -> bool:
        with self.catalog.session() as s:
            item = self._item(s, owner_id, collection_id, document_id)
            if item is None:
                return False
            s.delete(item)
            return True

    def _item(self, s: Any, owner_id: int, collection_id: int, document_id: int) -> CollectionItemRow | None:
        if self._own(s, owner_id, collection_id) is None:
            return None
        return s.scalar(select(CollectionItemRow).where(CollectionItemRow.collection_id == collection_id,
                                                        CollectionItemRow.document_id == document_id))

    def set_note(self, owner_id: int, collection_id: int, document_id: int, note: str) -> bool:
        from kholuu.textnorm import normalize

        with self.catalog.session() as s:
            item = self._item(s, owner_id, collection_id, document_id)
            if item is None:
                return False
            item.note = normalize(note.replace("\r\n", "\n")).strip()[:NOTE_MAX]
            return True

    def swap(self, owner_id: int, collection_id: int, a: int, b: int) -> bool:
        """Exchange the places of two documents (move up/down among the visible ones)."""
        with self.catalog.session() as s:
            ia, ib = self._item(s, owner_id, collection_id, a), self._item(s, owner_id, collection_id, b)
            if ia is None or ib is None:
                return False
            ia.position, ib.position = ib.position, ia.position
            return True

    def reorder(self, owner_id: int, collection_id: int, document_ids: list[int]) -> bool:
        """Put ``document_ids`` in this order, in the places they held between them;
        items not named (hidden from the caller) keep their places."""
        with self.catalog.session() as s:
            if self._own(s, owner_id, collection_id) is None:
                return False
            items = {i.document_id: i for i in s.scalars(
                select(CollectionItemRow).where(CollectionItemRow.collection_id == collection_id))}
            named = [items[d] for d in dict.fromkeys(document_ids) if d in items]
            slots = sorted(i.position for i in named)
            for item, pos in zip(named, slots):
                item.position = pos
            return True

    def order_by_date(self, owner_id: int, collection_id: int) -> bool:
        """Chronological order by issue date (undated documents last, in their current order)."""
        with self.catalog.session() as s:
            if self._own(s, owner_id, collection_id) is None:
                return False
            rows = s.execute(select(CollectionItemRow, DocumentRow.issued_date)
                             .join(DocumentRow, CollectionItemRow.document_id == DocumentRow.id)
                             .where(CollectionItemRow.collection_id == collection_id)).all()
            rows.sort(key=lambda r: (r[1] is None, r[1] or date.min, r[0].position))
            for pos, (item, _) in enumerate(rows, 1):
                item.position = pos
            return True

    # -- reads under an access condition ------------------------------------------
    # ``shown`` is the SQL condition "the caller may see this document" on
    # DocumentRow, built by the web layer from the one access filter
    # (search_ui.access.visible): this module never decides who sees what.
    def visible_counts(self, owner_id: int, shown: Any) -> dict[int, int]:
        """Collection id → number of its documents that satisfy ``shown``."""
        with self.catalog.session() as s:
            return dict(s.execute(
                select(CollectionItemRow.collection_id, func.count())
                .join(DocumentRow, CollectionItemRow.document_id == DocumentRow.id)
                .join(CollectionRow, CollectionItemRow.collection_id == CollectionRow.id)
                .where(CollectionRow.owner_id == owner_id, shown)
                .group_by(CollectionItemRow.collection_id)).all())

    def visible_items(self, owner_id: int, collection_id: int, shown: Any) -> list[tuple[str, DocumentRow]]:
        """(note, document) of the collection's documents that satisfy ``shown``, in order."""
        from sqlalchemy.orm import selectinload

        with self.catalog.session() as s:
            if self._own(s, owner_id, collection_id) is None:
                return []
            rows = s.execute(
                select(CollectionItemRow.note, DocumentRow)
                .join(DocumentRow, CollectionItemRow.document_id == DocumentRow.id)
                .options(selectinload(DocumentRow.fonds), selectinload(DocumentRow.archive_file))
                .where(CollectionItemRow.collection_id == collection_id, shown)
                .order_by(CollectionItemRow.position, CollectionItemRow.id)).all()
            return [(note or "", doc) for note, doc in rows]

    def containing(self, owner_id: int, document_id: int) -> list[int]:
        """The caller's collections that hold ``document_id``."""
        with self.catalog.session() as s:
            return list(s.scalars(select(CollectionItemRow.collection_id)
                                  .join(CollectionRow, CollectionItemRow.collection_id == CollectionRow.id)
                                  .where(CollectionRow.owner_id == owner_id,
                                         CollectionItemRow.document_id == document_id)))


__all__ = ["CollectionRow", "CollectionItemRow", "CollectionInfo", "CollectionStore", "clean_title",
           "TITLE_MAX", "NOTE_MAX"]
