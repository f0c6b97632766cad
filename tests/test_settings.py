"""Settings: defaults, every KHOLUU_* variable, and bad values that name the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kholuu.errors import KholuuError, SettingsError
from kholuu.settings import Settings, load_settings


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings({})
    assert s.home == tmp_path / "kholuu-data"
    assert s.database_url == f"sqlite:///{tmp_path / 'kholuu-data' / 'catalog.sqlite'}"
    assert s.elasticsearch_url is None and not s.uses_elasticsearch
    assert (s.elasticsearch_index, s.ocr_lang, s.tessdata_dir) == ("kholuu", "vie", None)
    assert s.ocr_workers == (os.cpu_count() or 1)
    assert (s.ocr_timeout_s, s.ocr_target_dpi, s.ocr_low_confidence) == (180.0, 300, 70.0)
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert not s.home.exists()  # loading settings creates nothing


def test_empty_values_mean_defaults(tmp_path: Path) -> None:
    env = {name: "" for name in ("KHOLUU_DATABASE_URL", "KHOLUU_ELASTICSEARCH_URL", "KHOLUU_OCR_LANG",
                                 "KHOLUU_OCR_WORKERS", "KHOLUU_OCR_TIMEOUT", "KHOLUU_PORT", "KHOLUU_TESSDATA_DIR")}
    s = load_settings({**env, "KHOLUU_HOME": str(tmp_path)})
    assert (s.database_url, s.elasticsearch_url, s.ocr_lang, s.port, s.tessdata_dir) == (
        f"sqlite:///{tmp_path / 'catalog.sqlite'}", None, "vie", 8000, None)


def test_reads_os_environ_only_when_no_mapping_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHOLUU_HOME", str(tmp_path / "from-env"))
    monkeypatch.setenv("KHOLUU_PORT", "8123")
    assert (load_settings().home, load_settings().port) == (tmp_path / "from-env", 8123)
    assert load_settings({"KHOLUU_HOME": str(tmp_path)}).port == 8000


def test_home_and_derived_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings({"KHOLUU_HOME": "data/../kho"})
    assert s.home == tmp_path / "kho"
    assert s.pages_dir == s.home / "pages"
    assert s.ocr_cache_dir == s.home / "cache" / "ocr"
    assert s.embedded_index_dir == s.home / "index" / "tantivy"
    assert (s.dagster_home, s.inbox_dir, s.quarantine_dir, s.pdf_dir) == (
        s.home / "dagster", s.home / "inbox", s.home / "quarantine", s.home / "pdf")
    s.ensure_dirs()
    s.ensure_dirs()  # idempotent
    for d in (s.pages_dir, s.ocr_cache_dir, s.index_dir, s.dagster_home, s.inbox_dir, s.quarantine_dir, s.pdf_dir):
        assert d.is_dir()


def test_home_with_vietnamese_name_and_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    s = load_settings({"KHOLUU_HOME": "~/Kho lưu trữ"})
    assert s.home == tmp_path / "Kho lưu trữ"


@pytest.mark.parametrize("url, expected", [
    ("sqlite:////srv/kho/catalog.sqlite", "sqlite:////srv/kho/catalog.sqlite"),
    ("postgresql://kho@db:5432/kholuu", "postgresql+psycopg://kho@db:5432/kholuu"),
    ("postgresql+psycopg://kho@db/kholuu", "postgresql+psycopg://kho@db/kholuu"),
    ("  postgresql://kho@db/kholuu  ", "postgresql+psycopg://kho@db/kholuu"),
])
def test_database_url(url: str, expected: str) -> None:
    assert load_settings({"KHOLUU_DATABASE_URL": url}).database_url == expected


def test_elasticsearch(tmp_path: Path) -> None:
    s = load_settings({"KHOLUU_HOME": str(tmp_path), "KHOLUU_ELASTICSEARCH_URL": "http://127.0.0.1:9200",
                       "KHOLUU_ELASTICSEARCH_INDEX": " Kholuu-Test "})
    assert (s.elasticsearch_url, s.uses_elasticsearch, s.elasticsearch_index) == (
        "http://127.0.0.1:9200", True, "kholuu-test")


def test_ocr_and_web_variables(tmp_path: Path) -> None:
    tessdata = tmp_path / "tessdata"
    tessdata.mkdir()
    s = load_settings({
        "KHOLUU_HOME": str(tmp_path), "KHOLUU_OCR_LANG": "vie+eng", "KHOLUU_TESSDATA_DIR": str(tessdata),
        "KHOLUU_OCR_WORKERS": "3", "KHOLUU_OCR_TIMEOUT": "42.5", "KHOLUU_OCR_DPI": "400",
        "KHOLUU_OCR_LOW_CONFIDENCE": "55", "KHOLUU_HOST": "0.0.0.0", "KHOLUU_PORT": "8080",
    })
    assert (s.ocr_lang, s.tessdata_dir, s.ocr_workers, s.ocr_timeout_s) == ("vie+eng", tessdata, 3, 42.5)
    assert (s.ocr_target_dpi, s.ocr_low_confidence, s.host, s.port) == (400, 55.0, "0.0.0.0", 8080)


@pytest.mark.parametrize("name, value, reason", [
    ("KHOLUU_DATABASE_URL", "mysql://x@y/z", "expected sqlite:///PATH or postgresql://"),
    ("KHOLUU_DATABASE_URL", "postgres://x@y/z", "expected sqlite:///PATH or postgresql://"),
    ("KHOLUU_ELASTICSEARCH_URL", "127.0.0.1:9200", "expected http(s)://HOST:PORT"),
    ("KHOLUU_TESSDATA_DIR", "/no/such/tessdata", "no such directory"),
    ("KHOLUU_ELASTICSEARCH_INDEX", "kho luu", "expected an index name"),
    ("KHOLUU_ELASTICSEARCH_INDEX", "_all", "expected an index name"),
    ("KHOLUU_ELASTICSEARCH_INDEX", "kho*", "expected an index name"),
    ("KHOLUU_OCR_LANG", "vie; rm -rf /", "expected a Tesseract language"),
    ("KHOLUU_OCR_WORKERS", "two", "expected a whole number"),
    ("KHOLUU_OCR_WORKERS", "0", "from 1 to"),
    ("KHOLUU_OCR_TIMEOUT", "soon", "expected a number"),
    ("KHOLUU_OCR_TIMEOUT", "nan", "expected a number from"),
    ("KHOLUU_OCR_TIMEOUT", "0", "expected a number from"),
    ("KHOLUU_OCR_DPI", "72", "from 150 to 600"),
    ("KHOLUU_OCR_DPI", "300dpi", "expected a whole number"),
    ("KHOLUU_OCR_LOW_CONFIDENCE", "101", "from 0.0 to 100.0"),
    ("KHOLUU_PORT", "70000", "from 1 to 65535"),
    ("KHOLUU_PORT", "http", "expected a whole number"),
])
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"KHOLUU_HOME": str(tmp_path), name: value})
    message = str(info.value)
    assert message.startswith(f"{name}=")
    assert reason in message
    assert "\n" not in message
    assert isinstance(info.value, KholuuError)


def test_with_home_moves_the_sqlite_catalog_and_keeps_the_rest(tmp_path: Path) -> None:
    s = load_settings({"KHOLUU_HOME": str(tmp_path / "a"), "KHOLUU_PORT": "8181", "KHOLUU_OCR_WORKERS": "1",
                       "KHOLUU_OCR_LANG": "vie+eng"})
    t = s.with_home(tmp_path / "b")
    assert isinstance(t, Settings)
    assert t.home == tmp_path / "b"
    assert t.database_url == f"sqlite:///{tmp_path / 'b' / 'catalog.sqlite'}"
    assert (t.port, t.ocr_workers, t.ocr_lang) == (8181, 1, "vie+eng")
    assert s.home == tmp_path / "a"  # the original is unchanged (frozen)
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_settings_fixture_has_a_fresh_home(settings: Settings, tmp_path: Path) -> None:
    assert settings.home == tmp_path / "home"
    assert settings.pages_dir.is_dir() and settings.database_url.startswith("sqlite:///")
