"""The catalog on SQLite and on a real PostgreSQL: fonds files, batches, pages,
documents and entities, with every write idempotent on its natural key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kholuu.catalog import DEFAULT_FONDS_FILE, Catalog, EntityRow, read_fonds_file
from kholuu.errors import CatalogError, InputFileError
from kholuu.model import DocumentMetadata, Entity, Fonds, PageOCR, Word

FONDS = [
    Fonds(code="F01", name="Phông Tỉnh ủy", creator="Ban Chấp hành Đảng bộ tỉnh", start_year=1945, end_year=2025),
    Fonds(code="F02", name="Phông Văn phòng Tỉnh ủy", creator="Văn phòng Tỉnh ủy"),
]


def _write(tmp_path: Path, text: str, name: str = "fonds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _ocr(text: str, *, blank: bool = False) -> PageOCR:
    words = [Word(text=w, conf=91.5, bbox=(10 * i, 20, 10 * i + 8, 30), line=1)
             for i, w in enumerate(text.split())]
    return PageOCR(source="a.png", page=1, text=text, confidence=0.0 if blank else 91.5, words=words,
                   width=2480, height=3508, blank=blank, engine="tesseract 5.3.0 vie",
                   settings_hash="abc123", marks=["MẬT"] if "MẬT" in text else [])


def _meta(subject: str = "Về xây dựng nông thôn mới") -> DocumentMetadata:
    return DocumentMetadata(doc_type="Chỉ thị", number_symbol="08-CT/TU", issuer="Tỉnh ủy Thái Bình",
                            place="Thái Bình", issued_date=date(2011, 3, 15), subject=subject,
                            signer_name="Nguyễn Văn A", signer_title="Bí thư",
                            recipients=["Các huyện ủy", "Lưu VP"], confidence={"subject": 0.9})


@pytest.fixture
def batch_id(catalog: Catalog) -> int:
    catalog.load_fonds(FONDS)
    return catalog.create_batch("F01", "/scans/lo-1").id


def _pages(catalog: Catalog, batch_id: int, n: int) -> list[int]:
    return [catalog.upsert_page(batch_id, i, f"p{i:03d}.png", 1) for i in range(1, n + 1)]


# -- fonds file ------------------------------------------------------------------

def test_shipped_fonds_file_has_41_unique_fonds() -> None:
    fonds = read_fonds_file(DEFAULT_FONDS_FILE)
    assert len(fonds) == 41
    assert len({f.code for f in fonds}) == 41
    assert all(f.name and f.creator for f in fonds)
    assert "EXAMPLE" in DEFAULT_FONDS_FILE.read_text(encoding="utf-8")


def test_fonds_file_accepts_a_bare_list(tmp_path: Path) -> None:
    path = _write(tmp_path, "- {code: F09, name: 'Phông Huyện ủy Kiến Xương', start_year: 1950}\n")
    [f] = read_fonds_file(path)
    assert (f.code, f.name, f.start_year, f.end_year) == ("F09", "Phông Huyện ủy Kiến Xương", 1950, None)


@pytest.mark.parametrize("content, reason", [
    (None, "no such file"),
    ("fonds: [code: F01\n", "not a valid YAML"),
    ("fonds:\n  - {code: F01, name: A}\n  - {code: F01, name: B}\n", "appears twice"),
    ("fonds:\n  - {code: 'F 01', name: A}\n", "fonds code 'F 01'"),
    ("fonds:\n  - {code: F01}\n", "needs a code and a name"),
    ("fonds:\n  - {code: F01, name: ''}\n", "needs a code and a name"),
    ("fonds:\n  - {code: F01, name: A, start_year: 'năm 1945'}\n", "start_year"),
    ("fonds:\n  - {code: F01, name: A, start_year: 2000, end_year: 1990}\n", "end_year"),
    ("just some words\n", "expected a list of fonds"),
    ("", "expected a list of fonds"),
])
def test_bad_fonds_files_name_the_file_and_reason(tmp_path: Path, content: str | None, reason: str) -> None:
    path = tmp_path / "phong.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_fonds_file(path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)


def test_fonds_file_that_is_a_folder_or_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "fonds.d"
    folder.mkdir()
    with pytest.raises(InputFileError, match="fonds.d"):
        read_fonds_file(folder)
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes(b"fonds:\n  - {code: F01, name: 'Ph\xf4ng T\xecnh'}\n")
    with pytest.raises(InputFileError, match="latin1.yaml"):
        read_fonds_file(latin)


def test_load_fonds_twice_is_idempotent(catalog: Catalog) -> None:
    fonds = read_fonds_file(DEFAULT_FONDS_FILE)
    assert catalog.load_fonds(fonds) == 41
    assert catalog.load_fonds(fonds) == 41
    rows = catalog.list_fonds()
    assert len(rows) == 41
    assert [r.code for r in rows] == sorted(f.code for f in fonds)


def test_load_fonds_updates_by_code_and_keeps_the_id(catalog: Catalog) -> None:
    catalog.load_fonds(FONDS)
    first = catalog.get_fonds("F02").id
    catalog.load_fonds([Fonds(code="F02", name="Phông Văn phòng (đổi tên)", start_year=1946)])
    row = catalog.get_fonds("F02")
    assert (row.id, row.name, row.start_year) == (first, "Phông Văn phòng (đổi tên)", 1946)
    assert len(catalog.list_fonds()) == 2


def test_ensure_fonds_loaded_only_when_empty(catalog: Catalog) -> None:
    catalog.ensure_fonds_loaded()
    assert len(catalog.list_fonds()) == 41
    catalog.load_fonds([Fonds(code="X1", name="Thêm")])
    catalog.ensure_fonds_loaded()
    assert len(catalog.list_fonds()) == 42


def test_unknown_fonds_is_a_catalog_error(catalog: Catalog) -> None:
    with pytest.raises(CatalogError, match="'NOPE'"):
        catalog.get_fonds("NOPE")


# -- batches ---------------------------------------------------------------------

def test_batch_keys_count_up_per_fonds_and_year(catalog: Catalog) -> None:
    catalog.load_fonds(FONDS)
    year = date.today().year
    a = catalog.create_batch("F01", "/scans/a")
    b = catalog.create_batch("F01", "/scans/b")
    c = catalog.create_batch("F02", "/scans/a")
    assert (a.key, b.key, c.key) == (f"F01-{year}-0001", f"F01-{year}-0002", f"F02-{year}-0001")
    assert a.state == "registered"


def test_same_folder_twice_gives_the_same_batch(catalog: Catalog) -> None:
    catalog.load_fonds(FONDS)
    a = catalog.create_batch("F01", "/scans/a", manifest={"files": 3})
    again = catalog.create_batch("F01", "/scans/a")
    assert (again.id, again.key) == (a.id, a.key)
    assert len(catalog.list_batches()) == 1


def test_batch_for_unknown_fonds_fails(catalog: Catalog) -> None:
    catalog.load_fonds(FONDS)
    with pytest.raises(CatalogError, match="unknown fonds 'NOPE'"):
        catalog.create_batch("NOPE", "/scans/a")
    assert catalog.list_batches() == []


def test_batch_keys_do_not_mix_fonds_with_like_wildcards(catalog: Catalog) -> None:
    catalog.load_fonds([Fonds(code="F_1", name="a"), Fonds(code="FX1", name="b")])
    year = date.today().year
    catalog.create_batch("FX1", "/x", key=f"FX1-{year}-0007")
    assert catalog.create_batch("F_1", "/y").key == f"F_1-{year}-0001"


def test_get_batch_by_id_or_key_and_state(catalog: Catalog, batch_id: int) -> None:
    by_id = catalog.get_batch(batch_id)
    assert catalog.get_batch(by_id.key).id == batch_id
    assert catalog.get_batch(str(batch_id)).fonds.code == "F01"
    catalog.set_batch_state(batch_id, "partial", "1 trang lỗi")
    assert (catalog.get_batch(batch_id).state, catalog.get_batch(batch_id).message) == ("partial", "1 trang lỗi")
    with pytest.raises(CatalogError, match="unknown batch"):
        catalog.get_batch("F01-1999-0001")
    with pytest.raises(CatalogError):
        catalog.set_batch_state(99999, "done")


# -- pages -----------------------------------------------------------------------

def test_upsert_page_is_idempotent_by_batch_source_page(catalog: Catalog, batch_id: int) -> None:
    p1 = catalog.upsert_page(batch_id, 1, "scan.tif", 1, sha256="a" * 64, width=100, height=200)
    p2 = catalog.upsert_page(batch_id, 2, "scan.tif", 2)
    again = catalog.upsert_page(batch_id, 5, "scan.tif", 1, sha256="b" * 64)
    assert again == p1 != p2
    pages = catalog.batch_pages(batch_id)
    assert [(p.id, p.seq) for p in pages] == [(p2, 2), (p1, 5)]
    row = catalog.get_page(p1)
    assert (row.sha256, row.width, row.status) == ("b" * 64, 100, "new")


def test_record_ocr_and_page_error(catalog: Catalog, batch_id: int) -> None:
    ok, blank, bad = _pages(catalog, batch_id, 3)
    catalog.record_page_error(ok, "p001.png: cannot identify image")
    catalog.record_ocr(ok, _ocr("TỈNH ỦY THÁI BÌNH MẬT Chỉ thị về nông thôn mới"))
    catalog.record_ocr(blank, _ocr("", blank=True))
    catalog.record_page_error(bad, "p003.png: Tesseract timed out after 180 s")
    page = catalog.get_page(ok)
    assert (page.status, page.error, page.confidence, page.marks) == ("ocr", None, 91.5, ["MẬT"])
    assert page.words[0] == {"text": "TỈNH", "conf": 91.5, "bbox": [0, 20, 8, 30], "line": 1}
    assert Word.from_dict(page.words[1]).text == "ỦY"
    assert (page.width, page.ocr_engine, page.ocr_settings_hash) == (2480, "tesseract 5.3.0 vie", "abc123")
    assert catalog.get_page(blank).status == "blank"
    assert (catalog.get_page(bad).status, catalog.get_page(bad).error) == (
        "error", "p003.png: Tesseract timed out after 180 s")
    [summary] = catalog.list_batches()
    assert (summary.pages, summary.pages_done, summary.pages_failed) == (3, 2, 1)
    with pytest.raises(CatalogError):
        catalog.record_ocr(99999, _ocr("x"))
    with pytest.raises(CatalogError):
        catalog.record_page_error(99999, "x")


# -- documents and entities --------------------------------------------------------

def test_upsert_document_by_batch_seq_keeps_the_id(catalog: Catalog, batch_id: int) -> None:
    pages = _pages(catalog, batch_id, 3)
    ents = [Entity("Thái Bình", "LOC", 10, 19), Entity("Nguyễn Văn A", "PER", 30, 42, canonical="Nguyễn Văn A")]
    doc = catalog.upsert_document(batch_id, 1, pages[:2], "Chỉ thị về nông thôn mới", _meta(), ents)
    again = catalog.upsert_document(batch_id, 1, pages[1:], "Chỉ thị (sửa)", _meta("Về giao thông"), ents[:1])
    assert again == doc
    row = catalog.get_document(doc)
    assert (row.text, row.subject, row.page_count, row.fonds.code) == ("Chỉ thị (sửa)", "Về giao thông", 2, "F01")
    assert (row.issued_date, row.number_symbol, row.recipients) == (date(2011, 3, 15), "08-CT/TU",
                                                                    ["Các huyện ủy", "Lưu VP"])
    assert [p.id for p in catalog.document_pages(doc)] == pages[1:]
    assert catalog.get_page(pages[0]).document_id is None
    assert catalog.count_documents() == 1


def test_entities_are_replaced_not_duplicated(catalog: Catalog, batch_id: int) -> None:
    pages = _pages(catalog, batch_id, 1)
    ents = [Entity("Thái Bình", "LOC", 10, 19), Entity("Ban Dân vận", "ORG", 0, 11)]
    for _ in range(3):
        doc = catalog.upsert_document(batch_id, 1, pages, "t", _meta(), ents)
    row = catalog.get_document(doc)
    assert [(e.text, e.label, e.canonical) for e in row.entities] == [
        ("Ban Dân vận", "ORG", "Ban Dân vận"), ("Thái Bình", "LOC", "Thái Bình")]
    with catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(EntityRow)) == 2


def test_rerun_with_fewer_documents_removes_the_extras(catalog: Catalog, batch_id: int) -> None:
    pages = _pages(catalog, batch_id, 3)
    ids = [catalog.upsert_document(batch_id, i, [pages[i - 1]], f"văn bản {i}", _meta(),
                                   [Entity("Thái Bình", "LOC", 0, 9)]) for i in (1, 2, 3)]
    # a re-run finds the first two pages are one document
    assert catalog.upsert_document(batch_id, 1, pages[:2], "văn bản 1+2", _meta(), []) == ids[0]
    assert catalog.remove_documents_after(batch_id, 1) == ids[1:]
    assert [d.id for d in catalog.documents(batch_id)] == [ids[0]]
    assert catalog.get_document(ids[2]) is None
    assert catalog.get_page(pages[2]).document_id is None
    with catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(EntityRow)) == 0
    [summary] = catalog.list_batches()
    assert summary.documents == 1


def test_document_errors(catalog: Catalog, batch_id: int) -> None:
    with pytest.raises(CatalogError, match="unknown batch"):
        catalog.upsert_document(99999, 1, [], "t", _meta(), [])
    with pytest.raises(CatalogError, match="unknown page id 99999"):
        catalog.upsert_document(batch_id, 1, [99999], "t", _meta(), [])
    assert catalog.count_documents() == 0  # the failed write was rolled back


def test_long_ocr_values_store_on_both_backends(catalog: Catalog, batch_id: int) -> None:
    """OCR noise can make header fields long; PostgreSQL must not reject them where SQLite doesn't."""
    pages = _pages(catalog, batch_id, 1)
    long = "TỈNH ỦY " * 100
    meta = DocumentMetadata(doc_type=long, number_symbol=long, issuer=long, place=long,
                            signer_name=long, signer_title=long, security_mark=long, urgency_mark=long)
    doc = catalog.upsert_document(batch_id, 1, pages, long, meta, [Entity(long, "ORG", 0, len(long))])
    row = catalog.get_document(doc)
    assert row.text == long
    assert row.issuer and row.issuer.startswith("TỈNH ỦY")
    assert row.entities[0].label == "ORG"


def test_files_and_pdf_path(catalog: Catalog, batch_id: int) -> None:
    fonds_id = catalog.get_fonds("F01").id
    f = catalog.ensure_file(fonds_id, "01", "125")
    assert catalog.ensure_file(fonds_id, "01", "125", title="Hồ sơ Đại hội") == f
    pages = _pages(catalog, batch_id, 1)
    doc = catalog.upsert_document(batch_id, 1, pages, "t", _meta(), [], file_id=f)
    row = catalog.get_document(doc)
    assert (row.archive_file.number, row.archive_file.title) == ("125", "Hồ sơ Đại hội")


def test_list_batches_counts(catalog: Catalog) -> None:
    catalog.load_fonds(FONDS)
    a = catalog.create_batch("F01", "/scans/a").id
    b = catalog.create_batch("F02", "/scans/b").id
    pa = _pages(catalog, a, 4)
    catalog.record_ocr(pa[0], _ocr("một"))
    catalog.record_ocr(pa[1], _ocr("hai"))
    catalog.record_page_error(pa[2], "hỏng")
    catalog.upsert_document(a, 1, pa[:2], "một hai", _meta(), [])
    catalog.upsert_document(a, 2, pa[2:], "ba", _meta(), [])
    summaries = {s.id: s for s in catalog.list_batches()}
    sa, sb = summaries[a], summaries[b]
    assert (sa.fonds, sa.pages, sa.pages_done, sa.pages_failed, sa.documents) == ("F01", 4, 2, 1, 2)
    assert (sb.fonds, sb.pages, sb.documents, sb.state) == ("F02", 0, 0, "registered")


def test_an_older_catalog_gains_the_new_columns(catalog_url: str) -> None:
    """A catalog made before a nullable column existed is upgraded in place."""
    from sqlalchemy import create_engine, inspect, text

    Catalog(catalog_url).dispose()
    engine = create_engine(catalog_url)
    with engine.begin() as conn:
        conn.execute(text('ALTER TABLE page DROP COLUMN source_sig'))
    assert "source_sig" not in {c["name"] for c in inspect(engine).get_columns("page")}
    engine.dispose()
    upgraded = Catalog(catalog_url)
    assert "source_sig" in {c["name"] for c in inspect(upgraded.engine).get_columns("page")}
    upgraded.dispose()
