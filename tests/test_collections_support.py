"""Shared set-up for the collection and export tests (no tests here): the web
app over a real SQLite catalog and the real embedded index, seeded with the
documents of test_web_support.py, and users of each role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from kholuu.access import hash_password
from kholuu.catalog import Catalog, DocumentRow
from kholuu.catalog.users import AccessStore
from kholuu.settings import load_settings
from search_ui.app import create_app
from test_web_support import Seeded, make_backend, seed_catalog

PASSWORD = "mat-khau-bien-tap-1"
USERS = {"btv": "editor", "btv2": "editor", "nnc": "researcher", "lt": "archivist", "qt": "administrator"}


@dataclass
class World:
    app: object
    catalog: Catalog
    seeded: Seeded
    store: AccessStore
    backend: object

    def doc(self, key: str) -> int:
        return self.seeded.doc_ids[key]

    def set_mode(self, key: str, mode: str) -> None:
        with self.catalog.session() as s:
            s.get(DocumentRow, self.doc(key)).access_mode = mode


def make_world(home: Path) -> World:
    settings = load_settings({"KHOLUU_HOME": str(home)})
    settings.ensure_dirs()
    catalog = Catalog(settings.database_url)
    seeded = seed_catalog(settings, catalog)
    store = AccessStore(catalog)
    for name, role in USERS.items():
        store.add_user(name, role, hash_password(PASSWORD), display_name=f"Biên tập {name}" if role == "editor" else "",
                       fonds=["F01"] if role == "archivist" else [])
    backend = make_backend(settings, catalog)
    return World(create_app(settings, catalog=catalog, backend=backend), catalog, seeded, store, backend)


def client_for(world: World, name: str) -> TestClient:
    client = TestClient(world.app)
    client.get("/login")
    if name != "anonymous":
        r = client.post("/login", data={"username": name, "password": PASSWORD,
                                        "csrf": client.cookies.get("kholuu_csrf")}, follow_redirects=False)
        assert r.status_code == 303, (name, r.status_code)
    return client


def post(client: TestClient, path: str, **data: object):
    """A form post with the CSRF token, as the pages send it."""
    form = {k: str(v) for k, v in data.items()}
    form.setdefault("csrf", client.cookies.get("kholuu_csrf") or "")
    return client.post(path, data=form, follow_redirects=False)


def new_collection(client: TestClient, title: str) -> int:
    r = post(client, "/collections/create", title=title)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def order(client: TestClient, collection_id: int) -> list[int]:
    r = client.get(f"/api/collections/{collection_id}")
    assert r.status_code == 200
    return [d["id"] for d in r.json()["documents"]]


def pdf_text(pdf: bytes, *, first: int | None = None, last: int | None = None, layout: bool = False) -> str:
    """The text of a PDF as poppler's pdftotext reads it (what a reader copies out)."""
    import subprocess

    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else [])
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    out = subprocess.run(args + ["-", "-"], input=pdf, capture_output=True, timeout=60, check=True)
    return out.stdout.decode("utf-8")
