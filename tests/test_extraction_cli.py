"""``kholuu extract`` as a user runs it: a real subprocess, file, stdin, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DOC = """ĐẢNG CỘNG SẢN VIỆT NAM
TỈNH ỦY THÁI BÌNH
*
Số 08-CT/TU
Thái Bình, ngày 15 tháng 3 năm 2021
CHỈ THỊ
về đẩy mạnh xây dựng nông thôn mới
-----
Ban Thường vụ Tỉnh ủy giao đồng chí Trần Văn Hải, Phó Bí thư, chỉ đạo huyện Vũ Thư.
Nơi nhận:
- Các huyện ủy, thành ủy,
- Lưu Văn phòng Tỉnh ủy.
T/M BAN THƯỜNG VỤ
BÍ THƯ
Nguyễn Văn An
"""
KEYS = {"doc_type", "number_symbol", "issuer", "place", "issued_date", "subject", "signer_name", "signer_title",
        "security_mark", "urgency_mark", "recipients", "issuers", "signers", "entities"}


def _run(args: list[str], tmp_path: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {"KHOLUU_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "kholuu.cli", *args], input=stdin, capture_output=True,
                          env=env, timeout=120)


def _check(d: dict) -> None:
    assert KEYS <= set(d)
    assert d["doc_type"] == "Chỉ thị" and d["number_symbol"] == "08-CT/TU"
    assert d["issuer"] == "TỈNH ỦY THÁI BÌNH" and d["issued_date"] == "2021-03-15"
    assert d["signer_name"] == "Nguyễn Văn An" and d["signer_title"] == "BÍ THƯ"
    assert d["recipients"] == ["Các huyện ủy, thành ủy", "Lưu Văn phòng Tỉnh ủy"]
    labels = {e["label"] for e in d["entities"]}
    assert {"PER", "ORG", "LOC", "DATE"} <= labels
    for e in d["entities"]:
        assert set(e) >= {"text", "label", "start", "end"}
    assert any(e["text"] == "Trần Văn Hải" and e["label"] == "PER" for e in d["entities"])


def test_extract_json_from_file_and_stdin(tmp_path):
    f = tmp_path / "doc.txt"
    f.write_text(DOC, encoding="utf-8")
    r = _run(["extract", str(f), "--json"], tmp_path)
    assert r.returncode == 0, r.stderr.decode()
    d = json.loads(r.stdout)
    _check(d)
    for e in d["entities"]:
        assert DOC[e["start"]:e["end"]] == e["text"]
    r2 = _run(["extract", "-", "--json"], tmp_path, stdin=DOC.encode("utf-8"))
    assert r2.returncode == 0, r2.stderr.decode()
    assert json.loads(r2.stdout) == d


def test_plain_output_is_a_vietnamese_summary(tmp_path):
    r = _run(["extract", "-"], tmp_path, stdin=DOC.encode("utf-8"))
    out = r.stdout.decode("utf-8")
    assert r.returncode == 0
    assert "Loại văn bản: Chỉ thị" in out and "Số ký hiệu: 08-CT/TU" in out
    assert "Cơ quan ban hành: TỈNH ỦY THÁI BÌNH" in out


def test_legacy_tcvn3_file_is_converted(tmp_path):
    f = tmp_path / "legacy.txt"
    f.write_bytes("TØnh ñy Th¸i B×nh\nSè 12-NQ/TU\nTh¸i B×nh, ngµy 2 th¸ng 9 n¨m 1998\nNGHÞ QUYÕT\n".encode("latin-1"))
    r = _run(["extract", str(f), "--json"], tmp_path)
    assert r.returncode == 0, r.stderr.decode()
    d = json.loads(r.stdout)
    assert d["number_symbol"] == "12-NQ/TU" and d["issued_date"] == "1998-09-02" and d["place"] == "Thái Bình"


def test_missing_and_undecodable_files_are_one_line_errors(tmp_path):
    missing = tmp_path / "khong-co.txt"
    r = _run(["extract", str(missing)], tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 2
    assert str(missing) in err and "no such file" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    r = _run(["extract", str(bad)], tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 2 and str(bad) in err and len(err.strip().splitlines()) == 1
