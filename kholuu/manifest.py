"""A batch folder and its optional manifest: which files, in which order.

An archivist drops a folder of scans; ``manifest.csv`` or ``manifest.yaml``
(optional) says the page
order, the document each page belongs to, and the register (mục lục) and file
(hồ sơ) numbers used in citations::

    file,page,document,register,file_number
    scan_001.tif,1,1,01,12
    scan_001.tif,2,1,01,12
    scan_002.png,,2,01,12      # empty page: every page of the file

Without a manifest, files are taken in natural name order (``p2`` before
``p10``) and documents are found from the page texts later. The manifest is
validated here, once, with errors that name the file and the line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kholuu.errors import InputFileError

SCAN_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".bmp", ".webp", ".jp2"}
MANIFEST_NAMES = ("manifest.csv", "manifest.yaml", "manifest.yml")
IGNORED_NAMES = {*MANIFEST_NAMES, "READY", ".DS_Store", "Thumbs.db"}
_COLUMNS = ("file", "page", "document", "register", "file_number")


@dataclass(frozen=True)
class ManifestEntry:
    """One line of the manifest (or one file when there is no manifest)."""

    file: str                    # path relative to the batch folder, POSIX style
    page: int | None = None      # 1-based page in the file; None: all pages
    document: int | None = None  # document number within the batch
    register: str | None = None  # mục lục
    file_number: str | None = None  # hồ sơ


@dataclass(frozen=True)
class BatchLayout:
    folder: Path
    entries: list[ManifestEntry]
    has_manifest: bool

    @property
    def documents_given(self) -> bool:
        return self.has_manifest and all(e.document is not None for e in self.entries)


def natural_key(name: str) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _safe_relative(folder: Path, name: str, manifest: Path, line: int) -> str:
    rel = PurePosixPath(name.strip().replace("\\", "/"))
    if not name.strip() or rel.is_absolute() or ".." in rel.parts:
        raise InputFileError(manifest, f"line {line}: file name {name!r} must be a path inside the batch folder")
    if not (folder / rel).is_file():
        raise InputFileError(manifest, f"line {line}: {name!r} does not exist in {folder}")
    return str(rel)


def _optional_int(value: str | None, manifest: Path, line: int, column: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise InputFileError(manifest, f"line {line}: column {column!r} must be a positive whole number, not {value!r}")
    return int(value)


def read_manifest(folder: Path, manifest: Path) -> list[ManifestEntry]:
    if manifest.suffix in (".yaml", ".yml"):
        return read_manifest_yaml(folder, manifest)
    try:
        raw = manifest.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(manifest, "not UTF-8 text") from None
    return _entries_from_csv(folder, manifest, raw)


def _entries_from_csv(folder: Path, manifest: Path, raw: str) -> list[ManifestEntry]:
    reader = csv.DictReader(io.StringIO(raw))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "file" not in header:
        raise InputFileError(manifest, f"missing the 'file' column (columns: {', '.join(_COLUMNS)})")
    unknown = [h for h in header if h not in _COLUMNS]
    if unknown:
        raise InputFileError(manifest, f"unknown column(s) {', '.join(unknown)}; expected {', '.join(_COLUMNS)}")
    entries: list[ManifestEntry] = []
    seen: set[tuple[str, int | None]] = set()
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if not any(row.values()):
            continue
        name = _safe_relative(folder, row.get("file", ""), manifest, line)
        page = _optional_int(row.get("page"), manifest, line, "page")
        if (name, page) in seen:
            raise InputFileError(manifest, f"line {line}: {name} page {page or 'all'} is listed twice")
        seen.add((name, page))
        entries.append(ManifestEntry(
            file=name, page=page,
            document=_optional_int(row.get("document"), manifest, line, "document"),
            register=row.get("register") or None,
            file_number=row.get("file_number") or None,
        ))
    if not entries:
        raise InputFileError(manifest, "the manifest lists no files")
    return entries


def read_manifest_yaml(folder: Path, manifest: Path) -> list[ManifestEntry]:
    """The YAML form: defaults at the top, one item a page (or a whole file)::

        register: "01"
        file_number: "12"
        pages:
          - {file: scan_001.tif, page: 1, document: 1}
          - {file: scan_002.png, document: 2, file_number: "13"}
    """
    import yaml

    try:
        raw = yaml.safe_load(manifest.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputFileError(manifest, "not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise InputFileError(manifest, f"not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("pages"), list):
        raise InputFileError(manifest, "expected a mapping with a list under 'pages'")
    unknown = sorted(set(raw) - {"pages", "register", "file_number"})
    if unknown:
        raise InputFileError(manifest, f"unknown key(s) {', '.join(unknown)}; expected pages, register, file_number")
    rows = io.StringIO()
    writer = csv.DictWriter(rows, fieldnames=list(_COLUMNS))
    writer.writeheader()
    for i, item in enumerate(raw["pages"], 1):
        if not isinstance(item, dict):
            raise InputFileError(manifest, f"item {i} under 'pages' must be a mapping like {{file: a.png}}")
        extra = sorted(set(item) - set(_COLUMNS))
        if extra:
            raise InputFileError(manifest, f"item {i}: unknown key(s) {', '.join(map(str, extra))}")
        row = {k: "" if item.get(k) is None else str(item.get(k)) for k in _COLUMNS}
        for key in ("register", "file_number"):
            if not row[key] and raw.get(key) is not None:
                row[key] = str(raw[key])
        writer.writerow(row)
    # one validation path for both forms: line numbers count the header as line 1
    return _entries_from_csv(folder, manifest, rows.getvalue())


def scan_folder(folder: Path | str) -> BatchLayout:
    """The files of a batch folder, in order, with the manifest if there is one."""
    folder = Path(folder)
    if not folder.exists():
        raise InputFileError(folder, "no such folder")
    if not folder.is_dir():
        raise InputFileError(folder, "not a folder (a batch is a folder of scans)")
    for name in MANIFEST_NAMES:
        manifest = folder / name
        if manifest.is_file():
            return BatchLayout(folder=folder, entries=read_manifest(folder, manifest), has_manifest=True)
    files = [p for p in folder.rglob("*") if p.is_file() and p.name not in IGNORED_NAMES
             and not p.name.startswith(".")]
    files.sort(key=lambda p: natural_key(str(p.relative_to(folder))))
    if not files:
        raise InputFileError(folder, "the folder holds no files")
    return BatchLayout(folder=folder,
                       entries=[ManifestEntry(file=p.relative_to(folder).as_posix()) for p in files],
                       has_manifest=False)
