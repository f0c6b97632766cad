"""The batch folder and manifest reader: order, validation, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kholuu.errors import InputFileError
from kholuu.manifest import natural_key, scan_folder


def _touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")


def test_without_manifest_files_come_in_natural_order(tmp_path: Path) -> None:
    _touch(tmp_path, "p10.png", "p2.png", "p1.png", ".hidden.png", "READY")
    layout = scan_folder(tmp_path)
    assert not layout.has_manifest
    assert [e.file for e in layout.entries] == ["p1.png", "p2.png", "p10.png"]
    assert not layout.documents_given


def test_manifest_gives_order_documents_and_citation(tmp_path: Path) -> None:
    _touch(tmp_path, "b.tif", "a.png")
    (tmp_path / "manifest.csv").write_text(
        "file,page,document,register,file_number\n"
        "b.tif,1,1,01,12\n"
        "b.tif,2,1,01,12\n"
        "a.png,,2,01,13\n", encoding="utf-8")
    layout = scan_folder(tmp_path)
    assert layout.has_manifest and layout.documents_given
    assert [(e.file, e.page, e.document, e.file_number) for e in layout.entries] == [
        ("b.tif", 1, 1, "12"), ("b.tif", 2, 1, "12"), ("a.png", None, 2, "13")]


@pytest.mark.parametrize("body, reason", [
    ("name\nx.png\n", "missing the 'file' column"),
    ("file,colour\na.png,red\n", "unknown column"),
    ("file\n../etc/passwd\n", "inside the batch folder"),
    ("file\n/etc/passwd\n", "inside the batch folder"),
    ("file\nmissing.png\n", "does not exist"),
    ("file,page\na.png,zero\n", "positive whole number"),
    ("file,page\na.png,1\na.png,1\n", "listed twice"),
    ("file\n", "lists no files"),
])
def test_bad_manifest_names_the_file_and_line(tmp_path: Path, body: str, reason: str) -> None:
    _touch(tmp_path, "a.png")
    (tmp_path / "manifest.csv").write_text(body, encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        scan_folder(tmp_path)
    assert "manifest.csv" in str(err.value)
    assert reason in str(err.value)


def test_not_utf8_manifest(tmp_path: Path) -> None:
    _touch(tmp_path, "a.png")
    (tmp_path / "manifest.csv").write_bytes("file\nả.png\n".encode("utf-16"))
    with pytest.raises(InputFileError, match="not UTF-8"):
        scan_folder(tmp_path)


def test_missing_empty_and_non_folder(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such folder"):
        scan_folder(tmp_path / "nope")
    with pytest.raises(InputFileError, match="holds no files"):
        scan_folder(tmp_path)
    _touch(tmp_path, "f.png")
    with pytest.raises(InputFileError, match="not a folder"):
        scan_folder(tmp_path / "f.png")


def test_natural_key() -> None:
    assert sorted(["t10", "t9", "T1"], key=natural_key) == ["T1", "t9", "t10"]


def test_yaml_manifest_with_defaults(tmp_path: Path) -> None:
    _touch(tmp_path, "b.tif", "a.png")
    (tmp_path / "manifest.yaml").write_text(
        'register: "01"\nfile_number: "12"\npages:\n'
        "  - {file: b.tif, page: 1, document: 1}\n"
        "  - {file: b.tif, page: 2, document: 1}\n"
        '  - {file: a.png, document: 2, file_number: "13"}\n', encoding="utf-8")
    layout = scan_folder(tmp_path)
    assert layout.has_manifest and layout.documents_given
    assert [(e.file, e.page, e.document, e.register, e.file_number) for e in layout.entries] == [
        ("b.tif", 1, 1, "01", "12"), ("b.tif", 2, 1, "01", "12"), ("a.png", None, 2, "01", "13")]


@pytest.mark.parametrize("body, reason", [
    ("pages: 3\n", "list under 'pages'"),
    ("pages: []\nboxes: 1\n", "unknown key"),
    ("pages:\n  - a.png\n", "must be a mapping"),
    ("pages:\n  - {file: a.png, colour: red}\n", "unknown key"),
    ("pages:\n  - {file: ../x.png}\n", "inside the batch folder"),
    ("pages: [\n", "not valid YAML"),
])
def test_bad_yaml_manifest(tmp_path: Path, body: str, reason: str) -> None:
    _touch(tmp_path, "a.png")
    (tmp_path / "manifest.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        scan_folder(tmp_path)
    assert "manifest.yaml" in str(err.value) and reason in str(err.value)
