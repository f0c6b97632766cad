"""The documents and index stages on a real catalog and the embedded index (no OCR)."""

from __future__ import annotations

from pathlib import Path

import indexing
from indexing.base import SearchQuery
from kholuu import stages
from kholuu.catalog import Catalog
from kholuu.settings import Settings

PAGE_TEXTS = {
    "a.png": "ĐẢNG CỘNG SẢN VIỆT NAM\nTỈNH ỦY THÁI BÌNH\nSố 10-CT/TU\nThái Bình, ngày 2 tháng 3 năm 2015\n"
             "CHỈ THỊ\nvề phòng chống lụt bão\nNội dung về đê điều.",
    "b.png": "ĐẢNG CỘNG SẢN VIỆT NAM\nTỈNH ỦY THÁI BÌNH\nSố 11-TB/TU\nThái Bình, ngày 5 tháng 4 năm 2015\n"
             "THÔNG BÁO\nkết luận về giao thông nông thôn\nNội dung về đường làng.",
    "c.png": "tiếp theo: kênh mương nội đồng và trạm bơm Hữu Bị",
}


def _setup(settings: Settings, folder: Path, manifest: str) -> tuple[Catalog, int]:
    folder.mkdir(exist_ok=True)
    for name in PAGE_TEXTS:
        (folder / name).write_bytes(b"x")
    (folder / "manifest.csv").write_text(manifest, encoding="utf-8")
    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    batch = catalog.create_batch("F01", str(folder))
    for seq, (name, text) in enumerate(PAGE_TEXTS.items(), 1):
        catalog.upsert_page(batch.id, seq, name, 1, text=text, status="ocr", confidence=90.0, words=[])
    return catalog, batch.id


def _hits(settings: Settings, text: str) -> list[int]:
    backend = indexing.open_backend(settings)
    try:
        return [h.id for h in backend.search(SearchQuery(text=text, facets=False)).hits]
    finally:
        backend.close()


def test_fewer_documents_on_rerun_leave_catalog_and_index(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "hop"
    catalog, batch_id = _setup(settings, folder, "file,document\na.png,1\nb.png,2\nc.png,3\n")
    ctx = stages.StageContext(settings=settings, catalog=catalog)
    first = stages.build_documents(batch_id, ctx)
    assert first.documents == 3
    stages.index_batch(batch_id, ctx)
    third = first.document_ids[2]
    assert _hits(settings, "trạm bơm") == [third]

    # unchanged pages and extraction: nothing re-extracted, same ids
    again = stages.build_documents(batch_id, ctx)
    assert again.unchanged == 3 and again.document_ids == first.document_ids

    # the archivist corrects the manifest: page c continues document 2
    (folder / "manifest.csv").write_text("file,document\na.png,1\nb.png,2\nc.png,2\n", encoding="utf-8")
    fixed = stages.build_documents(batch_id, ctx)
    assert fixed.documents == 2 and fixed.removed_ids == [third]
    assert fixed.document_ids == first.document_ids[:2]
    assert _hits(settings, "trạm bơm") == []          # gone from the index at once …
    stages.index_batch(batch_id, ctx)
    assert _hits(settings, "trạm bơm") == [first.document_ids[1]]  # … and found in its new document
    assert [d.number_symbol for d in catalog.documents(batch_id)] == ["10-CT/TU", "11-TB/TU"]
    catalog.dispose()


def test_page_derivatives_are_made_for_every_readable_page_on_all_workers(settings: Settings, tmp_path: Path) -> None:
    """Every page that is not an error gets every reading size (threads, one per worker); a re-run makes nothing new."""
    from dataclasses import replace

    from PIL import Image

    from kholuu.derivatives import ALLOWED_WIDTHS, make_derivatives

    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    batch = catalog.create_batch("F01", str(tmp_path))
    for seq in range(1, 6):
        master = tmp_path / f"p{seq}.png"
        Image.new("L", (1800 + seq, 2400), 255 - seq).save(master)
        catalog.upsert_page(batch.id, seq, master.name, 1, image_path=str(master), status="new")
    catalog.upsert_page(batch.id, 6, "bad.png", 1, image_path=str(tmp_path / "missing.png"), status="error")
    ctx = stages.StageContext(settings=replace(settings, ocr_workers=2), catalog=catalog)
    assert stages.make_page_derivatives(batch.id, ctx) == 5
    cache = settings.cache_dir / "derivatives"
    made = sorted(cache.rglob("*.jpg"))
    assert len(made) == 5 * len(ALLOWED_WIDTHS)
    for seq in range(1, 6):
        paths = make_derivatives(tmp_path / f"p{seq}.png", cache)      # all present: nothing decoded again
        assert set(paths) == set(ALLOWED_WIDTHS) and all(p.exists() for p in paths.values())
        with Image.open(paths[320]) as small:
            assert small.width == 320
    mtimes = [p.stat().st_mtime_ns for p in made]
    assert stages.make_page_derivatives(batch.id, ctx) == 5
    assert [p.stat().st_mtime_ns for p in sorted(cache.rglob("*.jpg"))] == mtimes
