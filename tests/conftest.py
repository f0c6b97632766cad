"""Shared fixtures, kept small and generic: a settings object rooted in a temp
folder, and a catalog URL parametrized over SQLite and a real PostgreSQL.

PostgreSQL comes from ``scripts/test`` (``KHOLUU_TEST_POSTGRES_URL``). Each test
gets its own schema, so runs never see each other's rows, even two runs at once
against the same server. Package-specific fixtures live in their own test files.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest

from kholuu.catalog import Catalog
from kholuu.settings import Settings, load_settings

POSTGRES_ENV = "KHOLUU_TEST_POSTGRES_URL"
ALLOW_NO_POSTGRES_ENV = "KHOLUU_ALLOW_NO_POSTGRES"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with a fresh data directory under the test's tmp folder."""
    s = load_settings({"KHOLUU_HOME": str(tmp_path / "home")})
    s.ensure_dirs()
    return s


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return load_settings({"KHOLUU_DATABASE_URL": url}).database_url  # → postgresql+psycopg://
    if os.environ.get(ALLOW_NO_POSTGRES_ENV) == "1" and os.environ.get("CI") != "true":  # CI never skips
        pytest.skip(f"{POSTGRES_ENV} unset and {ALLOW_NO_POSTGRES_ENV}=1: PostgreSQL tests skipped")
    pytest.fail(f"{POSTGRES_ENV} is not set: run the tests with scripts/test (it starts PostgreSQL), "
                f"or set {ALLOW_NO_POSTGRES_ENV}=1 to skip the PostgreSQL variants", pytrace=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty schema on the test PostgreSQL; dropped afterwards."""
    from sqlalchemy import create_engine, text

    base = _postgres_base_url()
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The catalog database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    """An empty catalog (tables created, no fonds loaded) on each backend."""
    cat = Catalog(catalog_url)
    try:
        yield cat
    finally:
        cat.dispose()
