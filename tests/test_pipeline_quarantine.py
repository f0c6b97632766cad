"""Every kind of bad file, through a real Dagster run with real Tesseract.

One batch holds two good scans, a blank page and one file of each bad kind the
rasterizer knows (empty, not an image, truncated, encrypted PDF, decompression
bomb, 1×1 pixel). Each bad file must be quarantined with its reason — in the
quarantine folder, in the batch report Dagster records, and in
``kholuu batch list`` — while the good pages complete and the blank page is a
blank result, not an error.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pikepdf
import pytest
from dagster import AssetKey
from PIL import Image

from kholuu.catalog import Catalog
from kholuu.samples import load_samples, write_sample_batch
from kholuu.settings import Settings
from pipelines.cli import add_batch
from pipelines.instance import get_instance
from pipelines.runner import run_batch

pytestmark = pytest.mark.slow

SAMPLE_IDS = ("vt-2016-cv-tieu-chi-ntm", "tu-2021-ct-van-thu-luu-tru")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png_bomb(path: Path, side: int = 20_000) -> None:
    """A real decompression bomb: a valid 1-bit PNG of side² white pixels in ~50 kB.

    Written row by row through zlib, so making it never holds the image.
    """
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    with path.open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)))
        f.write(_png_chunk(b"IDAT", data))
        f.write(_png_chunk(b"IEND", b""))


def write_encrypted_pdf(path: Path) -> None:
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(path, encryption=pikepdf.Encryption(user="mat-khau", owner="mat-khau"))


# file name → words its recorded reason must contain (one of them)
BAD = {
    "03_empty.png": ("empty",),
    "04_notes.png": ("not a png",),
    "05_cut.png": ("truncated",),
    "06_locked.pdf": ("encrypted",),
    "07_bomb.png": ("over the limit", "too large to decode"),   # kholuu's own limit or Pillow's
    "08_dot.png": ("too small",),
}


def _says(reason: str, words: tuple[str, ...]) -> bool:
    return any(w in reason.lower() for w in words)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    docs = [d for d in load_samples() if d.id in SAMPLE_IDS]
    return write_sample_batch(tmp_path_factory.mktemp("scans") / "good", docs, formats=("png",))


def _bad_batch(folder: Path, good: list[Path]) -> None:
    folder.mkdir()
    shutil.copy(good[0], folder / "01_good.png")
    shutil.copy(good[1], folder / "02_good.png")
    (folder / "03_empty.png").write_bytes(b"")
    (folder / "04_notes.png").write_text("đây không phải ảnh", encoding="utf-8")
    (folder / "05_cut.png").write_bytes(good[0].read_bytes()[:5000])
    write_encrypted_pdf(folder / "06_locked.pdf")
    write_png_bomb(folder / "07_bomb.png")
    Image.new("L", (1, 1), 0).save(folder / "08_dot.png")
    Image.new("L", (2480, 3508), 255).save(folder / "09_blank.png", dpi=(300, 300))


def _kholuu(settings: Settings, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHOLUU_")}
    env.update({"KHOLUU_HOME": str(settings.home), "PYTHONIOENCODING": "utf-8"})
    done = subprocess.run([sys.executable, "-m", "kholuu.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    return done.stdout


def test_each_bad_kind_is_quarantined_and_the_rest_completes(settings: Settings, rendered: Path,
                                                            tmp_path: Path) -> None:
    good = sorted(rendered.glob("*.png"))
    assert len(good) == 2
    folder = tmp_path / "hop-bad"
    _bad_batch(folder, good)
    batch_id, key = add_batch(settings, "F02", folder)

    outcome = run_batch(settings, key)
    assert outcome.success, outcome.message
    assert outcome.state == "partial"

    catalog = Catalog(settings.database_url)
    pages = {p.source_path: p for p in catalog.batch_pages(batch_id)}
    assert {n for n, p in pages.items() if p.status == "error"} == set(BAD)
    assert [pages[n].status for n in ("01_good.png", "02_good.png")] == ["ocr", "ocr"]
    assert pages["09_blank.png"].status == "blank" and pages["09_blank.png"].error is None
    docs = catalog.documents(batch_id)
    samples = {d.id: d for d in load_samples()}
    assert [d.number_symbol for d in docs] == [samples[i].number_symbol for i in SAMPLE_IDS]
    catalog.dispose()

    quarantine = settings.quarantine_dir / key
    assert sorted(p.name for p in quarantine.iterdir() if not p.name.endswith(".reason.txt")) == sorted(BAD)
    for name, words in BAD.items():
        reason = (quarantine / f"{name}.reason.txt").read_text(encoding="utf-8")
        assert name in reason and _says(reason, words), (name, reason)
        assert name in pages[name].error and _says(pages[name].error, words)
    assert not (quarantine / "09_blank.png").exists()

    # the batch report Dagster recorded lists every quarantined file with its reason
    instance = get_instance(settings)
    try:
        event = instance.get_latest_materialization_event(AssetKey("batch_report"))
        assert event is not None and event.asset_materialization.partition == key
        meta = event.asset_materialization.metadata
        assert meta["state"].value == "partial"
        report = meta["errors"].value
        for name, words in BAD.items():
            [line] = [ln for ln in report.splitlines() if ln.startswith(f"- {name}:")]
            assert _says(line, words)
        assert "09_blank" not in report and "_good" not in report
    finally:
        instance.dispose()

    # … and the terminal shows the same state
    [row] = json.loads(_kholuu(settings, "batch", "list", "--json"))
    assert row["key"] == key and row["state"] == "partial"
    assert (row["pages"], row["pages_done"], row["pages_failed"]) == (9, 3, len(BAD))
    listed = {e["file"]: e["reason"] for e in row["errors"]}
    assert set(listed) == set(BAD) and all(_says(listed[n], w) for n, w in BAD.items())
    table = _kholuu(settings, "batch", "list")
    assert key in table and "xong một phần" in table
    for name, words in BAD.items():
        [line] = [ln for ln in table.splitlines() if "cách ly:" in ln and name in ln]
        assert _says(line, words)
