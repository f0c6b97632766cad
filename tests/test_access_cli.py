"""``kholuu user …`` in-process, TUYỆT MẬT refused at ingest, the audit log append-only."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from kholuu.access import verify_password
from kholuu.catalog import Catalog, DocumentRow
from kholuu.catalog.users import AccessStore, UserRow
from kholuu.cli import main
from kholuu.model import DocumentMetadata
from kholuu.settings import Settings
from kholuu.stages import StageContext, build_documents


@pytest.fixture
def home(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("KHOLUU_HOME", str(settings.home))
    monkeypatch.delenv("KHOLUU_DATABASE_URL", raising=False)
    return settings


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _conditional_doc(settings: Settings, mode: str = "conditional") -> int:
    catalog = Catalog(settings.database_url)
    catalog.ensure_fonds_loaded()
    batch = catalog.create_batch("F01", "/test/cli")
    pid = catalog.upsert_page(batch.id, 1, "a.png", 1, text="nông thôn mới", status="ocr")
    doc = catalog.upsert_document(batch.id, 1, [pid], "nông thôn mới", DocumentMetadata(), [], access_mode=mode)
    catalog.dispose()
    return doc


def test_user_add_grant_revoke_list(home: Settings, monkeypatch, capsys) -> None:
    code, out, _ = _run(monkeypatch, capsys, "user", "add", "NVA", "--role", "researcher", "--group", "nhom-a",
                        "--name", "Nguyễn Văn A", "--password-stdin", stdin="mat-khau-dai-du\n")
    assert code == 0 and "nva" in out
    catalog = Catalog(home.database_url)
    record = AccessStore(catalog).login_record("nva")
    assert record and record[0].groups == ("nhom-a",) and verify_password(record[1], "mat-khau-dai-du")
    with catalog.session() as s:
        assert "mat-khau-dai-du" not in (s.query(UserRow).one().password_hash or "")
    doc = _conditional_doc(home)
    code, out, _ = _run(monkeypatch, capsys, "user", "grant", str(doc), "--user", "nva", "--until", "2099-12-31")
    assert code == 0 and "2099-12-31" in out
    code, out, _ = _run(monkeypatch, capsys, "user", "list", "--json")
    data = json.loads(out)
    assert data["users"][0]["username"] == "nva" and data["grants"][0]["document"] == doc
    assert data["grants"][0]["expires_at"] == "2100-01-01T00:00:00"      # through the whole last day
    code, out, _ = _run(monkeypatch, capsys, "user", "revoke", str(doc), "--user", "nva")
    assert code == 0
    code, out, _ = _run(monkeypatch, capsys, "user", "list", "--json")
    assert json.loads(out)["grants"] == []
    actions = [e.action for e in AccessStore(catalog).audit_entries()]
    assert actions[:3] == ["revoke", "grant", "user_add"]
    catalog.dispose()


@pytest.mark.parametrize("argv, stdin, message", [
    (["user", "add", "x1", "--role", "boss", "--password-stdin"], "mat-khau-dai-du\n", "unknown role 'boss'"),
    (["user", "add", "x1", "--role", "researcher", "--password-stdin"], "ngan\n", "at least 10 characters"),
    (["user", "add", "x1", "--role", "archivist", "--password-stdin"], "mat-khau-dai-du\n", "needs --fonds"),
    (["user", "add", "x1", "--role", "archivist", "--fonds", "F99", "--password-stdin"], "mat-khau-dai-du\n",
     "unknown fonds F99"),
    (["user", "add", "x y", "--role", "researcher", "--password-stdin"], "mat-khau-dai-du\n", "username 'x y'"),
    (["user", "add", "x1", "--role", "researcher"], "", "use --password-stdin"),
    (["user", "grant", "1", "--user", "nobody"], "", "unknown document id 1"),
    (["user", "grant", "1"], "", "either --user USERNAME or --group GROUP"),
    (["user", "grant", "1", "--user", "a", "--until", "hôm qua"], "", "expected a date YYYY-MM-DD"),
    (["user", "declassify", "1", "--on", "2030-13-01"], "", "expected a date"),
])
def test_bad_input_is_one_line(home: Settings, monkeypatch, capsys, argv, stdin, message) -> None:
    code, _, err = _run(monkeypatch, capsys, *argv, stdin=stdin)
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_grants_open_only_conditional_documents(home: Settings, monkeypatch, capsys) -> None:
    _run(monkeypatch, capsys, "user", "add", "nvb", "--role", "researcher", "--password-stdin", stdin="mat-khau-dai-du\n")
    secret = _conditional_doc(home, mode="secret")
    code, _, err = _run(monkeypatch, capsys, "user", "grant", str(secret), "--user", "nvb")
    assert code == 2 and "is secret: only conditional documents can be granted" in err


def test_declassify_now_makes_the_document_public_and_searchable(home: Settings, monkeypatch, capsys) -> None:
    doc = _conditional_doc(home, mode="secret")
    code, out, _ = _run(monkeypatch, capsys, "user", "declassify", str(doc), "--on", "2001-01-01")
    assert code == 0 and "giải mật" in out
    catalog = Catalog(home.database_url)
    with catalog.session() as s:
        assert s.get(DocumentRow, doc).access_mode == "public"
    catalog.dispose()
    code, out, _ = _run(monkeypatch, capsys, "search", "nông thôn", "--json")
    assert code == 0 and doc in [h["id"] for h in json.loads(out)["hits"]]


def test_fonds_default_applies_to_new_documents(home: Settings, monkeypatch, capsys) -> None:
    code, out, _ = _run(monkeypatch, capsys, "user", "fonds-default", "F01", "conditional")
    assert code == 0 and "public" in out
    assert _mode_of_new_document(home) == "conditional"
    code, _, err = _run(monkeypatch, capsys, "user", "fonds-default", "F01", "open")
    assert code == 2 and "unknown access mode 'open'" in err


def test_file_default_wins_over_the_fonds_default(home: Settings, monkeypatch, capsys) -> None:
    catalog = Catalog(home.database_url)
    catalog.ensure_fonds_loaded()
    file_id = catalog.ensure_file(catalog.get_fonds("F01").id, "01", "345")
    catalog.dispose()
    code, _, _ = _run(monkeypatch, capsys, "user", "file-default", "F01", "01", "345", "secret")
    assert code == 0
    assert _mode_of_new_document(home, file_id=file_id) == "secret"
    assert _mode_of_new_document(home, seq=2) == "public"          # other documents of the fonds
    code, _, err = _run(monkeypatch, capsys, "user", "file-default", "F01", "01", "999", "secret")
    assert code == 2 and "unknown file" in err


def _mode_of_new_document(settings: Settings, *, file_id: int | None = None, seq: int = 1) -> str:
    catalog = Catalog(settings.database_url)
    batch = catalog.create_batch("F01", "/test/default")
    pid = catalog.upsert_page(batch.id, seq, f"{seq}.png", 1, text="x", status="ocr")
    doc = catalog.upsert_document(batch.id, seq, [pid], "x", DocumentMetadata(), [], file_id=file_id)
    with catalog.session() as s:
        mode = s.get(DocumentRow, doc).access_mode
    catalog.dispose()
    return mode


def test_audit_log_refuses_update_and_delete(catalog: Catalog) -> None:
    store = AccessStore(catalog)
    store.audit("nva", "search", "nông thôn", "")
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        try:
            with catalog.session() as s:
                s.execute(text(sql))
        except Exception:   # SQLite: the trigger aborts
            pass
    assert [(e.actor, e.action) for e in store.audit_entries()] == [("nva", "search")]


def test_tuyet_mat_is_refused_at_ingest(settings: Settings, tmp_path: Path) -> None:
    ctx = StageContext.from_settings(settings)
    ctx.catalog.ensure_fonds_loaded()
    src = tmp_path / "batch"
    src.mkdir()
    for name in ("a.png", "b.png"):
        Image.new("L", (40, 40), 255).save(src / name)
    batch = ctx.catalog.create_batch("F01", str(src))
    texts = ["ĐẢNG CỘNG SẢN VIỆT NAM\nTỈNH ỦY THÁI BÌNH\nSố 08-CT/TU\nThái Bình, ngày 15 tháng 3 năm 2021\n"
             "CHỈ THỊ\nvề xây dựng nông thôn mới",
             "TUYỆT MẬT\nĐẢNG CỘNG SẢN VIỆT NAM\nTỈNH ỦY THÁI BÌNH\nSố 09-NQ/TU\nThái Bình, ngày 2 tháng 4 năm 2021\n"
             "NGHỊ QUYẾT\nvề công tác Kínđáo"]
    for i, (name, t) in enumerate(zip(("a.png", "b.png"), texts), 1):
        ctx.catalog.upsert_page(batch.id, i, name, 1, text=t, status="ocr", confidence=90.0,
                                image_path=str(src / name), width=40, height=40)
    summary = build_documents(batch.id, ctx)
    docs = ctx.catalog.documents(batch.id)
    assert summary.documents == 1 and [d.number_symbol for d in docs] == ["08-CT/TU"]
    refused = [p for p in ctx.catalog.batch_pages(batch.id) if p.status == "error"]
    assert len(refused) == 1 and refused[0].error.startswith("TUYỆT MẬT")
    assert refused[0].text == "" and refused[0].words is None and refused[0].document_id is None
    assert all("Kínđáo" not in (d.text or "") for d in docs)
    ctx.catalog.dispose()


def test_public_access_setting() -> None:
    from kholuu.errors import SettingsError
    from kholuu.settings import load_settings

    assert load_settings({"KHOLUU_HOME": "/tmp/kholuu-x"}).public_access is True
    for off in ("off", "0", "false", "NO"):
        s = load_settings({"KHOLUU_HOME": "/tmp/kholuu-x", "KHOLUU_PUBLIC_ACCESS": off})
        assert s.public_access is False and s.with_home("/tmp/kholuu-y").public_access is False
    with pytest.raises(SettingsError, match="KHOLUU_PUBLIC_ACCESS='maybe': expected on or off"):
        load_settings({"KHOLUU_PUBLIC_ACCESS": "maybe"})


def test_expired_sessions_open_nothing_and_are_swept(catalog: Catalog) -> None:
    from datetime import datetime, timedelta

    from kholuu.catalog.users import SessionRow

    store = AccessStore(catalog)
    uid = store.add_user("nvc", "researcher", None)
    now = datetime.utcnow()
    store.create_session(uid, "a" * 64, now - timedelta(seconds=1))
    assert store.session_user("a" * 64, now) is None
    store.create_session(uid, "b" * 64, now + timedelta(hours=1))
    assert store.session_user("b" * 64, now).username == "nvc"
    with catalog.session() as s:
        assert [r.token_hash[0] for r in s.query(SessionRow)] == ["b"]
