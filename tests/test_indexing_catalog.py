"""From a real SQLite catalog to the index, and the search commands in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import indexing
from indexing.base import SearchQuery
from indexing.tantivy_index import TantivyBackend
from kholuu.catalog import Catalog
from kholuu.model import DocumentMetadata, Entity, Fonds, PageOCR
from kholuu.settings import Settings, load_settings

DOCS = [
    # (pages, metadata, entities, access)
    (["TỈNH ỦY THÁI BÌNH\nSố 08-CT/TU\nCHỈ THỊ", "Đẩy mạnh xây dựng nông thôn mới ở các huyện."],
     DocumentMetadata(doc_type="Chỉ thị", number_symbol="08-CT/TU", issuer="Tỉnh ủy Thái Bình",
                      issued_date=date(2021, 3, 15), subject="Về xây dựng nông thôn mới"),
     [Entity("Thái Bình", "LOC", 0, 9, "Thái Bình")], "public"),
    (["Ban Thường vụ Tỉnh uỷ kết luận về công tác cán bộ."],
     DocumentMetadata(doc_type="Kết luận", number_symbol="12-KL/TU", issuer="Tỉnh ủy Thái Bình",
                      issued_date=date(1998, 6, 2), subject="Về công tác cán bộ"), [], "public"),
    (["Báo cáo mật về nông thôn mới và an ninh."],
     DocumentMetadata(doc_type="Báo cáo", number_symbol="3-BC/TU", issued_date=date(2022, 1, 5)), [], "secret"),
]


def build_catalog(settings: Settings) -> Catalog:
    cat = Catalog(settings.database_url)
    cat.load_fonds([Fonds(code="12", name="Phông Tỉnh ủy Thái Bình"), Fonds(code="07", name="Phông Huyện ủy")])
    batch = cat.create_batch("12", "/scans/box-1")
    fonds_id = cat.get_fonds("12").id
    file_id = cat.ensure_file(fonds_id, "01", "345", "Hồ sơ chỉ thị 2021")
    seq = 0
    for n, (pages, meta, entities, access) in enumerate(DOCS, 1):
        page_ids = []
        for text in pages:
            seq += 1
            pid = cat.upsert_page(batch.id, seq, f"p{seq:03d}.png", 1)
            cat.record_ocr(pid, PageOCR(source=f"p{seq:03d}.png", page=1, text=text, confidence=90.0))
            page_ids.append(pid)
        cat.upsert_document(batch.id, n, page_ids, "\n".join(pages), meta, entities,
                            file_id=file_id if n == 1 else None, access_mode=access)
    return cat


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cat_settings(home: Path) -> Settings:
    s = load_settings({"KHOLUU_HOME": str(home)})
    s.ensure_dirs()
    return s


def test_index_from_catalog_and_search(cat_settings: Settings):
    cat = build_catalog(cat_settings)
    backend = indexing.open_backend(cat_settings)
    try:
        assert isinstance(backend, TantivyBackend)
        docs = list(indexing.build_index_documents(cat))
        assert [len(d.pages) for d in docs] == [2, 1, 1]
        first = docs[0]
        assert (first.fonds, first.fonds_name, first.register, first.file_number) == \
               ("12", "Phông Tỉnh ủy Thái Bình", "01", "345")
        assert [p.page_no for p in first.pages] == [1, 2] and first.entities == [("LOC", "Thái Bình")]
        assert indexing.index_documents(cat, backend) == 3
        assert indexing.index_documents(cat, backend) == 3 and backend.count() == 3   # idempotent
        assert all(d.indexed_at is not None for d in cat.documents())
        r = indexing.search(backend, SearchQuery(text="nong thon moi"))
        assert r.total == 1                      # the secret document stays hidden
        hit = r.hits[0]
        assert hit.citation == "Phông 12, Mục lục 01, Hồ sơ 345, tờ 2"
        assert "<mark>nông thôn mới</mark>" in hit.snippet
        pages = cat.document_pages(hit.id)
        assert hit.pages[0].page_id == pages[1].id
        assert indexing.search(backend, SearchQuery(text="Tỉnh ủy kết luận")).hits[0].number_symbol == "12-KL/TU"
        only = indexing.index_documents(cat, backend, document_ids=[first.id])
        assert only == 1 and backend.count() == 3
    finally:
        backend.close()
        cat.dispose()


def test_first_indexing_into_a_new_embedded_index_builds_it_whole(cat_settings: Settings):
    """The upgrade path: a home with the SQLite FTS5 index of older versions (or
    none) gets a new tantivy index, built whole from the catalog the first time
    the pipeline indexes anything — never just the batch at hand."""
    cat = build_catalog(cat_settings)
    (cat_settings.index_dir / "search.sqlite").write_bytes(b"an older index")
    backend = indexing.open_backend(cat_settings)
    try:
        first, *rest = [d.id for d in cat.documents()]
        assert not backend.complete and backend.count() == 0
        assert indexing.index_documents(cat, backend, [first]) == 1
        assert backend.complete and backend.count() == 3 and backend.present([first, *rest]) == {first, *rest}
        assert all(d.indexed_at is not None for d in cat.documents())
        backend.delete(rest)
        assert indexing.index_documents(cat, backend, [first]) == 1 and backend.count() == 1   # complete: in place
    finally:
        backend.close()
        cat.dispose()


def test_open_backend_without_elastic_module_is_a_clear_error(cat_settings: Settings, monkeypatch):
    from dataclasses import replace

    from kholuu.errors import SearchError

    # an installation without the Elasticsearch backend module
    monkeypatch.setattr(indexing, "ELASTIC_MODULE", "indexing.no_such_backend")
    es = replace(cat_settings, elasticsearch_url="http://127.0.0.1:9")
    with pytest.raises(SearchError, match="KHOLUU_ELASTICSEARCH_URL"):
        indexing.open_backend(es)


def kholuu(home: Path, *args: str) -> subprocess.CompletedProcess:
    """The real command in a subprocess, as a user runs it."""
    env = {**os.environ, "KHOLUU_HOME": str(home)}
    env.pop("KHOLUU_DATABASE_URL", None)
    env.pop("KHOLUU_ELASTICSEARCH_URL", None)
    return subprocess.run([sys.executable, "-m", "kholuu.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def cli(home: Path, monkeypatch, capsys):
    """The same command in this process (faster, for the many small checks)."""
    from kholuu.cli import main

    monkeypatch.setenv("KHOLUU_HOME", str(home))
    monkeypatch.delenv("KHOLUU_DATABASE_URL", raising=False)
    monkeypatch.delenv("KHOLUU_ELASTICSEARCH_URL", raising=False)

    def run(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


def test_cli_rebuild_and_search(cat_settings: Settings, home: Path, cli):
    build_catalog(cat_settings).dispose()
    empty = cli("search", "nông thôn")
    assert empty.returncode == 0 and "kholuu index rebuild" in empty.stdout

    before = json.loads(cli("index", "status", "--json").stdout)
    assert (before["catalog"], before["index"], before["missing_count"]) == (3, 0, 3)

    (cat_settings.embedded_index_dir / "CURRENT").write_bytes(b"broken" * 1000)   # rebuild replaces
    legacy = cat_settings.index_dir / "search.sqlite"       # the SQLite FTS5 index of older versions...
    legacy.write_bytes(b"old index")
    rebuilt = kholuu(home, "index", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "3 tài liệu" in rebuilt.stdout.splitlines()[-1]
    assert not legacy.exists() and "search.sqlite" in rebuilt.stdout   # ...goes once the new one is built

    after = json.loads(cli("index", "status", "--json").stdout)
    assert (after["index"], after["missing_count"], after["stale_count"], after["never_indexed"]) == (3, 0, 0, 0)

    out = kholuu(home, "search", "nong thon moi", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["total"] == 1
    hit = data["hits"][0]
    assert {"id", "doc_type", "number_symbol", "issued_date", "subject", "fonds", "score", "snippet"} <= set(hit)
    assert hit["doc_type"] == "Chỉ thị" and hit["issued_date"] == "2021-03-15" and hit["fonds"] == "12"
    assert "<mark>nông thôn mới</mark>" in hit["snippet"] and hit["best_page"] == 2

    filtered = json.loads(cli("search", "Tỉnh ủy", "--type", "KL", "--from", "1990", "--to", "2000",
                              "--json").stdout)
    assert [h["number_symbol"] for h in filtered["hits"]] == ["12-KL/TU"]

    plain = cli("search", "nông thôn mới", "--fonds", "12")
    assert plain.returncode == 0 and "[nông thôn mới]" in plain.stdout and "08-CT/TU" in plain.stdout

    listed = json.loads(cli("search", "", "--fonds", "12", "--json").stdout)
    assert listed["total"] == 2                      # filters alone list documents (public ones)
    blank = cli("search", "  ")
    assert blank.returncode == 2 and "trống" in blank.stderr

    unknown = kholuu(home, "search", "nông", "--fonds", "XX")
    assert unknown.returncode == 2 and "XX" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1

    bad = cli("search", "--", "-nông")   # argparse: a leading "-" needs "--"
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "loại trừ" in bad.stderr
