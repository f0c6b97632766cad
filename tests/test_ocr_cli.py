"""`kholuu ocr` through a real subprocess: JSON shape, multi-page files, bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import img2pdf
import pytest

from ocr.synthetic import Line, render

LINES = [Line("Số 08-CT/TU", 0.4, 0.3, 13), Line("xây dựng nông thôn mới", 0.4, 0.8, 13)]


def _kholuu(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "KHOLUU_HOME": str(home), "KHOLUU_OCR_WORKERS": "2"}
    return subprocess.run([sys.executable, "-m", "kholuu.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.mark.slow
def test_ocr_json_on_good_and_bad_files(tmp_path):
    page = render(LINES, dpi=300, size_in=(3.5, 1.2))
    png = tmp_path / "trang.png"
    page.image.save(png, dpi=(300, 300))
    tif = tmp_path / "hop.tif"
    page.image.save(tif, save_all=True, append_images=[page.image], compression="tiff_lzw", dpi=(300, 300))
    pdf = tmp_path / "van-ban.pdf"
    pdf.write_bytes(img2pdf.convert([str(png)]))
    bad = tmp_path / "hong.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    proc = _kholuu(["ocr", "--json", str(png), str(bad), str(tif), str(pdf)], tmp_path / "home")
    assert proc.returncode == 2, proc.stderr
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 1 and "hong.jpg" in errors[0] and "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    pages = data["pages"]
    assert [(p["source"], p["page"]) for p in pages] == [(str(png), 1), (str(tif), 1), (str(tif), 2), (str(pdf), 1)]
    for p in pages:
        assert set(p) == {"source", "page", "text", "confidence", "words"}
        assert "08-CT/TU" in p["text"] and "nông thôn mới" in p["text"]
        assert 0 <= p["confidence"] <= 100
        word = p["words"][0]
        assert set(word) == {"text", "conf", "bbox"} and len(word["bbox"]) == 4


def test_ocr_plain_text_output(tmp_path):
    page = render(LINES, dpi=300, size_in=(3.5, 1.2))
    png = tmp_path / "trang.png"
    page.image.save(png, dpi=(300, 300))
    proc = _kholuu(["ocr", str(png)], tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"==> {png}") and "xây dựng nông thôn mới" in proc.stdout
