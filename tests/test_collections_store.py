"""The collection tables on both catalog backends (SQLite and PostgreSQL):
ownership, order, notes, and reads under an access condition that hide
documents without moving them."""

from __future__ import annotations

from datetime import date

from kholuu.catalog import Catalog, DocumentRow
from kholuu.catalog.collections import CollectionStore
from kholuu.catalog.users import AccessStore
from kholuu.model import DocumentMetadata


def _docs(catalog: Catalog) -> list[int]:
    catalog.ensure_fonds_loaded()
    batch = catalog.create_batch("F01", "/t/F01").id
    ids = []
    for seq, (number, day) in enumerate((("1-CT/TU", date(2020, 5, 1)), ("2-NQ/TU", None),
                                         ("3-KL/TU", date(1999, 1, 2))), 1):
        page = catalog.upsert_page(batch, seq, f"p{seq}.png", 1, text="x", status="ocr")
        ids.append(catalog.upsert_document(batch, seq, [page], "x", DocumentMetadata(
            doc_type="Chỉ thị", number_symbol=number, issued_date=day), []))
    return ids


def test_collections_keep_owner_order_notes_and_hide_without_moving(catalog: Catalog) -> None:
    a, b, c = _docs(catalog)
    users = AccessStore(catalog)
    owner, other = users.add_user("btv", "editor", None), users.add_user("btv2", "editor", None)
    store = CollectionStore(catalog)
    cid = store.create(owner, "  Tập   thử  ")
    assert store.get(owner, cid).title == "Tập thử" and store.get(other, cid) is None
    for d in (a, b, c, a):
        assert store.add(owner, cid, d)
    assert not store.add(other, cid, a) and not store.rename(other, cid, "x") and not store.delete(other, cid)
    assert not store.add(owner, cid, 999999)              # no such document

    def order(shown=DocumentRow.id > 0) -> list[int]:
        return [d.id for _, d in store.visible_items(owner, cid, shown)]

    assert order() == [a, b, c]
    assert store.swap(owner, cid, a, b) and order() == [b, a, c]
    assert store.order_by_date(owner, cid) and order() == [c, a, b]           # undated last
    assert store.set_note(owner, cid, a, " Ghi chú\r\ndòng hai ") and store.visible_items(owner, cid, DocumentRow.id == a)[0][0] == "Ghi chú\ndòng hai"
    # a hidden document keeps its place while the visible ones are reordered around it
    hide_a = DocumentRow.id != a
    assert order(hide_a) == [c, b]
    assert store.reorder(owner, cid, [b, c]) and order(hide_a) == [b, c] and order() == [b, a, c]
    assert store.visible_counts(owner, hide_a) == {cid: 2} and store.visible_counts(other, hide_a) == {}
    assert store.containing(owner, a) == [cid] and store.containing(other, a) == []
    assert store.visible_items(other, cid, DocumentRow.id > 0) == []
    assert store.remove(owner, cid, b) and order() == [a, c]
    assert [i.id for i in store.owned(owner)] == [cid] and store.owned(other) == []
    assert store.delete(owner, cid) and store.get(owner, cid) is None
