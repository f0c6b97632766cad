"""KHOLUU_OCR_MODEL: the model is a setting, validated once, and recorded with every page."""

from __future__ import annotations

from pathlib import Path

import pytest

from kholuu.errors import SettingsError
from kholuu.settings import MODELS, load_settings, model_dir, settings_env
from ocr import OcrOptions, ocr_page
from ocr.synthetic import party_page


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"KHOLUU_HOME": str(tmp_path / "home"), **extra}


def test_model_names_select_their_folders(tmp_path):
    models = tmp_path / "models"
    for name in ("4.0.0", "4.0.0_best_int"):
        (models / name).mkdir(parents=True)
        (models / name / "vie.traineddata").write_bytes(b"model " + name.encode())
    for name in MODELS:
        s = load_settings(_env(tmp_path, KHOLUU_OCR_MODEL=name, KHOLUU_OCR_MODELS_DIR=str(models)))
        assert s.ocr_model == name
        assert s.tessdata_dir == (None if name == "fast" else (models / name).resolve())
    # an explicit tessdata folder wins over the model's
    other = tmp_path / "other"
    other.mkdir()
    s = load_settings(_env(tmp_path, KHOLUU_OCR_MODEL="4.0.0", KHOLUU_OCR_MODELS_DIR=str(models),
                           KHOLUU_TESSDATA_DIR=str(other)))
    assert s.tessdata_dir == other.resolve()
    # settings survive the round trip through the environment (Dagster runs, subprocesses)
    s = load_settings(_env(tmp_path, KHOLUU_OCR_MODEL="4.0.0_best_int", KHOLUU_OCR_MODELS_DIR=str(models)))
    again = load_settings(settings_env(s))
    assert (again.ocr_model, again.tessdata_dir) == (s.ocr_model, s.tessdata_dir)


def test_unknown_or_missing_model_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="KHOLUU_OCR_MODEL='best'.*expected one of fast, 4.0.0, 4.0.0_best_int"):
        load_settings(_env(tmp_path, KHOLUU_OCR_MODEL="best"))
    with pytest.raises(SettingsError, match=r"KHOLUU_OCR_MODEL=4.0.0: no .*empty/4.0.0/vie.traineddata.*scripts/install"):
        load_settings(_env(tmp_path, KHOLUU_OCR_MODEL="4.0.0", KHOLUU_OCR_MODELS_DIR=str(tmp_path / "empty")))


@pytest.mark.slow
def test_installed_npm_model_reads_a_page_and_is_recorded(tmp_path):
    """scripts/install unpacks @tesseract.js-data/vie; the page records the model it was read with."""
    import os

    folder = model_dir("4.0.0_best_int", os.environ)
    assert folder is not None, "4.0.0_best_int missing: scripts/install fetches it with npm"
    s = load_settings(_env(tmp_path, KHOLUU_OCR_MODEL="4.0.0_best_int"))
    options = OcrOptions.from_settings(s)
    fast = OcrOptions.from_settings(load_settings(_env(tmp_path, KHOLUU_OCR_MODEL="fast")))
    assert options.settings_hash() != fast.settings_hash()  # another model, another cache entry
    path = tmp_path / "page.png"
    party_page(300).image.save(path, dpi=(300, 300))
    result = ocr_page(path, options, source="page.png", page=1)
    assert "Số 08-CT/TU" in result.text
    assert result.engine.endswith("vie (4.0.0_best_int)")
    assert result.settings_hash == options.settings_hash()
